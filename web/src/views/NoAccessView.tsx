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
      <div className="no-access__icon" aria-hidden="true">
        🔒
      </div>
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
