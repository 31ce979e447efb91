/**
 * The people and machines that act in a demo workspace. Each person keeps one to three usual
 * addresses and one rare new one (what "sign-in from a new address" looks like in the log), and
 * one usual client; machines come from internal ranges. All addresses are in the documentation
 * ranges (RFC 5737, RFC 3849) or private space, so none belongs to anybody.
 */
import type { Actor, ActorType, EventContext } from '../core/event.js';
import type { Random } from './random.js';

export interface CastMember {
  actor: Actor;
  /** Where this actor usually connects from; empty for actors without a network address. */
  ips: readonly string[];
  /** An address seen only now and then (a trip, a new laptop, or someone else). */
  rareIp: string | undefined;
  userAgent: string;
}

export interface PersonSpec {
  name: string;
  /** Local part of the e-mail address; the workspace gives the domain. */
  handle: string;
}

/** The people of every demo workspace, so `actor:alex@` finds Alex Kim everywhere. */
export const PEOPLE: readonly PersonSpec[] = [
  { name: 'Alex Kim', handle: 'alex' },
  { name: 'Sam Rivera', handle: 'sam' },
  { name: 'Priya Natarajan', handle: 'priya' },
  { name: 'Jordan Lee', handle: 'jordan' },
  { name: 'Maria Garcia', handle: 'maria' },
  { name: 'Chen Wei', handle: 'chen' },
  { name: 'Fatima Okafor', handle: 'fatima' },
  { name: "Liam O'Brien", handle: 'liam' },
  { name: 'Zoë Müller', handle: 'zoe' },
  { name: 'José Álvarez', handle: 'jose' },
  { name: 'Aiko Tanaka', handle: 'aiko' },
  { name: 'Noah Schmidt', handle: 'noah' },
];

/** First names for invitees and new users who join during the demo. */
export const NEWCOMER_NAMES: readonly string[] = [
  'Riley Chen',
  'Morgan Patel',
  'Casey Johnson',
  'Taylor Nguyen',
  'Avery Brooks',
  'Dana Cohen',
  'Elif Yilmaz',
  'Mateo Rossi',
  'Ingrid Larsen',
  'Kwame Mensah',
];

const BROWSERS: readonly string[] = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36',
  // Desktop and mobile apps announce themselves more briefly.
  'DesktopApp/4.12.0 (Macintosh; macOS 14.5)',
  'MobileApp/5.2.0 (iPhone; iOS 17.5)',
  'MobileApp/5.1.3 (Android 14; Pixel 8)',
];

/** A documentation-range IPv4 address or, now and then, an IPv6 one. */
export function publicAddress(rng: Random): string {
  if (rng.chance(0.12))
    return `2001:db8:${rng.int(0xffff).toString(16)}::${rng.between(1, 0xfff).toString(16)}`;
  const net = rng.pick(['192.0.2', '198.51.100', '203.0.113']);
  return `${net}.${rng.between(1, 254)}`;
}

function internalAddress(rng: Random): string {
  return `10.${rng.between(0, 31)}.${rng.between(0, 255)}.${rng.between(1, 254)}`;
}

/** The cast's people, each with their own usual addresses and client. */
export function people(rng: Random, domain: string, count: number): CastMember[] {
  return PEOPLE.slice(0, count).map((spec, i) => {
    const ips = Array.from({ length: rng.between(1, 3) }, () => publicAddress(rng));
    return {
      actor: {
        type: 'user',
        id: `usr_${spec.handle}${(i + 1) * 7}`,
        name: spec.name,
        email: `${spec.handle}@${domain}`,
      },
      ips,
      rareIp: publicAddress(rng),
      userAgent: rng.pick(BROWSERS),
    };
  });
}

/** A person who joins during the story (an invitee), from one address with a browser. */
export function guest(rng: Random, id: string, name: string, email: string): CastMember {
  return {
    actor: { type: 'user', id, name, email },
    ips: [publicAddress(rng)],
    rareIp: undefined,
    userAgent: rng.pick(BROWSERS),
  };
}

/** A non-person actor (agent, token, automation, system) with its addresses and client. */
export function machine(
  rng: Random,
  type: Exclude<ActorType, 'user'>,
  id: string,
  name: string,
  userAgent: string,
  network: 'public' | 'internal' | 'none',
): CastMember {
  const address = network === 'public' ? publicAddress : internalAddress;
  const ips =
    network === 'none' ? [] : Array.from({ length: rng.between(1, 2) }, () => address(rng));
  return {
    actor: { type, id, name },
    ips,
    rareIp: network === 'public' ? publicAddress(rng) : undefined,
    userAgent,
  };
}

/** A fresh copy of the member's actor, so no two events share (and could mutate) one object. */
export function actorOf(member: CastMember): Actor {
  const { type, id, name, email } = member.actor;
  const actor: Actor = { type, id };
  if (name !== undefined) actor.name = name;
  if (email !== undefined) actor.email = email;
  return actor;
}

/** Probability that a person's event comes from their rare address. */
const RARE_IP_RATE = 0.012;

/** Request context: where the member is today, their client and a request id. */
export function contextOf(
  rng: Random,
  member: CastMember,
  rareIpRate = RARE_IP_RATE,
): EventContext {
  const context: EventContext = {};
  if (member.ips.length > 0) {
    context.ip =
      member.rareIp !== undefined && rng.chance(rareIpRate) ? member.rareIp : rng.pick(member.ips);
  }
  context.user_agent = member.userAgent;
  context.request_id = `req_${rng.hex(12)}`;
  return context;
}
