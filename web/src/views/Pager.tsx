export interface PagerProps {
  /** Toward newer events; null on the newest page. */
  readonly newer: string | null;
  /** Toward older events; null on the oldest page. */
  readonly older: string | null;
  readonly onPage: (cursor: string) => void;
  readonly label: string;
}

/** Newer/Older by cursor: each cursor carries the whole question, so paging never widens it. */
export function Pager({ newer, older, onPage, label }: PagerProps) {
  return (
    <nav className="pager" aria-label={label}>
      <button
        type="button"
        className="button"
        disabled={newer === null}
        onClick={() => newer !== null && onPage(newer)}
      >
        ← Newer
      </button>
      <button
        type="button"
        className="button"
        disabled={older === null}
        onClick={() => older !== null && onPage(older)}
      >
        Older →
      </button>
    </nav>
  );
}
