/**
 * The monitor's reader for a log served over HTTP(S): GET <log URL>/<path>, as C2SP
 * tlog-tiles lays it out. The only process I/O of a monitor run besides its own files.
 */
import { MonitorError, type LogReader } from './audit.js';

export interface HttpReaderOptions {
  /** Sent as `Authorization: Bearer <key>` (a Trailkeep `read` key), never in the URL. */
  readonly apiKey?: string | undefined;
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** A note of 100 signatures is far below; a bundle is at most 256 × (2 + 65535) bytes. */
const MAX_CHECKPOINT = 1 << 20;
const MAX_TILE = 256 * 32;
const MAX_BUNDLE = 256 * (2 + 0xffff);

function limitFor(path: string): number {
  if (path === 'checkpoint') return MAX_CHECKPOINT;
  return path.startsWith('tile/entries/') ? MAX_BUNDLE : MAX_TILE;
}

/** The log's base URL, checked once: http(s), no credentials, no query or fragment. */
export function logBaseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new MonitorError(`--log ${JSON.stringify(text.slice(0, 200))} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MonitorError(`--log must be an http or https URL, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    // URLs end up in shell histories and logs; the key has its own flag.
    throw new MonitorError('--log must not carry credentials: pass a read key with --api-key');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new MonitorError('--log is the log prefix, without a query or fragment');
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function networkReason(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** At most `limit + 1` bytes: enough to show that an answer is too long, never more. */
async function readBody(response: Response, limit: number): Promise<Buffer> {
  if (response.body === null) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let length = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(Buffer.from(value));
    length += value.length;
    if (length > limit) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit + 1);
}

/** The `detail` of a problem+json answer, for the one line the user sees. */
function problemDetail(body: Buffer): string {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (value !== null && typeof value === 'object' && Object.hasOwn(value, 'detail')) {
      const detail = (value as { detail: unknown }).detail;
      if (typeof detail === 'string') return `: ${detail.slice(0, 300)}`;
    }
  } catch {
    // Not problem+json: the status says enough.
  }
  return '';
}

export function httpLogReader(base: URL, options: HttpReaderOptions = {}): LogReader {
  const headers: Record<string, string> = { accept: '*/*' };
  if (options.apiKey !== undefined) headers['authorization'] = `Bearer ${options.apiKey}`;
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    async read(path) {
      const url = new URL(path, base);
      let response: Response;
      try {
        // A redirect would carry the key elsewhere: a log is read at the URL it was given.
        response = await fetch(url, {
          headers,
          redirect: 'error',
          signal: AbortSignal.timeout(timeout),
        });
      } catch (error) {
        throw new MonitorError(`cannot read ${url.href}: ${networkReason(error)}`);
      }
      let body: Buffer;
      try {
        body = await readBody(response, limitFor(path));
      } catch (error) {
        throw new MonitorError(`cannot read ${url.href}: ${networkReason(error)}`);
      }
      if (response.status === 200) return body;
      if (response.status === 404) return undefined;
      const hint =
        response.status === 401 || response.status === 403
          ? ' (give a read key with --api-key or TRAILKEEP_API_KEY)'
          : '';
      throw new MonitorError(
        `GET ${url.href} answered ${response.status}${problemDetail(body)}${hint}`,
      );
    },
  };
}
