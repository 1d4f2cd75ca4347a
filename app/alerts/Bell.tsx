import type { MouseEvent } from 'react';

/**
 * The bell that opens a price alert, on the quote board's rows, the ladder's title and the chart's
 * toolbar: an icon drawn here, not an emoji a desk's system may have no font for.
 */
export function AlertBell({
  label,
  title = label,
  onClick,
}: {
  label: string;
  title?: string;
  onClick(e: MouseEvent<HTMLButtonElement>): void;
}) {
  return (
    <button
      type="button"
      className="link bell"
      aria-label={label}
      title={title}
      onClick={onClick}
      // A double-click on a board row opens the ticket: not when it was on the bell.
      onDoubleClick={(e) => e.stopPropagation()}
    >
      <svg viewBox="0 0 16 16" width="15" height="15" aria-hidden="true" focusable="false">
        <path
          fill="currentColor"
          d="M8 1.5a1 1 0 0 1 1 1v.6a4.5 4.5 0 0 1 3.5 4.4v2.8l1.3 1.6a.6.6 0 0 1-.5 1H2.7a.6.6 0 0 1-.5-1l1.3-1.6V7.5A4.5 4.5 0 0 1 7 3.1v-.6a1 1 0 0 1 1-1zM6.3 14h3.4a1.7 1.7 0 0 1-3.4 0z"
        />
      </svg>
    </button>
  );
}
