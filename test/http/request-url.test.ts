/**
 * Decisions made on the request URL: credentials in the query string (refused and masked in the
 * request log, however the name is spelled, encoded or nested) and path-based headers
 * (`Cache-Control: no-store` on API answers however the path is spelled). Real servers, real
 * sockets: the raw request line is sent as written, without a client normalizing it first.
 */
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  credentialParameter,
  decodeLeniently,
  isApiPath,
  normalizedPath,
  redactUrl,
} from '../../src/http/request-url.js';
import { seedWorkspace, startServer, type Seeded, type Server } from './support.js';

/** GET with the request line exactly as given (fetch would normalize `/./`, `//`, `\`). */
function rawGet(
  server: Server,
  path: string,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function percent(char: string, lower: boolean): string {
  const hex = [...Buffer.from(char, 'utf8')]
    .map((byte) => `%${byte.toString(16).padStart(2, '0')}`)
    .join('');
  return lower ? hex : hex.toUpperCase();
}

/** One character as a client, a proxy or an attacker may write it in a query string. */
const spelledChar = (char: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(char),
    fc.constant(char.toUpperCase()),
    fc.boolean().map((lower) => percent(char, lower)),
    fc.boolean().map((lower) => percent(char.toUpperCase(), lower)),
    // Double encoding: `%255F` is `_` to anything that decodes twice.
    fc.constant(percent(char, false).replace(/%/g, '%25')),
  );

/** Word separators inside a name, each read the same by some parser or framework. */
const separator = fc.constantFrom('_', '-', '.', '', '+', '%20', '%5F', '%2D', '%255F');

/** Credential names in their usual spellings, split into words. */
const CREDENTIAL_WORDS: ReadonlyArray<readonly string[]> = [
  ['api', 'key'],
  ['apikey'],
  ['key'],
  ['token'],
  ['access', 'token'],
  ['x', 'api', 'key'],
  ['api', 'token'],
  ['auth', 'token'],
  ['authorization'],
  ['bearer'],
  ['password'],
  ['secret'],
  ['tk', 'session'],
  ['session', 'token'],
];

const spelledWord = (word: string): fc.Arbitrary<string> =>
  fc.tuple(...[...word].map(spelledChar)).map((chars) => chars.join(''));

const spelledName: fc.Arbitrary<string> = fc
  .constantFrom(...CREDENTIAL_WORDS)
  .chain((words) =>
    fc.tuple(
      fc.tuple(...words.map(spelledWord)),
      fc.array(separator, { minLength: words.length, maxLength: words.length }),
    ),
  )
  .map(([words, seps]) => words.map((w, i) => (i === 0 ? w : `${seps[i] ?? '_'}${w}`)).join(''));

/** Where the name sits: alone, with bracket or dot nesting around it, padded with blanks. */
const placedName: fc.Arbitrary<string> = fc
  .tuple(
    spelledName,
    fc.constantFrom(
      (n: string) => n,
      (n: string) => `${n}[]`,
      (n: string) => `${n}%5B%5D`,
      (n: string) => `${n}[x]`,
      (n: string) => `${n}[a][b]`,
      (n: string) => `a[${n}]`,
      (n: string) => `a[b][${n}]`,
      (n: string) => `a%5B${n}%5D`,
      (n: string) => `a.${n}`,
      (n: string) => `+${n}+`,
      (n: string) => `%00${n}`,
    ),
  )
  .map(([name, place]) => place(name));

const BENIGN = ['q=action%3Auser.login', 'limit=5', 'cursor=abc', 'q=key%3Avalue', 'order=newest'];

/** A query string with a credential parameter among innocent ones, and the secret it carries. */
const queryWithCredential = fc
  .record({
    name: placedName,
    secret: fc.stringMatching(/^[0-9A-Za-z]{16}$/).map((s) => `S3CRET${s}`),
    encodeValue: fc.boolean(),
    bare: fc.boolean(),
    before: fc.subarray(BENIGN),
    after: fc.subarray(BENIGN),
    separator: fc.constantFrom('&', ';'),
  })
  .map((r) => {
    const value = r.encodeValue ? [...r.secret].map((c) => percent(c, false)).join('') : r.secret;
    const pair = r.bare ? r.name : `${r.name}=${value}`;
    const pairs = [...r.before, pair, ...r.after];
    return { query: pairs.join(r.separator), secret: r.bare ? undefined : r.secret };
  });

describe('credential names in the query string', () => {
  test('every spelling, encoding and nesting of a credential name is recognised', () => {
    fc.assert(
      fc.property(queryWithCredential, ({ query }) => {
        expect(credentialParameter(`/api/v1/x?${query}`)).toBeDefined();
      }),
      { numRuns: 2000 },
    );
  });

  test('the parameters the API reads are not mistaken for credentials', () => {
    for (const query of [
      'q=key:value',
      'q=token%3Aabc&limit=5',
      'cursor=abc&order=oldest&direction=newer',
      'format=csv&type=entities&as_of=2026-01-01',
      'prefix=tk_read_AbC12345',
      'monkey=1&keys=2&tokenizer=3&idempotency_key=4',
    ]) {
      expect(credentialParameter(`/api/v1/x?${query}`), query).toBeUndefined();
    }
  });

  test('masking keeps everything but the credential values', () => {
    expect(redactUrl('/api/v1/x?q=a&api_key=tk_read_abc&Token=zz#f')).toBe(
      '/api/v1/x?q=a&api_key=[REDACTED]&Token=[REDACTED]#f',
    );
    expect(redactUrl('/api/v1/x?key[]=s1&access_token[x]=s2&api%5Fkey=s3;a[b][token]=s4')).toBe(
      '/api/v1/x?key[]=[REDACTED]&access_token[x]=[REDACTED]&api%5Fkey=[REDACTED];a[b][token]=[REDACTED]',
    );
    expect(redactUrl('/api/v1/x?q=key:value&limit=5')).toBe('/api/v1/x?q=key:value&limit=5');
    // A whole key is masked under any name and in the path.
    const key = 'tk_read_0123456789abcdefghijABCDEFGHIJ';
    expect(redactUrl(`/api/v1/${key}?q=${encodeURIComponent(key)}`)).toBe(
      '/api/v1/[REDACTED]?q=[REDACTED]',
    );
  });
});

describe('a real server with its request log captured', () => {
  let server: Server;
  let ws: Seeded;
  const lines: string[] = [];

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    server = await startServer({ rateLimit: false, logger: { level: 'info', stream } });
    ws = await seedWorkspace(server, 'acme');
  });

  afterAll(async () => {
    await server.close();
  });

  /** The log as text and as any decoder would read it. */
  function logText(): string {
    const text = lines.join('');
    return `${text}\n${decodeLeniently(text.replace(/\+/g, ' '))}`;
  }

  test('the forms from the report are refused and logged masked', async () => {
    lines.length = 0;
    for (const query of [
      `key[]=${ws.keys.read}`,
      `access_token[x]=${ws.keys.read}`,
      `api%5Fkey=${ws.keys.read}`,
      `q=x;token=${ws.keys.read}`,
    ]) {
      const answer = await rawGet(server, `/api/v1/workspaces/acme/events?${query}`, {
        authorization: `Bearer ${ws.keys.read}`,
      });
      expect(answer.status, query).toBe(401);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'key_in_query_string' });
    }
    // Unknown API paths refuse (and mask) the same way.
    const unknown = await rawGet(server, `/api/v1/nothing?key[]=${ws.keys.read}`);
    expect(unknown.status).toBe(401);
    expect(lines.length).toBeGreaterThan(0);
    expect(logText()).not.toContain(ws.keys.read);
  });

  test('any credential parameter is refused, and its value never reaches the log', async () => {
    lines.length = 0;
    const secrets: string[] = [];
    await fc.assert(
      fc.asyncProperty(queryWithCredential, async ({ query, secret }) => {
        if (secret !== undefined) secrets.push(secret);
        const answer = await rawGet(server, `/api/v1/workspaces/acme/events?${query}`, {
          authorization: `Bearer ${ws.keys.read}`,
        });
        expect(answer.status, query).toBe(401);
        expect((JSON.parse(answer.body) as { code: string }).code).toBe('key_in_query_string');
        if (secret !== undefined) expect(answer.body).not.toContain(secret);
      }),
      { numRuns: 150 },
    );
    const text = logText();
    expect(lines.length).toBeGreaterThan(150);
    expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
  });

  test('a whole API key under an innocent name or in the path is masked in the log', async () => {
    lines.length = 0;
    const key = ws.keys.read;
    const spelled = [...key].map((c) => percent(c, false)).join('');
    for (const path of [
      `/api/v1/workspaces/acme/events?q=${key}`,
      `/api/v1/workspaces/acme/events?q=${spelled}`,
      `/api/v1/workspaces/acme/events?${key}`,
      `/api/v1/${key}`,
      `/w/acme?note=${key}`,
    ]) {
      await rawGet(server, path, { authorization: `Bearer ${ws.keys.admin}` });
    }
    expect(lines.length).toBeGreaterThan(0);
    expect(logText()).not.toContain(key);
  });
});

describe('path-based decisions use the normalized path', () => {
  let server: Server;
  let ws: Seeded;

  beforeAll(async () => {
    server = await startServer({ rateLimit: false });
    ws = await seedWorkspace(server, 'acme');
  });

  afterAll(async () => {
    await server.close();
  });

  test('normalization folds what routers, browsers and proxies fold', () => {
    expect(normalizedPath('/%61pi/v1/events?x=1')).toBe('/api/v1/events');
    expect(normalizedPath('/API/V1/')).toBe('/api/v1');
    expect(normalizedPath('//api//v1')).toBe('/api/v1');
    expect(normalizedPath('/api/./v1/../v1')).toBe('/api/v1');
    expect(normalizedPath('/api%2Fv1%2fevents')).toBe('/api/v1/events');
    expect(normalizedPath('/api%252Fv1')).toBe('/api/v1');
    expect(normalizedPath('\\api\\v1')).toBe('/api/v1');
    expect(normalizedPath('/api;jsessionid=1/v1')).toBe('/api/v1');
    expect(normalizedPath('/../../etc')).toBe('/etc');
    expect(isApiPath('/w/api')).toBe(false);
    expect(isApiPath('/apis')).toBe(false);
    expect(isApiPath('/%6Fpenapi.json')).toBe(true);
  });

  test('every spelling of an API path answers with Cache-Control: no-store', async () => {
    const auth = { authorization: `Bearer ${ws.keys.read}` };
    for (const path of [
      '/%61pi/v1/workspaces/acme/events',
      '/api/v1/workspaces/%61cme/events',
      '/API/v1/workspaces/acme/events',
      '//api/v1/workspaces/acme/events',
      '/api/./v1/workspaces/acme/events',
      '/api%2Fv1/workspaces/acme/events',
      '/api/v1%2Fworkspaces%2Facme%2Fevents',
      '/api/v1/workspaces/acme/events/',
      '/%61pi/v1/healthz',
      '/%6Fpenapi.json',
    ]) {
      const answer = await rawGet(server, path, auth);
      expect(answer.headers['cache-control'], `${path} -> ${answer.status}`).toBe('no-store');
      // Unknown spellings are API 404s, never the viewer's page.
      if (answer.status !== 200) {
        expect(answer.headers['content-type'], path).toMatch(/^application\/problem\+json/);
      }
    }
    const routed = await rawGet(server, '/%61pi/v1/workspaces/acme/events', auth);
    expect(routed.status).toBe(200);
  });
});
