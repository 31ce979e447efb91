/**
 * A C2SP tlog-witness (c2sp.org/tlog-witness): it keeps the latest checkpoint it cosigned per
 * log and cosigns (tlog-cosignature v1) a new one only when the log's signature verifies and a
 * consistency proof shows it extends that checkpoint. A log that rewrote, cut or forked its
 * history cannot get a cosignature, so a checkpoint carrying one was seen by someone else too.
 *
 * The checks, in the spec's order: a malformed body 400; an origin it does not follow 404; no
 * verifying signature by a trusted key of the log 403; an old size above the checkpoint's 400;
 * an old size other than the one it cosigned 409 (the caller answers text/x.tlog.size); a
 * consistency proof that fails, or equal sizes with different roots, 422.
 */
import { TrailkeepError } from '../core/errors.js';
import { openCheckpoint, parseCheckpoint, type TreeHead } from '../core/tlog/checkpoint.js';
import { EMPTY_ROOT, verifyConsistency } from '../core/tlog/merkle.js';
import {
  SIGNATURE_COSIGNATURE_V1,
  parseNote,
  signatureLines,
  type NoteSigner,
  type NoteVerifier,
} from '../core/tlog/note.js';
import { quote } from '../core/tlog/text.js';
import { parseAddCheckpoint, type AddCheckpointRequest } from '../core/tlog/witness.js';
import type { WitnessState } from './state.js';

export type AddCheckpointAnswer =
  | { readonly status: 200; readonly body: string; readonly size: number }
  | { readonly status: 409; readonly size: number };

export interface WitnessOptions {
  /** The witness's cosigner key (type 0x04). */
  readonly signer: NoteSigner;
  /** The logs it follows: origin to the log's trusted verifier keys. */
  readonly logs: ReadonlyMap<string, readonly NoteVerifier[]>;
  readonly state: WitnessState;
  /** POSIX seconds; a cosignature's time must not be zero. */
  readonly now?: () => number;
}

export class Witness {
  private readonly now: () => number;

  constructor(private readonly options: WitnessOptions) {
    if (options.signer.type !== SIGNATURE_COSIGNATURE_V1) {
      throw new TrailkeepError('internal', 'a witness signs cosignatures (type 0x04)');
    }
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  get name(): string {
    return this.options.signer.name;
  }

  addCheckpoint(body: string): AddCheckpointAnswer {
    const request = parseAddCheckpoint(body);
    const head = this.checkpointHead(request.checkpoint);
    const logKeys = this.options.logs.get(head.origin);
    if (logKeys === undefined) {
      throw new TrailkeepError(
        'unknown_log',
        `this witness does not follow the log ${quote(head.origin)}`,
      );
    }
    const opened = openCheckpoint(request.checkpoint, { origin: head.origin, logKeys });
    if (!opened.ok) {
      throw new TrailkeepError(
        'log_signature_invalid',
        `the checkpoint is refused: ${opened.reason}`,
      );
    }
    if (request.oldSize > head.size) {
      throw new TrailkeepError(
        'bad_request',
        `the old size ${request.oldSize} is larger than the checkpoint's size ${head.size}`,
      );
    }
    const outcome = this.options.state.exchange(head.origin, (stored) =>
      this.decide(request, head, stored),
    );
    if (outcome.status === 422) {
      this.options.state.recordRefusal(
        head.origin,
        this.now(),
        422,
        outcome.reason,
        request.checkpoint,
      );
      throw new TrailkeepError('checkpoint_inconsistent', outcome.reason, {
        extra: { witnessed_size: outcome.size },
      });
    }
    return outcome;
  }

  private checkpointHead(note: string): TreeHead {
    const { text } = parseNote(note);
    return parseCheckpoint(text);
  }

  private decide(
    request: AddCheckpointRequest,
    head: TreeHead,
    stored: { size: number; root: Buffer } | undefined,
  ): {
    next?: { origin: string; size: number; root: Buffer; checkpoint: string; cosignedAt: number };
    result: AddCheckpointAnswer | { status: 422; reason: string; size: number };
  } {
    const storedSize = stored?.size ?? 0;
    if (request.oldSize !== storedSize) return { result: { status: 409, size: storedSize } };
    const oldRoot = stored?.root ?? EMPTY_ROOT;
    if (!verifyConsistency(request.oldSize, head.size, request.proof, oldRoot, head.root)) {
      const reason =
        head.size === 0
          ? 'a checkpoint of size 0 must carry the root of the empty tree'
          : request.oldSize === head.size
            ? `the checkpoint has size ${head.size} but not the root this witness cosigned at that size`
            : request.oldSize === 0
              ? 'from an old size of 0 the consistency proof must be empty'
              : `the consistency proof does not show the tree of size ${head.size} extending the tree of size ${request.oldSize} this witness cosigned`;
      return { result: { status: 422, reason, size: storedSize } };
    }
    const time = this.now();
    const text = parseNote(request.checkpoint).text;
    const lines = signatureLines(text, [this.options.signer], time);
    return {
      next: {
        origin: head.origin,
        size: head.size,
        root: head.root,
        checkpoint: request.checkpoint,
        cosignedAt: time,
      },
      result: { status: 200, body: lines.map((l) => `${l}\n`).join(''), size: head.size },
    };
  }
}
