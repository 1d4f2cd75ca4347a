import { type PlainId, say, type Text, useT } from '../i18n/i18n.ts';

/** A panel's keyboard shortcuts, shown on the panel itself so nobody has to remember them. */
export function KeyList({ title, keys }: { title: string; keys: ReadonlyArray<readonly [Text, PlainId]> }) {
  const t = useT();
  return (
    <details className="keys">
      <summary>{title}</summary>
      <dl>
        {keys.map(([k, what]) => (
          <div key={what}>
            <dt>
              <kbd>{say(k)}</kbd>
            </dt>
            <dd>{t(what)}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}
