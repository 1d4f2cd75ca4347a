/** A panel's keyboard shortcuts, shown on the panel itself so nobody has to remember them. */
export function KeyList({ title, keys }: { title: string; keys: ReadonlyArray<readonly [string, string]> }) {
  return (
    <details className="keys">
      <summary>{title}</summary>
      <dl>
        {keys.map(([k, what]) => (
          <div key={k}>
            <dt>
              <kbd>{k}</kbd>
            </dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}
