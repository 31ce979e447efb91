/**
 * The origin line of a workspace's checkpoints (C2SP tlog-checkpoint): `<host>/<workspace>`, a
 * schema-less URL naming the log. The host is chosen per deployment and never taken from a
 * request: a Host header is the client's to choose, and a server that signed whatever origin it
 * was asked for would hand out checkpoints claiming to be any log.
 */
import { TrailkeepError } from './errors.js';

/** A DNS name or an IP literal, with an optional port; lower case so one log has one origin. */
const ORIGIN_HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;
const MAX_HOST = 253;

export const DEFAULT_LOG_ORIGIN_HOST = 'localhost';

export function isLogOriginHost(host: string): boolean {
  return host.length <= MAX_HOST && ORIGIN_HOST.test(host);
}

export function checkLogOriginHost(host: string): string {
  if (!isLogOriginHost(host)) {
    throw new TrailkeepError(
      'bad_request',
      `the log origin host ${JSON.stringify(host.slice(0, 80))} is not a lower-case host name ` +
        'or IP literal with an optional port (e.g. audit.example.com)',
    );
  }
  return host;
}

export function logOrigin(host: string, workspace: string): string {
  return `${host}/${workspace}`;
}
