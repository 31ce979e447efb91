import type { ApiProblem, VerifyResult, WitnessStatus } from '../api.js';
import { fullTime, shortTime } from '../format.js';

export interface IntegrityBadgeProps {
  readonly result: VerifyResult | null;
  readonly loading: boolean;
  readonly error: ApiProblem | null;
  readonly witnesses?: readonly WitnessStatus[] | null;
  readonly checkpointHref: string;
  readonly onReverify: () => void;
}

/** The chain's verdict for this workspace, and a signed checkpoint to keep as proof. */
export function IntegrityBadge({
  result,
  loading,
  error,
  witnesses,
  checkpointHref,
  onReverify,
}: IntegrityBadgeProps) {
  let tone: 'ok' | 'broken' | 'unknown' = 'unknown';
  let text = 'Checking the hash chain…';
  let title: string | undefined;
  if (result !== null && !loading) {
    if (result.ok) {
      tone = 'ok';
      text = `Intact up to seq ${result.head.seq.toLocaleString('en-US')}, checked ${shortTime(result.verified_at)}`;
      title = `${result.checked.toLocaleString('en-US')} events verified; head hash ${result.head.hash}; ${fullTime(result.verified_at)}`;
    } else {
      tone = 'broken';
      const seq = result.problem?.seq ?? result.head.seq;
      text = `Broken at seq ${seq.toLocaleString('en-US')}: ${result.problem?.message ?? 'the chain does not verify'}`;
      title = `Checked ${fullTime(result.verified_at)}`;
    }
  } else if (error !== null && !loading) {
    text = `Integrity not checked: ${error.message}`;
  }
  // A witness refusing outweighs a chain that verifies here: the database may have been rewritten.
  const refused = witnesses?.some((w) => w.status === 'failing') ?? false;
  return (
    <section
      className={`integrity integrity--${tone}${refused ? ' integrity--refused' : ''}`}
      aria-label="Integrity"
    >
      <p className="integrity__status" role="status" title={title}>
        <span className="integrity__icon" aria-hidden="true">
          {tone === 'ok' ? '✓' : tone === 'broken' ? '✗' : '…'}
        </span>
        {text}
      </p>
      {witnesses !== undefined && witnesses !== null && witnesses.length > 0 && (
        <ul className="integrity__witnesses" aria-label="Witnesses">
          {witnesses.map((w) => (
            <WitnessLine key={w.name} witness={w} />
          ))}
        </ul>
      )}
      <div className="integrity__actions">
        <button
          type="button"
          className="button button--quiet"
          onClick={onReverify}
          disabled={loading}
        >
          Check again
        </button>
        <a className="button button--quiet" href={checkpointHref} download>
          Download signed checkpoint
        </a>
      </div>
    </section>
  );
}

/**
 * One witness: how far it has cosigned the log, or, loudly, that it refuses: a witness refusing
 * a checkpoint means the history it saw before was changed.
 */
function WitnessLine({ witness }: { witness: WitnessStatus }) {
  const cosigned =
    witness.cosigned_size === null
      ? 'has not cosigned yet'
      : `cosigned up to seq ${witness.cosigned_size.toLocaleString('en-US')}`;
  if (witness.status === 'failing') {
    return (
      <li
        className="integrity__witness integrity__witness--failing"
        role="alert"
        title={witness.last_error_at === null ? undefined : fullTime(witness.last_error_at)}
      >
        ⚠ Witness {witness.name} refuses: {witness.last_error} ({cosigned})
      </li>
    );
  }
  return (
    <li
      className={`integrity__witness integrity__witness--${witness.status}`}
      title={witness.cosigned_at === null ? undefined : fullTime(witness.cosigned_at)}
    >
      {witness.status === 'ok' ? '✓' : '…'} Witness {witness.name} {cosigned}
    </li>
  );
}
