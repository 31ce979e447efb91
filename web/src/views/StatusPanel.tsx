export interface StatusPanelProps {
  readonly kind: 'loading' | 'empty' | 'error';
  readonly title: string;
  readonly detail?: string;
  readonly action?: { readonly label: string; readonly onClick: () => void };
}

/** A whole-area message: loading, nothing to show, or an error with a way forward. */
export function StatusPanel({ kind, title, detail, action }: StatusPanelProps) {
  return (
    <div
      className={`status status--${kind}`}
      role={kind === 'error' ? 'alert' : 'status'}
      aria-busy={kind === 'loading'}
    >
      {kind === 'loading' && <span className="spinner" aria-hidden="true" />}
      <p className="status__title">{title}</p>
      {detail !== undefined && <p className="status__detail">{detail}</p>}
      {action !== undefined && (
        <button type="button" className="button" onClick={action.onClick}>
          {action.label}
        </button>
      )}
    </div>
  );
}
