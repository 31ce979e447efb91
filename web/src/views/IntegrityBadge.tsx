import type { ApiProblem, VerifyResult } from '../api.js';
import { fullTime, shortTime } from '../format.js';

export interface IntegrityBadgeProps {
  readonly result: VerifyResult | null;
  readonly loading: boolean;
  readonly error: ApiProblem | null;
  readonly checkpointHref: string;
  readonly onReverify: () => void;
}

/** The chain's verdict for this workspace, and a signed checkpoint to keep as proof. */
export function IntegrityBadge({
  result,
  loading,
  error,
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
  return (
    <section className={`integrity integrity--${tone}`} aria-label="Integrity">
      <p className="integrity__status" role="status" title={title}>
        <span className="integrity__icon" aria-hidden="true">
          {tone === 'ok' ? '✓' : tone === 'broken' ? '✗' : '…'}
        </span>
        {text}
      </p>
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
