/**
 * Retention and legal hold as use cases (docs/integrity.md, "Retention and legal hold"): the
 * owner's policy, holds, and pruning runs, each recorded in the workspace's own log. Off by
 * default. The HTTP routes, the CLI and the scheduled job all come through here.
 */
import { randomBytes } from 'node:crypto';
import { TrailkeepError } from '../core/errors.js';
import { parseRetentionDays, retentionCutoff } from '../core/retention.js';
import type { LegalHold, PruneResult, RetentionPolicy, Store } from '../store/store.js';
import type { AuditContext, SelfAudit } from './self-audit.js';

const newId = (prefix: string): string => `${prefix}_${randomBytes(12).toString('hex')}`;

/** Who acted, as the stores keep it: the user or key id, or null from the CLI. */
function actorId(ctx: AuditContext): string | null {
  return ctx.actor.type === 'system' ? null : ctx.actor.id;
}

function requireReason(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 1000) {
    throw new TrailkeepError(
      'bad_request',
      `${path} must be a non-empty text of at most 1000 characters`,
      {
        issues: [{ path, message: 'expected a reason' }],
      },
    );
  }
  return value.trim();
}

export class RetentionService {
  constructor(
    private readonly store: Store,
    private readonly audit: SelfAudit,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  policy(workspace: string): Promise<RetentionPolicy | undefined> {
    return this.store.retention(workspace);
  }

  /** Sets (days) or turns off (null) the policy; audited with before and after. */
  async setPolicy(
    workspace: string,
    ctx: AuditContext,
    days: unknown,
  ): Promise<RetentionPolicy | undefined> {
    const wanted = days === null ? null : parseRetentionDays(days);
    const policy =
      wanted === null
        ? null
        : { days: wanted, set_at: this.clock().toISOString(), set_by: actorId(ctx) };
    const before = await this.store.setRetention(workspace, policy);
    if ((before?.days ?? null) !== wanted) {
      await this.audit.retentionChanged(workspace, ctx, before?.days ?? null, wanted);
    }
    return policy ?? undefined;
  }

  holds(workspace: string): Promise<LegalHold[]> {
    return this.store.listHolds(workspace);
  }

  async createHold(
    workspace: string,
    ctx: AuditContext,
    input: { target_id?: unknown; reason?: unknown },
  ): Promise<LegalHold> {
    const target = input.target_id ?? null;
    if (target !== null && (typeof target !== 'string' || target === '' || target.length > 1000)) {
      throw new TrailkeepError(
        'bad_request',
        'target_id must be a target id (1 to 1000 characters) or absent',
        {
          issues: [{ path: '$.target_id', message: 'expected a non-empty string' }],
        },
      );
    }
    const hold = await this.store.createHold({
      id: newId('hold'),
      workspace,
      target_id: target,
      reason: requireReason(input.reason, '$.reason'),
      created_by: actorId(ctx),
      created_at: this.clock().toISOString(),
    });
    await this.audit.holdChanged(workspace, ctx, hold, 'created');
    return hold;
  }

  async releaseHold(
    workspace: string,
    ctx: AuditContext,
    id: string,
    reason: unknown,
  ): Promise<LegalHold> {
    const released = await this.store.releaseHold(workspace, id, {
      at: this.clock().toISOString(),
      by: actorId(ctx),
      reason: requireReason(reason, '$.reason'),
    });
    if (released === undefined) {
      throw new TrailkeepError('hold_not_found', `no open legal hold "${id}" in "${workspace}"`);
    }
    await this.audit.holdChanged(workspace, ctx, released, 'released');
    return released;
  }

  /**
   * One pruning run under the stored policy. A run that pruned something is recorded in the
   * log (after the pruning commits: the run's own record beside the tombstones is what verify
   * reads); a dry run and a scheduled run that found nothing are not.
   */
  async prune(
    workspace: string,
    ctx: AuditContext,
    options: { dryRun?: boolean; auditEmpty?: boolean } = {},
  ): Promise<PruneResult> {
    const policy = await this.store.retention(workspace);
    if (policy === undefined) {
      throw new TrailkeepError(
        'retention_not_set',
        `workspace "${workspace}" has no retention policy; nothing is pruned`,
      );
    }
    const now = this.clock();
    const result = await this.store.prune(workspace, {
      run: newId('prune'),
      at: now.toISOString(),
      cutoff: retentionCutoff(now, policy.days),
      policy_days: policy.days,
      ...(options.dryRun === true ? { dryRun: true } : {}),
    });
    if (!result.dry_run && (result.count > 0 || options.auditEmpty !== false)) {
      await this.audit.pruned(workspace, ctx, result);
    }
    return result;
  }

  /** The scheduled job's round: every workspace with a policy; one failure does not stop the rest. */
  async pruneAll(
    ctx: AuditContext,
    onError: (workspace: string, error: unknown) => void,
  ): Promise<PruneResult[]> {
    const results: PruneResult[] = [];
    for (const { id } of await this.store.listWorkspaces()) {
      try {
        if ((await this.store.retention(id)) === undefined) continue;
        results.push(await this.prune(id, ctx, { auditEmpty: false }));
      } catch (error) {
        onError(id, error);
      }
    }
    return results;
  }
}

/** Runs `round` every `intervalMs` until stopped; rounds never overlap. */
export function schedulePruning(round: () => Promise<unknown>, intervalMs: number): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const next = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void round()
        .catch(() => undefined)
        .finally(next);
    }, intervalMs);
    timer.unref();
  };
  next();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}
