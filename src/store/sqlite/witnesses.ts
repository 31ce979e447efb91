/** A workspace's witnesses (src/store/witnesses.ts) in SQLite. */
import type { NewWitness, WitnessOutcome, WitnessRecord } from '../witnesses.js';
import type { SqliteContext } from './context.js';
import { sqliteErrorCode } from './driver.js';

const SELECT = `SELECT w.id AS workspace, x.name, x.url, x.vkey, x.created_at, x.cosigned_size,
  x.cosigned_root, x.cosignature, x.cosigned_at, x.last_error, x.last_error_at, x.last_attempt_at
  FROM witnesses x JOIN workspaces w ON w.wsk = x.ws`;

export function listWitnesses(context: SqliteContext, workspace: string): WitnessRecord[] {
  const ws = context.workspaceKey(workspace);
  if (ws === undefined) return [];
  return context.statement(`${SELECT} WHERE x.ws = ? ORDER BY x.name`).all(ws) as WitnessRecord[];
}

export function addWitness(context: SqliteContext, witness: NewWitness): boolean {
  const ws = context.requireWorkspaceKey(witness.workspace);
  try {
    context.write(() =>
      context
        .statement('INSERT INTO witnesses (ws, name, url, vkey, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(ws, witness.name, witness.url, witness.vkey, witness.created_at),
    );
    return true;
  } catch (error) {
    if (sqliteErrorCode(error) === 'SQLITE_CONSTRAINT_PRIMARYKEY') return false;
    throw error;
  }
}

export function removeWitness(
  context: SqliteContext,
  workspace: string,
  name: string,
): WitnessRecord | undefined {
  const ws = context.workspaceKey(workspace);
  if (ws === undefined) return undefined;
  return context.write(() => {
    const row = context.statement(`${SELECT} WHERE x.ws = ? AND x.name = ?`).get(ws, name) as
      WitnessRecord | undefined;
    if (row !== undefined) {
      context.statement('DELETE FROM witnesses WHERE ws = ? AND name = ?').run(ws, name);
    }
    return row;
  });
}

export function recordWitnessOutcome(
  context: SqliteContext,
  workspace: string,
  witness: { name: string; vkey: string },
  outcome: WitnessOutcome,
): void {
  const ws = context.workspaceKey(workspace);
  if (ws === undefined) return;
  context.write(() => {
    if ('cosigned' in outcome) {
      const { size, root, cosignature } = outcome.cosigned;
      context
        .statement(
          `UPDATE witnesses SET cosigned_size = ?, cosigned_root = ?, cosignature = ?,
             cosigned_at = ?, last_error = NULL, last_error_at = NULL, last_attempt_at = ?
           WHERE ws = ? AND name = ? AND vkey = ?`,
        )
        .run(size, root, cosignature, outcome.at, outcome.at, ws, witness.name, witness.vkey);
    } else {
      context
        .statement(
          `UPDATE witnesses SET last_error = ?, last_error_at = ?, last_attempt_at = ?
           WHERE ws = ? AND name = ? AND vkey = ?`,
        )
        .run(outcome.error, outcome.at, outcome.at, ws, witness.name, witness.vkey);
    }
  });
}
