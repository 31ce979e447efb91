/** A workspace's witnesses (src/store/witnesses.ts) in PostgreSQL. */
import type { NewWitness, WitnessOutcome, WitnessRecord } from '../witnesses.js';
import type { Pool, Queryable } from './driver.js';
import { requireWorkspace } from './people.js';

const COLUMNS = `workspace, name, url, vkey, created_at, cosigned_size::float8 AS cosigned_size,
  cosigned_root, cosignature, cosigned_at, last_error, last_error_at, last_attempt_at`;

export async function listWitnesses(db: Queryable, workspace: string): Promise<WitnessRecord[]> {
  const result = await db.query<WitnessRecord>(
    `SELECT ${COLUMNS} FROM witnesses WHERE workspace = $1 ORDER BY name COLLATE "C"`,
    [workspace],
  );
  return result.rows;
}

export async function addWitness(pool: Pool, witness: NewWitness): Promise<boolean> {
  await requireWorkspace(pool, witness.workspace);
  const result = await pool.query(
    `INSERT INTO witnesses (workspace, name, url, vkey, created_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (workspace, name) DO NOTHING`,
    [witness.workspace, witness.name, witness.url, witness.vkey, witness.created_at],
  );
  return result.rowCount === 1;
}

export async function removeWitness(
  pool: Pool,
  workspace: string,
  name: string,
): Promise<WitnessRecord | undefined> {
  const result = await pool.query<WitnessRecord>(
    `DELETE FROM witnesses WHERE workspace = $1 AND name = $2 RETURNING ${COLUMNS}`,
    [workspace, name],
  );
  return result.rows[0];
}

export async function recordWitnessOutcome(
  pool: Pool,
  workspace: string,
  witness: { name: string; vkey: string },
  outcome: WitnessOutcome,
): Promise<void> {
  if ('cosigned' in outcome) {
    const { size, root, cosignature } = outcome.cosigned;
    await pool.query(
      `UPDATE witnesses SET cosigned_size = $1, cosigned_root = $2, cosignature = $3,
         cosigned_at = $4, last_error = NULL, last_error_at = NULL, last_attempt_at = $4
       WHERE workspace = $5 AND name = $6 AND vkey = $7`,
      [size, root, cosignature, outcome.at, workspace, witness.name, witness.vkey],
    );
    return;
  }
  await pool.query(
    `UPDATE witnesses SET last_error = $1, last_error_at = $2, last_attempt_at = $2
     WHERE workspace = $3 AND name = $4 AND vkey = $5`,
    [outcome.error, outcome.at, workspace, witness.name, witness.vkey],
  );
}
