export interface NoAccessViewProps {
  /** The workspace's name, when known. */
  readonly workspace: string;
  /** The person's role there, when known. */
  readonly role?: string;
}

/**
 * What a person without a reading role sees instead of the log: never a partial view, and a
 * clear way forward.
 */
export function NoAccessView({ workspace, role }: NoAccessViewProps) {
  return (
    <section className="no-access" aria-labelledby="no-access-title">
      <svg className="no-access__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
        <rect x="5" y="10" width="14" height="10" rx="2" />
        <path d="M8 10V7a4 4 0 0 1 8 0v3" />
      </svg>
      <h1 id="no-access-title">You don&apos;t have access to this audit log</h1>
      <p>
        {role === undefined ? (
          <>
            Your account cannot read the audit log of <strong>{workspace}</strong>.
          </>
        ) : (
          <>
            You are a <strong>{role}</strong> of <strong>{workspace}</strong>. Only owners, admins
            and auditors can read its audit log.
          </>
        )}
      </p>
      <p>Ask an owner or admin of this workspace to give you the auditor role if you need it.</p>
    </section>
  );
}
