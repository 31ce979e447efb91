import { describe, expect, it } from 'vitest';
import {
  clientAddress,
  normalizeAddress,
  requestContext,
  trustTest,
} from '../../src/client/middleware/context.js';

describe('clientAddress', () => {
  const cases: Array<{
    name: string;
    remote: string | undefined;
    xff?: string | string[];
    trust: boolean | string[];
    want: string | undefined;
  }> = [
    {
      name: 'no proxy trusted: the socket peer',
      remote: '203.0.113.7',
      xff: '1.1.1.1',
      trust: false,
      want: '203.0.113.7',
    },
    {
      name: 'forged header from an untrusted peer is ignored',
      remote: '198.51.100.9',
      xff: '10.9.9.9',
      trust: ['127.0.0.1'],
      want: '198.51.100.9',
    },
    {
      name: 'trusted proxy: the hop before it',
      remote: '127.0.0.1',
      xff: '203.0.113.7',
      trust: ['127.0.0.1'],
      want: '203.0.113.7',
    },
    {
      name: 'a client-supplied prefix stays ignored',
      remote: '127.0.0.1',
      xff: '6.6.6.6, 203.0.113.7',
      trust: ['loopback'],
      want: '203.0.113.7',
    },
    {
      name: 'two trusted proxies in a chain',
      remote: '10.0.0.2',
      xff: '203.0.113.7, 10.0.0.1',
      trust: ['10.0.0.0/8'],
      want: '203.0.113.7',
    },
    {
      name: 'trust everything: the leftmost hop',
      remote: '10.0.0.2',
      xff: '203.0.113.7, 10.0.0.1',
      trust: true,
      want: '203.0.113.7',
    },
    {
      name: 'repeated headers are one list',
      remote: '127.0.0.1',
      xff: ['6.6.6.6', '203.0.113.8'],
      trust: ['loopback'],
      want: '203.0.113.8',
    },
    {
      name: 'IPv4-mapped peer',
      remote: '::ffff:127.0.0.1',
      xff: '2001:db8::1',
      trust: ['127.0.0.1'],
      want: '2001:db8::1',
    },
    {
      name: 'garbage behind a trusted proxy',
      remote: '127.0.0.1',
      xff: 'not-an-ip',
      trust: ['loopback'],
      want: '127.0.0.1',
    },
    {
      name: 'ports and brackets are dropped',
      remote: '127.0.0.1',
      xff: '[2001:db8::2]:443',
      trust: ['loopback'],
      want: '2001:db8::2',
    },
    { name: 'no header', remote: '127.0.0.1', trust: true, want: '127.0.0.1' },
    { name: 'no socket address', remote: undefined, xff: '1.2.3.4', trust: true, want: undefined },
  ];

  it.each(cases)('$name', ({ remote, xff, trust, want }) => {
    expect(clientAddress(remote, xff, trustTest(trust))).toBe(want);
  });
});

describe('trustTest', () => {
  it('matches addresses, ranges and named ranges', () => {
    const trusted = trustTest(['192.0.2.10', '10.0.0.0/8', 'uniquelocal', 'fd00::/8']);
    expect(trusted('192.0.2.10')).toBe(true);
    expect(trusted('192.0.2.11')).toBe(false);
    expect(trusted('10.200.1.1')).toBe(true);
    expect(trusted('172.16.5.5')).toBe(true);
    expect(trusted('fd12::1')).toBe(true);
    expect(trusted('2001:db8::1')).toBe(false);
  });

  it.each(['10.0.0.0/33', 'proxy.internal', '300.1.1.1', '::1/129', 'constructor', '__proto__'])(
    'refuses %j at setup',
    (entry) => {
      expect(() => trustTest([entry])).toThrow(
        `trustProxy: "${entry}" is not an address or CIDR range`,
      );
    },
  );
});

describe('normalizeAddress', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['203.0.113.7:8080', '203.0.113.7'],
    ['::FFFF:10.0.0.1', '10.0.0.1'],
    ['[::1]', '::1'],
    ['', undefined],
    ['example.com', undefined],
  ])('%j -> %j', (input, want) => {
    expect(normalizeAddress(input)).toBe(want);
  });
});

describe('requestContext', () => {
  const none = trustTest(false);

  it('keeps a sane X-Request-Id and the user agent', () => {
    const { context, requestId } = requestContext(
      {
        remoteAddress: '127.0.0.1',
        headers: { 'x-request-id': 'req-abc_1', 'user-agent': 'curl/8' },
      },
      none,
    );
    expect(requestId).toBe('req-abc_1');
    expect(context).toEqual({ request_id: 'req-abc_1', ip: '127.0.0.1', user_agent: 'curl/8' });
  });

  it('generates a request id when the header is absent or unusable', () => {
    for (const given of [undefined, '', 'has space', 'x'.repeat(129)]) {
      const headers = given === undefined ? {} : { 'x-request-id': given };
      const { requestId } = requestContext({ remoteAddress: '127.0.0.1', headers }, none);
      expect(requestId).toMatch(/^req_[0-9a-z]{16}$/);
    }
  });
});
