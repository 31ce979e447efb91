/**
 * What the middleware learns from a request, for any framework: the client's IP (through
 * X-Forwarded-For only from trusted proxies), its user agent, and a request id. Also the
 * request-scoped `audit` function handed to route handlers.
 */
import { BlockList, isIP } from 'node:net';
import type { Actor, EventContext } from '../../core/event.js';
import type { RecordInput, TrailkeepClient } from '../client.js';
import { TrailkeepClientError } from '../errors.js';
import { newRequestId } from '../ids.js';

/**
 * Which peers may set X-Forwarded-For: `false` (default) none, the socket's address is the
 * client; `true` every one (only behind a proxy that overwrites the header); or a list of
 * addresses and CIDR ranges, plus the names `loopback`, `linklocal` and `uniquelocal`.
 */
export type TrustProxy = boolean | readonly string[];

export interface AuditMiddlewareOptions<Req> {
  /** The signed-in actor of a request, from the product's own authentication. */
  actor: (request: Req) => Actor | undefined;
  trustProxy?: TrustProxy;
}

/** What `req.audit(...)` accepts: an event whose actor defaults to the request's actor. */
export type AuditInput = Omit<RecordInput, 'actor'> & { actor?: Actor };
export type AuditFunction = (event: AuditInput) => Promise<void>;

// A Map: an entry such as "constructor" must read as an address to check, not as Object.
const NAMED_RANGES: ReadonlyMap<string, readonly string[]> = new Map([
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['linklocal', ['169.254.0.0/16', 'fe80::/10']],
  ['uniquelocal', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']],
]);

const MAX_USER_AGENT = 512;
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** `::ffff:10.0.0.1` -> `10.0.0.1`; `[::1]:443` and `1.2.3.4:80` -> the address; else undefined. */
export function normalizeAddress(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let value = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed?.[1] !== undefined) value = bracketed[1];
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(value))
    value = value.slice(0, value.lastIndexOf(':'));
  const mapped = /^::ffff:(\d{1,3}(\.\d{1,3}){3})$/i.exec(value);
  if (mapped?.[1] !== undefined) value = mapped[1];
  return isIP(value) === 0 ? undefined : value;
}

/** Builds the trust test once per middleware. Throws on a malformed entry, at setup time. */
export function trustTest(trust: TrustProxy | undefined): (address: string) => boolean {
  if (trust === undefined || trust === false) return () => false;
  if (trust === true) return () => true;
  const list = new BlockList();
  for (const item of trust.flatMap((entry) => NAMED_RANGES.get(entry) ?? [entry])) {
    const [address, bits] = item.split('/');
    const normalized = normalizeAddress(address);
    const family = normalized === undefined ? 0 : isIP(normalized);
    const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
    if (
      normalized === undefined ||
      !Number.isInteger(prefix) ||
      prefix < 0 ||
      prefix > (family === 4 ? 32 : 128)
    ) {
      throw new TrailkeepClientError(
        'invalid_options',
        `trustProxy: "${item}" is not an address or CIDR range`,
      );
    }
    list.addSubnet(normalized, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return (address) => list.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * The client's address: walk from the socket peer leftwards through X-Forwarded-For while the
 * hop in hand is a trusted proxy; the first untrusted hop is the client. A forged header from
 * an untrusted peer is therefore never believed.
 */
export function clientAddress(
  remoteAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: (address: string) => boolean,
): string | undefined {
  let current = normalizeAddress(remoteAddress);
  if (current === undefined) return undefined;
  const hops = (header(forwardedFor) ?? '')
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '')
    .reverse();
  for (const hop of hops) {
    if (!trusted(current)) return current;
    const next = normalizeAddress(hop);
    // Garbage behind a trusted proxy: the proxy's own view is the best we have.
    if (next === undefined) return current;
    current = next;
  }
  return current;
}

export interface RequestFacts {
  remoteAddress: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/** Context for the request and the id to echo back in the X-Request-Id response header. */
export function requestContext(
  facts: RequestFacts,
  trusted: (address: string) => boolean,
): { context: EventContext; requestId: string } {
  const given = header(facts.headers['x-request-id'])?.trim();
  const requestId = given !== undefined && REQUEST_ID.test(given) ? given : newRequestId();
  const context: EventContext = { request_id: requestId };
  const ip = clientAddress(facts.remoteAddress, facts.headers['x-forwarded-for'], trusted);
  if (ip !== undefined) context.ip = ip;
  const userAgent = header(facts.headers['user-agent']);
  if (userAgent !== undefined && userAgent !== '')
    context.user_agent = userAgent.slice(0, MAX_USER_AGENT);
  return { context, requestId };
}

/**
 * The request-scoped `audit`: the request's actor (looked up when audit is called, after the
 * product's authentication ran) and context, each overridable per event.
 */
export function auditFunction(
  client: Pick<TrailkeepClient, 'record'>,
  context: EventContext,
  actor: () => Actor | undefined,
): AuditFunction {
  return (event) => {
    const resolved = event.actor ?? actor();
    if (resolved === undefined) {
      return Promise.reject(
        new TrailkeepClientError(
          'missing_actor',
          `audit("${event.action}"): no actor for this request; pass event.actor`,
        ),
      );
    }
    return client.record({ ...event, actor: resolved, context: { ...context, ...event.context } });
  };
}
