/**
 * Helpers for the prototype-pollution tests: a snapshot of the built-in prototypes to compare
 * after every step (and to restore after a failing one, so that a failure stays in its own
 * test), and the sealed body of one event as the export hands it out, byte for byte.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { call, seedWorkspace, startServer, type Seeded, type Server } from './support.js';

const PROTOTYPES: ReadonlyArray<[string, object]> = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Number.prototype', Number.prototype],
  ['Boolean.prototype', Boolean.prototype],
];

export type PrototypeSnapshot = ReadonlyMap<object, ReadonlyMap<string, PropertyDescriptor>>;

export function prototypeSnapshot(): PrototypeSnapshot {
  return new Map(
    PROTOTYPES.map(([, proto]) => [
      proto,
      new Map(
        Object.getOwnPropertyNames(proto).map((name) => [
          name,
          Object.getOwnPropertyDescriptor(proto, name)!,
        ]),
      ),
    ]),
  );
}

/** Every own member added to or changed on a built-in prototype since the snapshot. */
export function prototypeChanges(snapshot: PrototypeSnapshot): string[] {
  const changes: string[] = [];
  for (const [label, proto] of PROTOTYPES) {
    const known = snapshot.get(proto)!;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const was = known.get(name);
      const now = Object.getOwnPropertyDescriptor(proto, name)!;
      if (was === undefined) changes.push(`${label}.${name} was added`);
      else if (!Object.is(was.value, now.value) || was.get !== now.get || was.set !== now.set) {
        changes.push(`${label}.${name} was changed`);
      }
    }
    if (Object.getPrototypeOf(proto) !== (proto === Object.prototype ? null : Object.prototype)) {
      changes.push(`${label} has a new prototype`);
    }
  }
  return changes;
}

export function expectPrototypesUntouched(snapshot: PrototypeSnapshot): void {
  expect(prototypeChanges(snapshot)).toEqual([]);
}

/** Undoes whatever a failing run did to the prototypes. */
export function restorePrototypes(snapshot: PrototypeSnapshot): void {
  for (const [, proto] of PROTOTYPES) {
    const known = snapshot.get(proto)!;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const was = known.get(name);
      if (was === undefined) Reflect.deleteProperty(proto, name);
      else Object.defineProperty(proto, name, was);
    }
  }
}

const CHAIN_SUFFIX = /,"prev_hash":"[0-9a-f]{64}","hash":"[0-9a-f]{64}"\}$/;

/** The exact text sealed for event `id` of a workspace, read from its NDJSON export. */
export async function sealedBody(
  server: Server,
  ws: Seeded,
  id: string,
): Promise<{ text: string; parsed: { seq: number; received_at: string } }> {
  const response = await call(
    server,
    'GET',
    `/api/v1/workspaces/${ws.workspace}/export?format=ndjson`,
    {
      as: { key: ws.keys.read },
    },
  );
  expect(response.status).toBe(200);
  const line = response.text
    .split('\n')
    .find((candidate) => candidate.includes(`"id":${JSON.stringify(id)}`));
  if (line === undefined) throw new Error(`event ${id} is not in the export of ${ws.workspace}`);
  const text = line.replace(CHAIN_SUFFIX, '}');
  return { text, parsed: JSON.parse(text) as { seq: number; received_at: string } };
}

export interface TwoTenants {
  server: Server;
  a: Seeded;
  b: Seeded;
  /** The built-in prototypes as this file found them. */
  before: PrototypeSnapshot;
}

/**
 * One real server (SQLite file, 127.0.0.1) holding two workspaces, for the whole file; the
 * prototypes are restored after each test, so that a failure stays in its own test.
 */
export function useTwoTenants(): TwoTenants {
  const tenants = { before: prototypeSnapshot() } as TwoTenants;
  beforeAll(async () => {
    tenants.server = await startServer({ rateLimit: false });
    tenants.a = await seedWorkspace(tenants.server, 'tenant-a');
    tenants.b = await seedWorkspace(tenants.server, 'tenant-b');
  });
  afterAll(() => tenants.server.close());
  afterEach(() => restorePrototypes(tenants.before));
  return tenants;
}
