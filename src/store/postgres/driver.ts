/**
 * The small part of the `pg` driver the adapter uses, declared here so that the driver's own
 * types stay inside this folder, plus the translation of driver failures into Trailkeep errors
 * (unreachable database -> store_unavailable, saturated pool or timed-out statement -> overloaded).
 */
import { TrailkeepError, isTrailkeepError } from '../../core/errors.js';

export type SqlValue = string | number | boolean | null | readonly SqlValue[];

export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number | null;
}

/** Anything that runs a parameterized statement: the pool or one checked-out client. */
export interface Queryable {
  query<Row = Record<string, unknown>>(
    text: string,
    values?: readonly SqlValue[],
  ): Promise<QueryResult<Row>>;
}

export interface PooledClient extends Queryable {
  /** Returns the client; pass `true` to discard it (after an error that may have broken it). */
  release(destroy?: boolean): void;
}

export interface Pool extends Queryable {
  connect(): Promise<PooledClient>;
  end(): Promise<void>;
}

export interface PoolOptions {
  /** Connections per process; default 10. */
  poolSize?: number;
  /** Per statement; default 30 s. Migrations lift it for themselves. */
  statementTimeoutMs?: number;
  /** How long a query waits for a free connection before failing as overloaded; default 10 s. */
  connectionTimeoutMs?: number;
}

/** Trailkeep's own settings in a `postgres://` URL's query, e.g. `?pool_size=20`. */
const URL_SETTINGS = {
  pool_size: 'poolSize',
  statement_timeout_ms: 'statementTimeoutMs',
  connection_timeout_ms: 'connectionTimeoutMs',
} as const satisfies Record<string, keyof PoolOptions>;

/**
 * Splits Trailkeep's pool settings out of a connection URL (so `--db` alone can carry them) and
 * returns the URL the driver should see. Explicit options win over the URL.
 */
export function poolSettings(
  url: string,
  options: PoolOptions = {},
): { url: string; options: PoolOptions } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url, options };
  }
  const fromUrl: PoolOptions = {};
  for (const [param, option] of Object.entries(URL_SETTINGS)) {
    const text = parsed.searchParams.get(param);
    if (text === null) continue;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) {
      throw new TrailkeepError(
        'bad_request',
        `the database URL setting ${param}=${text} must be a positive whole number`,
      );
    }
    fromUrl[option] = value;
    parsed.searchParams.delete(param);
  }
  return { url: parsed.toString(), options: { ...fromUrl, ...options } };
}

/** `host:port` of a connection URL, for messages (never the password). */
export function describeTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`;
  } catch {
    return 'the configured address';
  }
}

/** Opens a pool; the driver module is loaded here, so SQLite-only processes never load it. */
/** The OID of PostgreSQL's bytea type. */
const BYTEA_OID = 17;

/**
 * Type parsers that read bytea as lower-case hex text (the server's `\x0123...` output without
 * its prefix) instead of a Buffer. Hashes and IP keys are stored as bytes since schema version 2
 * but the adapter and the core speak hex, so every query reads them exactly as version 1 stored
 * them. Writes convert with `decode($n, 'hex')`.
 */
function hexBytea<P>(base: (oid: number, format?: 'text' | 'binary') => P) {
  const parseHex = (value: string): string => value.slice(2);
  return (oid: number, format?: 'text' | 'binary'): P =>
    oid === BYTEA_OID && format !== 'binary' ? (parseHex as P) : base(oid, format);
}

export async function createPool(url: string, options: PoolOptions = {}): Promise<Pool> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'trailkeep',
    types: { getTypeParser: hexBytea(pg.types.getTypeParser) },
  });
  // An idle connection can die (server restart, network); the pool drops it and the next query
  // reports the problem. Without a listener the 'error' event would crash the process.
  pool.on('error', () => undefined);
  const target = describeTarget(url);
  const wrap = <T>(promise: Promise<T>): Promise<T> =>
    promise.catch((error: unknown) => {
      throw translateError(error, target);
    });
  return {
    query: async <Row>(text: string, values?: readonly SqlValue[]) =>
      rowsAs<Row>(await wrap(pool.query(text, values && [...values]))),
    connect: async () => {
      const client = await wrap(pool.connect());
      return {
        query: async <Row>(text: string, values?: readonly SqlValue[]) =>
          rowsAs<Row>(await wrap(client.query(text, values && [...values]))),
        release: (destroy?: boolean) => client.release(destroy === true),
      };
    },
    end: () => pool.end(),
  };
}

/** The rows as the caller's declared shape: the SQL text decides the columns, not the driver. */
function rowsAs<Row>(result: { rows: unknown[]; rowCount: number | null }): QueryResult<Row> {
  return { rows: result.rows as Row[], rowCount: result.rowCount };
}

/** SQLSTATE classes and codes that mean "the database is not there for us right now". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, recovery)
  '3D000', // invalid_catalog_name: the database does not exist
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password
  '53300', // too_many_connections
]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error;
  return typeof code === 'string' ? code : undefined;
}

/** The SQLSTATE of a driver error (e.g. `23505`), or undefined. */
export function sqlState(error: unknown): string | undefined {
  const code = errorCode(error);
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map((e) => messageOf(e)).join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}

export function translateError(error: unknown, target: string): unknown {
  if (isTrailkeepError(error)) return error;
  const code = errorCode(error);
  const message = messageOf(error);
  if (
    (code !== undefined && UNREACHABLE_CODES.has(code)) ||
    code?.startsWith('08') === true || // connection_exception class
    /Connection terminated|connect ECONNREFUSED|getaddrinfo/i.test(message)
  ) {
    return new TrailkeepError(
      'store_unavailable',
      `cannot reach PostgreSQL at ${target}: ${message || code || 'connection failed'}`,
      { retryAfter: 5, cause: error },
    );
  }
  if (/timeout exceeded when trying to connect/i.test(message)) {
    return new TrailkeepError(
      'overloaded',
      `every PostgreSQL connection of this process is busy (${target}); retry later`,
      { retryAfter: 1, cause: error },
    );
  }
  if (code === '57014') {
    return new TrailkeepError('overloaded', `a PostgreSQL statement timed out: ${message}`, {
      retryAfter: 1,
      cause: error,
    });
  }
  return translateResourceError(error, code, message);
}

/**
 * The server's own conditions (disk, memory, I/O) and text it cannot store. A NUL or an
 * untranslatable character only ever comes from a request (stored text never holds one), so
 * it is the request's fault: 400, not 500, wherever a check before the query missed it.
 */
function translateResourceError(error: unknown, code: string | undefined, message: string) {
  const options = { cause: error };
  switch (code) {
    case '53100': // disk_full
      return new TrailkeepError('store_full', `PostgreSQL has no room left to write: ${message}`, {
        ...options,
        retryAfter: 30,
      });
    case '53000': // insufficient_resources
    case '53200': // out_of_memory
    case '53400': // configuration_limit_exceeded
      return new TrailkeepError('overloaded', `PostgreSQL is short of resources: ${message}`, {
        ...options,
        retryAfter: 5,
      });
    case '58000': // system_error
    case '58030': // io_error
      return new TrailkeepError(
        'store_io_error',
        `PostgreSQL failed to read or write: ${message}`,
        { ...options, retryAfter: 5 },
      );
    case '25006': // read_only_sql_transaction: a standby, or default_transaction_read_only
      return new TrailkeepError(
        'store_io_error',
        `PostgreSQL refuses to write (the database is read-only, a standby?): ${message}`,
        { ...options, retryAfter: 5 },
      );
    case '22021': // character_not_in_repertoire (a NUL)
    case '22P05': // untranslatable_character
      return new TrailkeepError(
        'bad_request',
        `A text in the request holds a character the database cannot store (such as NUL): ${message}`,
        options,
      );
    default:
      return error;
  }
}

/**
 * Runs `work` in one transaction on one client: COMMIT when it resolves, ROLLBACK when it
 * throws. A client whose rollback failed is discarded rather than returned to the pool.
 * `durable` forces synchronous_commit on for this transaction (sent with BEGIN, no extra round
 * trip), so its COMMIT returns only once the WAL is flushed, whatever the server's default.
 * `snapshot` makes it a read-only transaction whose reads all see one moment.
 */
export async function inTransaction<T>(
  pool: Pool,
  work: (client: Queryable) => Promise<T>,
  options: { durable?: boolean; snapshot?: boolean } = {},
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(
      options.durable === true
        ? 'BEGIN; SET LOCAL synchronous_commit = on'
        : options.snapshot === true
          ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'
          : 'BEGIN',
    );
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Builds `$n` placeholders as values are added, so SQL fragments compose without counting. */
export class Params {
  readonly values: SqlValue[] = [];

  add(value: SqlValue): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
