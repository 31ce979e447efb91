/**
 * IP addresses as sortable keys: every address becomes 32 hex digits of its 16-byte IPv6 form
 * (IPv4 as ::ffff:a.b.c.d), so a CIDR range is one `BETWEEN lo AND hi` on an indexed text column
 * in every engine.
 */
import ipaddr from 'ipaddr.js';

function toV6Bytes(addr: ipaddr.IPv4 | ipaddr.IPv6): number[] {
  return addr.kind() === 'ipv4'
    ? (addr as ipaddr.IPv4).toIPv4MappedAddress().toByteArray()
    : addr.toByteArray();
}

function hex(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
}

const DOTTED_QUAD = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

export function isValidIp(text: string): boolean {
  const quad = DOTTED_QUAD.exec(text);
  if (quad !== null) return quad.slice(1).every((octet) => Number(octet) <= 255);
  return (
    ipaddr.isValid(text) && (ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text))
  );
}

const V4_MAPPED_PREFIX = '00000000000000000000ffff';

/**
 * The sortable key of an address, or null when the text is not an IP address. Plain IPv4, the
 * common case on every ingest and verify, takes a fast path (parsing each address with
 * ipaddr.js costs more than inserting its row); a property test pins that both paths agree.
 */
export function ipKey(text: string): string | null {
  const quad = DOTTED_QUAD.exec(text);
  if (quad === null) return ipv6Key(text);
  let key = V4_MAPPED_PREFIX;
  for (let i = 1; i <= 4; i += 1) {
    const octet = Number(quad[i]);
    if (octet > 255) return null;
    key += octet.toString(16).padStart(2, '0');
  }
  return key;
}

/**
 * Recent IPv6 keys. An audit log sees the same few addresses again and again (a person's
 * session, a CI runner), and ipaddr.js costs several microseconds per IPv6 parse; the memo is
 * dropped whole when full, so it stays small and needs no eviction order.
 */
const V6_MEMO = new Map<string, string | null>();
const V6_MEMO_SIZE = 4096;

function ipv6Key(text: string): string | null {
  let key = V6_MEMO.get(text);
  if (key === undefined) {
    key = ipaddrKey(text);
    if (V6_MEMO.size >= V6_MEMO_SIZE) V6_MEMO.clear();
    V6_MEMO.set(text, key);
  }
  return key;
}

/** `ipKey` through ipaddr.js alone (every address form). */
export function ipaddrKey(text: string): string | null {
  if (!isValidIp(text)) return null;
  const parsed = ipaddr.parse(text);
  // An IPv4-mapped IPv6 address and its IPv4 form are the same host.
  return hex(toV6Bytes(parsed));
}

/**
 * Canonical CIDR text for an address or range (`203.0.113.7` -> `203.0.113.7/32`,
 * `10.1.2.3/8` -> `10.0.0.0/8`), or null when it is neither.
 */
export function normalizeCidr(text: string): string | null {
  try {
    if (text.includes('/')) {
      if (!ipaddr.isValidCIDR(text)) return null;
      const [addr, bits] = ipaddr.parseCIDR(text);
      if (addr.kind() === 'ipv4') {
        const network = ipaddr.IPv4.networkAddressFromCIDR(text);
        return `${network.toString()}/${bits}`;
      }
      const network = ipaddr.IPv6.networkAddressFromCIDR(text);
      return `${network.toString()}/${bits}`;
    }
    if (!isValidIp(text)) return null;
    const addr = ipaddr.parse(text);
    return `${addr.toString()}/${addr.kind() === 'ipv4' ? 32 : 128}`;
  } catch {
    return null;
  }
}

/** Inclusive key range of a canonical CIDR, comparable with `ipKey` values as text. */
export function cidrKeyRange(cidr: string): { lo: string; hi: string } {
  const [addr, bits] = ipaddr.parseCIDR(cidr);
  const bytes = toV6Bytes(addr);
  const prefix = addr.kind() === 'ipv4' ? bits + 96 : bits;
  const lo: number[] = [];
  const hi: number[] = [];
  bytes.forEach((byte, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    lo.push(byte & mask);
    hi.push((byte & mask) | (~mask & 0xff));
  });
  return { lo: hex(lo), hi: hex(hi) };
}
