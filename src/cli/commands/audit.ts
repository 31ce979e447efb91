/**
 * `trailkeep audit`: the offline monitor (docs/integrity.md, "Running a monitor"). The checks
 * live in src/monitor; this command reads the flags and files, prints one line per problem and
 * keeps the new state. Exit 0 consistent, 1 inconsistent, 2 the check could not be run.
 */
import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { isTrailkeepError } from '../../core/errors.js';
import {
  SIGNATURE_COSIGNATURE_V1,
  SIGNATURE_ED25519,
  parseVerifierKey,
  type NoteVerifier,
} from '../../core/tlog/note.js';
import { MonitorError, audit, errorText, type AuditReport } from '../../monitor/audit.js';
import { checkExport, type ExportCheck } from '../../monitor/export-check.js';
import { httpLogReader, logBaseUrl } from '../../monitor/http-reader.js';
import { leavesFile, readCachedLeaves, readState, writeState } from '../../monitor/state-file.js';
import { CliExit, collect } from '../context.js';

export const API_KEY_ENV = 'TRAILKEEP_API_KEY';

interface AuditFlags {
  log: string;
  vkey: string[];
  witnessVkey?: string[];
  state: string;
  export?: string;
  origin?: string;
  apiKey?: string;
  timeout: number;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) {
    throw new CliExit(2, `trailkeep audit: --timeout is 1 to 3600 seconds, got "${value}"`);
  }
  return n;
}

function verifiers(flag: string, values: readonly string[], type: number): NoteVerifier[] {
  return values.map((vkey) => {
    let verifier: NoteVerifier;
    try {
      verifier = parseVerifierKey(vkey.trim());
    } catch (error) {
      throw new MonitorError(`${flag} ${JSON.stringify(vkey.slice(0, 100))}: ${errorText(error)}`);
    }
    if (verifier.type !== type) {
      const kind =
        type === SIGNATURE_ED25519
          ? 'a log key (Ed25519, 0x01)'
          : 'a witness key (cosignature/v1, 0x04)';
      throw new MonitorError(`${flag} ${verifier.name}: not ${kind}`);
    }
    return verifier;
  });
}

function summary(report: AuditReport, before: number | undefined, exported?: ExportCheck): string {
  const head = report.checkpoint!;
  const parts = [
    `consistent: ${head.origin} at size ${head.size} (${before === undefined ? 'first run, state created' : `was ${before}`}), root ${head.root.toString('base64')}`,
    `rebuilt ${report.fetched.tiles} tiles from ${report.fetched.bundles} entry bundles`,
  ];
  if (report.cosigners.length > 0) parts.push(`cosigned by ${report.cosigners.join(', ')}`);
  if (exported !== undefined) {
    parts.push(`${exported.events} exported events in the log (${exported.proofs} proofs checked)`);
  }
  return parts.join('; ');
}

async function run(flags: AuditFlags): Promise<number> {
  const logKeys = verifiers('--vkey', flags.vkey, SIGNATURE_ED25519);
  const witnessKeys = verifiers(
    '--witness-vkey',
    flags.witnessVkey ?? [],
    SIGNATURE_COSIGNATURE_V1,
  );
  const base = logBaseUrl(flags.log);
  if (flags.export !== undefined) {
    // A missing export is found before minutes of fetching, not after.
    await access(flags.export, constants.R_OK).catch((error: unknown) => {
      throw new MonitorError(`cannot read the export ${flags.export}: ${errorText(error)}`);
    });
  }
  const previous = await readState(flags.state);
  const apiKey = flags.apiKey ?? (process.env[API_KEY_ENV] || undefined);
  const report = await audit({
    reader: httpLogReader(base, { apiKey, timeoutMs: flags.timeout * 1000 }),
    logKeys,
    witnessKeys,
    origin: flags.origin,
    previous,
    previousLeaves: () => readCachedLeaves(leavesFile(flags.state)),
  });
  let exported: ExportCheck | undefined;
  if (flags.export !== undefined && report.tree !== undefined) {
    exported = await checkExportFile(flags.export, report, logKeys, witnessKeys);
  }
  for (const note of report.notes) process.stderr.write(`trailkeep audit: note: ${note}\n`);
  const problems = [...report.problems, ...(exported?.problems ?? [])];
  if (problems.length > 0 || report.next === undefined) {
    for (const problem of problems) process.stdout.write(`inconsistent: ${problem}\n`);
    return 1;
  }
  await writeState(flags.state, report.next.state, report.next.leaves, new Date());
  process.stdout.write(`${summary(report, previous?.size, exported)}\n`);
  return 0;
}

async function checkExportFile(
  file: string,
  report: AuditReport,
  logKeys: readonly NoteVerifier[],
  witnessKeys: readonly NoteVerifier[],
): Promise<ExportCheck> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  try {
    return await checkExport(lines, report.tree!, {
      origin: report.checkpoint!.origin,
      logKeys,
      witnessKeys,
    });
  } catch (error) {
    if (error instanceof MonitorError) throw error;
    throw new MonitorError(`cannot read the export ${file}: ${errorText(error)}`);
  } finally {
    lines.close();
  }
}

export function register(program: Command): void {
  program
    .command('audit')
    .description(
      'check a log from outside: its signed checkpoint, witness cosignatures, every tile rebuilt from its entries, and that it extends the history seen last time (exit 0 consistent, 1 inconsistent, 2 error)',
    )
    .requiredOption(
      '--log <url>',
      'the log prefix, e.g. https://audit.example.com/api/v1/workspaces/acme/log',
    )
    .requiredOption(
      '--vkey <vkey>',
      "the log's verifier key (repeatable: current and retired)",
      collect,
    )
    .option('--witness-vkey <vkey>', 'a witness that must have cosigned (repeatable)', collect)
    .requiredOption(
      '--state <file>',
      'the last checkpoint accepted (created on the first run); its leaves are kept in <file>.leaves',
    )
    .option(
      '--export <file>',
      'a JSON or NDJSON export whose every event must be in the log at its seq',
    )
    .option(
      '--origin <origin>',
      "the checkpoint origin to expect (default: the state's; on a first run, the log's own)",
    )
    .option('--api-key <key>', `a read key for the log (env ${API_KEY_ENV})`)
    .option('--timeout <seconds>', 'per request', seconds, 30)
    .action(async (flags: AuditFlags) => {
      let code: number;
      try {
        code = await run(flags);
      } catch (error) {
        if (error instanceof MonitorError || isTrailkeepError(error)) {
          throw new CliExit(2, `trailkeep audit: ${error.message}`);
        }
        throw error;
      }
      if (code !== 0) throw new CliExit(code);
    });
}
