/**
 * Any single-row change made directly in the SQLite file, with an ordinary SQLite client and
 * the append-only triggers dropped (an attacker with the file), is found by verify at the
 * right seq: an altered field, an altered index column, a removed row, an inserted row and two
 * rows swapped. A truncated tail is caught by a checkpoint.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogService } from '../../src/service/log-service.js';
import { ephemeralKeys } from '../../src/service/signing-keys.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';

// The deployment's signing key: outside the database, the same for every open of it.
const keys = ephemeralKeys();

const EVENTS = 24;
let dir: string;
let pristine: string;
let run = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-tamper-'));
  pristine = join(dir, 'pristine.db');
  const store = await openSqliteStore(pristine);
  await store.createWorkspace({ id: 'acme', name: 'Acme', settings: {} });
  const log = await LogService.open(store);
  const events = Array.from({ length: EVENTS }, (_, i) => ({
    id: `evt_${i + 1}`,
    action: i % 3 === 0 ? 'member.role_changed' : 'job.updated',
    occurred_at: new Date(Date.UTC(2026, 4, 1, 9, i)).toISOString(),
    actor: { type: 'user', id: `u_${i % 4}`, email: `user${i % 4}@example.com` },
    targets: [{ type: 'job', id: `job_${i % 5}`, name: `Job ${i % 5}` }],
    changes: [{ field: 'state', old: 'queued', new: `state_${i}` }],
    context: { ip: `203.0.113.${i + 1}` },
  }));
  await log.ingest('acme', { events });
  await store.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh copy of the pristine log, tampered with by `attack` through a raw SQLite connection. */
async function verifyAfter(
  attack: (db: Database.Database) => void,
  checkpoint?: unknown,
): Promise<{ ok: boolean; seq?: number; kind?: string }> {
  run += 1;
  const file = join(dir, `run-${run}.db`);
  copyFileSync(pristine, file);
  const db = new Database(file);
  db.exec(
    'DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; ' +
      'DROP TRIGGER event_targets_no_update; DROP TRIGGER event_targets_no_delete;',
  );
  attack(db);
  db.close();
  const store = await openSqliteStore(file);
  try {
    const log = await LogService.open(store, { keys });
    const report = await log.verify('acme', checkpoint === undefined ? {} : { checkpoint });
    return report.problem
      ? { ok: report.ok, seq: report.problem.seq, kind: report.problem.kind }
      : { ok: report.ok };
  } finally {
    await store.close();
  }
}

const seqArb = fc.integer({ min: 1, max: EVENTS - 1 });

describe('verify finds a change made directly in the SQLite file', () => {
  it('an untouched copy verifies', async () => {
    expect(await verifyAfter(() => undefined)).toEqual({ ok: true });
  });

  it('one changed byte of a stored event body, at that seq', async () => {
    await fc.assert(
      fc.asyncProperty(seqArb, fc.nat(), async (seq, at) => {
        const result = await verifyAfter((db) => {
          const { body } = db.prepare('SELECT body FROM events WHERE seq = ?').get(seq) as {
            body: string;
          };
          // Flip one letter or digit inside a string value (keeps the JSON well-formed).
          const positions = [...body.matchAll(/[a-z0-9]/g)].map((m) => m.index);
          const i = positions[at % positions.length]!;
          const ch = body[i]!;
          const swapped = ch === 'a' ? 'b' : ch === '0' ? '1' : /[0-9]/.test(ch) ? '0' : 'a';
          const altered = body.slice(0, i) + swapped + body.slice(i + 1);
          db.prepare('UPDATE events SET body = ? WHERE seq = ?').run(altered, seq);
        });
        expect(result.ok).toBe(false);
        expect(result.seq).toBe(seq);
      }),
      { numRuns: 15 },
    );
  });

  it('an indexed copy of a field changed without the body, at that seq', async () => {
    await fc.assert(
      fc.asyncProperty(
        seqArb,
        fc.constantFrom('action', 'category', 'outcome', 'actor_type'),
        async (seq, column) => {
          const result = await verifyAfter((db) => {
            db.prepare(`UPDATE events SET ${column} = 'forged' WHERE seq = ?`).run(seq);
          });
          expect(result).toEqual({ ok: false, seq, kind: 'index_mismatch' });
        },
      ),
      { numRuns: 8 },
    );
  });

  it('a removed row, named as missing at its seq', async () => {
    await fc.assert(
      fc.asyncProperty(seqArb, async (seq) => {
        const result = await verifyAfter((db) => {
          const { eid } = db.prepare('SELECT eid FROM events WHERE seq = ?').get(seq) as {
            eid: number;
          };
          db.prepare('DELETE FROM event_targets WHERE eid = ?').run(eid);
          db.prepare('DELETE FROM events WHERE eid = ?').run(eid);
        });
        expect(result).toEqual({ ok: false, seq, kind: 'missing' });
      }),
      { numRuns: 8 },
    );
  });

  it('an inserted row (later rows renumbered to make room), at its seq', async () => {
    await fc.assert(
      fc.asyncProperty(seqArb, async (seq) => {
        const result = await verifyAfter((db) => {
          db.prepare('UPDATE events SET seq = seq + 1000 WHERE seq >= ?').run(seq);
          db.prepare('UPDATE events SET seq = seq - 999 WHERE seq >= 1000').run();
          // The forged row copies its neighbour's columns under a new id at the freed seq.
          db.prepare(
            `INSERT INTO events (ws, seq, id, occurred_ms, action, category, outcome, operation,
               actor_type, actor_key, ip, prev_hash, hash, body)
             SELECT ws, ?, 'evt_forged', occurred_ms, action, category, outcome, operation,
               actor_type, actor_key, ip, prev_hash, hash, body
             FROM events WHERE seq = ?`,
          ).run(seq, seq + 1);
        });
        expect(result.ok).toBe(false);
        expect(result.seq).toBe(seq);
      }),
      { numRuns: 8 },
    );
  });

  it('two rows swapped, at the first of them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: EVENTS - 1 }),
        fc.integer({ min: 1, max: 5 }),
        async (a, gap) => {
          const b = Math.min(EVENTS, a + gap);
          const result = await verifyAfter((db) => {
            db.prepare('UPDATE events SET seq = -1 WHERE seq = ?').run(a);
            db.prepare('UPDATE events SET seq = ? WHERE seq = ?').run(a, b);
            db.prepare('UPDATE events SET seq = ? WHERE seq = -1').run(b);
          });
          expect(result.ok).toBe(false);
          expect(result.seq).toBe(a);
        },
      ),
      { numRuns: 8 },
    );
  });

  it('a truncated tail is caught by a checkpoint taken before', async () => {
    copyFileSync(pristine, join(dir, 'checkpoint-source.db'));
    const source = await openSqliteStore(join(dir, 'checkpoint-source.db'));
    const checkpoint = await (await LogService.open(source, { keys })).checkpoint('acme');
    await source.close();
    expect(checkpoint.seq).toBe(EVENTS);
    const result = await verifyAfter((db) => {
      const { eid } = db.prepare('SELECT eid FROM events WHERE seq = ?').get(EVENTS) as {
        eid: number;
      };
      db.prepare('DELETE FROM event_targets WHERE eid = ?').run(eid);
      db.prepare('DELETE FROM events WHERE eid = ?').run(eid);
    }, checkpoint);
    expect(result).toEqual({ ok: false, seq: EVENTS, kind: 'missing' });
  });
});
