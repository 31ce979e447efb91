/**
 * Exports with proofs=true: every exported event carries its C2SP tlog-proof relative to one
 * checkpoint, so that someone holding one exported event, the checkpoint and the log's verifier
 * key checks it offline (docs/integrity.md, "Checking an exported event offline"):
 *   1. recompute the event's chain hash from its fields (src/core/chain.ts, eventHash);
 *   2. its leaf is SHA-256(0x00 ‖ the 32 bytes of that hash);
 *   3. the tlog-proof binds that leaf at index seq - 1 to the checkpoint's root, and the
 *      checkpoint is signed by the verifier key, for origin <host>/<workspace>.
 * Steps 2 and 3 use src/core/tlog alone.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventHash } from '../../src/core/chain.js';
import type { StoredEvent } from '../../src/core/event.js';
import {
  eventLeafHash,
  parseTlogProof,
  parseVerifierKey,
  verifyTlogProof,
  type NoteVerifier,
} from '../../src/core/tlog/index.js';
import { planExport } from '../../src/service/export.js';
import { newKeyFileText, parseKeyText } from '../../src/service/signing-keys.js';
import { ENGINES, startOn } from './engines.js';
import { call, event, seedWorkspace, type Seeded, type Server } from './support.js';

const HOST = 'audit.example.com';
const EVENTS = 40;
const keys = parseKeyText(newKeyFileText('trailkeep-export-test'), 'test', []);

type Exported = StoredEvent & { proof: string | null };

/** The offline check of one exported event: true when all three steps pass. */
function checkOffline(row: Exported, vkey: NoteVerifier): boolean {
  const { proof, ...stored } = row;
  if (proof === null) return false;
  const hash = eventHash(stored);
  if (hash !== stored.hash) return false;
  const checked = verifyTlogProof(proof, eventLeafHash(hash), {
    origin: `${HOST}/${stored.workspace}`,
    logKeys: [vkey],
  });
  return checked.ok && checked.value.index === stored.seq - 1;
}

describe.each(ENGINES)('exports with proofs on %s', (engine) => {
  let server: Server;
  let acme: Seeded;
  let other: Seeded;
  let vkey: NoteVerifier;

  beforeAll(async () => {
    server = await startOn(
      engine,
      'export_proofs',
      { rateLimit: false },
      { keys, logOriginHost: HOST },
    );
    acme = await seedWorkspace(server, 'acme');
    other = await seedWorkspace(server, 'other');
    const res = await call(server, 'POST', '/api/v1/workspaces/acme/events', {
      as: { key: acme.keys.ingest },
      body: {
        events: Array.from({ length: EVENTS }, (_, i) =>
          event(`evt_${i + 1}`, { metadata: { n: i, note: i % 3 === 0 ? '=SUM(A1)' : 'x,"y"' } }),
        ),
      },
    });
    expect(res.status).toBe(201);
    const vkeys = await call(server, 'GET', '/api/v1/workspaces/acme/log/vkeys', {
      as: { key: acme.keys.read },
    });
    vkey = parseVerifierKey(vkeys.text.split('\n')[0]!);
  });

  afterAll(async () => {
    await server?.close();
  });

  const exportOf = (query: string, key = acme.keys.read) =>
    // Exports are audited in the log they export: the filter keeps to the events sent here.
    call(server, 'GET', `/api/v1/workspaces/acme/export?action=REPOSITORY_RUN_CLAIM&${query}`, {
      as: { key },
    });

  it('NDJSON: every event carries a proof relative to one checkpoint, checked offline', async () => {
    const res = await exportOf('format=ndjson&proofs=true');
    expect(res.status).toBe(200);
    const size = Number(res.headers.get('x-trailkeep-checkpoint-size'));
    expect(size).toBeGreaterThanOrEqual(EVENTS);
    const rows = res.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Exported);
    expect(rows).toHaveLength(EVENTS);
    const checkpoints = new Set(rows.map((r) => parseTlogProof(r.proof!).checkpoint));
    expect(checkpoints.size).toBe(1);
    expect([...checkpoints][0]!.split('\n')[1]).toBe(String(size));
    for (const row of rows) expect(checkOffline(row, vkey), row.id).toBe(true);
  });

  it('an altered exported event, or a proof moved to another event, fails the offline check', async () => {
    const res = await exportOf('format=json&proofs=true');
    const rows = JSON.parse(res.text) as Exported[];
    expect(rows).toHaveLength(EVENTS);
    const [a, b] = [rows[0]!, rows[1]!];
    expect(checkOffline(a, vkey)).toBe(true);
    expect(checkOffline({ ...a, action: 'user.deleted' }, vkey)).toBe(false);
    // The forger who also fixes the chain hash still fails: the leaf is no longer in the tree.
    const forged = { ...a, action: 'user.deleted' };
    expect(checkOffline({ ...forged, hash: eventHash(forged) }, vkey)).toBe(false);
    expect(checkOffline({ ...a, proof: b.proof }, vkey)).toBe(false);
    expect(checkOffline({ ...a, seq: a.seq + 1 }, vkey)).toBe(false);
    const otherKey = parseVerifierKey(parseKeyText(newKeyFileText('x'), 't', []).verifierKey);
    expect(checkOffline(a, otherKey)).toBe(false);
  });

  it('CSV: a proof column whose text verifies, other cells unchanged', async () => {
    const plain = await exportOf('format=csv');
    const res = await exportOf('format=csv&proofs=true');
    const records = parseCsv<Record<string, string>>(res.text, { bom: true, columns: true });
    const plainRecords = parseCsv<Record<string, string>>(plain.text, {
      bom: true,
      columns: true,
    });
    expect(records).toHaveLength(EVENTS);
    expect(Object.keys(records[0]!).at(-1)).toBe('proof');
    expect(Object.keys(plainRecords[0]!)).not.toContain('proof');
    records.forEach((record, i) => {
      const { proof, ...rest } = record;
      expect(rest).toEqual(plainRecords[i]);
      const checked = verifyTlogProof(proof!, eventLeafHash(record['hash']!), {
        origin: `${HOST}/acme`,
        logKeys: [vkey],
      });
      expect(checked.ok).toBe(true);
    });
  });

  it('refuses proofs for entity exports and a proofs value that is not a boolean', async () => {
    const entities = await exportOf('type=entities&target_type=job&proofs=true');
    expect(entities.status).toBe(400);
    expect((entities.body as { detail: string }).detail).toContain('proofs=true');
    const bad = await exportOf('format=ndjson&proofs=maybe');
    expect(bad.status).toBe(400);
    expect((bad.body as { code: string }).code).toBe('bad_request');
  });

  it('an event appended after the export took its checkpoint gets a null proof, not a wrong one', async () => {
    const plan = await planExport(server.log, 'acme', {
      format: 'ndjson',
      proofs: true,
      q: 'action:REPOSITORY_RUN_CLAIM',
    });
    await server.log.ingest('acme', event('evt_late'));
    let text = '';
    for await (const chunk of plan.chunks()) text += chunk;
    const rows = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Exported);
    const late = rows.find((r) => r.id === 'evt_late');
    expect(late?.seq).toBeGreaterThan(plan.checkpoint!.size);
    expect(late?.proof).toBeNull();
    const proven = rows.filter((r) => r.id !== 'evt_late');
    expect(proven).toHaveLength(EVENTS);
    for (const row of proven) expect(checkOffline(row, vkey)).toBe(true);
  });

  it("another workspace's key never exports this workspace's proofs", async () => {
    const res = await exportOf('format=ndjson&proofs=true', other.keys.read);
    expect(res.status).toBe(403);
    expect((res.body as { code: string }).code).toBe('workspace_mismatch');
  });
});
