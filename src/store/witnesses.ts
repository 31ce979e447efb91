/**
 * A workspace's witnesses as the stores keep them (one table per engine, docs/storage.md,
 * "Witnesses"): the configuration an owner gives (name, URL, the witness's verifier key) and
 * what the service last learned from the witness (its latest cosignature, or why it refused).
 * Configuration, not log: rows may be updated and removed; no event content is in them.
 */

export interface WitnessRecord {
  workspace: string;
  /** The owner's label, unique in the workspace. */
  name: string;
  /** The witness's submission prefix: `POST <url>/add-checkpoint`. */
  url: string;
  /** The witness's cosignature v1 verifier key. */
  vkey: string;
  created_at: string;
  /** The latest checkpoint the witness cosigned for this workspace, or null before the first. */
  cosigned_size: number | null;
  /** base64, as in the checkpoint. */
  cosigned_root: string | null;
  /** Its signature line (`— <name> <base64>`), verified against `vkey` before it was stored. */
  cosignature: string | null;
  cosigned_at: string | null;
  /** Why the last attempt failed (a refusal, a bad answer, an unreachable witness), or null. */
  last_error: string | null;
  last_error_at: string | null;
  last_attempt_at: string | null;
}

export type NewWitness = Pick<WitnessRecord, 'workspace' | 'name' | 'url' | 'vkey' | 'created_at'>;

/** What one attempt to get a cosignature ended with. */
export type WitnessOutcome =
  | { at: string; cosigned: { size: number; root: string; cosignature: string } }
  | { at: string; error: string };

export interface WitnessStore {
  /** The workspace's witnesses, by name. */
  listWitnesses(workspace: string): Promise<WitnessRecord[]>;
  /** Adds a witness; false, changing nothing, when the name is taken in the workspace. */
  addWitness(witness: NewWitness): Promise<boolean>;
  /** Removes a witness and returns what it was, or undefined when there was none. */
  removeWitness(workspace: string, name: string): Promise<WitnessRecord | undefined>;
  /**
   * Records an attempt's outcome for the witness with this name AND vkey (a witness removed and
   * added again meanwhile is a new one: the stale outcome is dropped). A cosignature replaces
   * the previous one and clears the error; an error leaves the last cosignature in place.
   */
  recordWitnessOutcome(
    workspace: string,
    witness: { name: string; vkey: string },
    outcome: WitnessOutcome,
  ): Promise<void>;
}
