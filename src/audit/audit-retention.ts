import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { recordAudit } from './record-audit.ts';
import type {} from './audit.db-types.ts';

/** The default retention of a partner's audit trail, in years (partner_settings.audit_retention_years). */
export const DEFAULT_RETENTION_YEARS = 7;

function assertOperator(ctx: Ctx): string {
  if (ctx.principal.kind !== 'operator') throw new DomainError('forbidden', "Only the platform operator can change a partner's audit retention");
  return ctx.principal.email;
}

/** The operator sets how long a partner's events are kept (1 to 100 years). */
export async function setAuditRetention(ctx: Ctx, input: { partnerId: string; retentionYears: number }): Promise<{ retentionYears: number }> {
  assertOperator(ctx);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await trx.selectFrom('partnerSettings').select('auditRetentionYears').where('partnerId', '=', input.partnerId).forUpdate().executeTakeFirst();
    if (!before) throw notFound('Partner');
    await trx.updateTable('partnerSettings').set({ auditRetentionYears: input.retentionYears }).where('partnerId', '=', input.partnerId).execute();
    await recordAudit(trx, ctx, {
      partnerId: input.partnerId, customerId: null, app: 'audit', action: 'audit.retention_set', targetType: 'partner', targetId: input.partnerId,
      changes: before.auditRetentionYears === input.retentionYears ? {} : { retentionYears: { before: before.auditRetentionYears, after: input.retentionYears } },
    });
    return { retentionYears: input.retentionYears };
  });
}

export interface RetentionCut {
  beforeSeq: number;
  anchorHash: string;
  removedCount: number;
}

/**
 * The operator removes a partner's events older than its retention period. Only `audit_cut_chain()` (a
 * security-definer function, migration 0034) can delete events: it decides what is old enough itself, and records the
 * cut (before which position, the anchor hash of the last removed event, by whom) that verification then starts from.
 * The request is itself an event in the partner's trail, also when nothing was old enough (`cut: null`).
 */
export async function cutAuditRetention(ctx: Ctx, input: { partnerId: string }): Promise<{ cut: RetentionCut | null }> {
  const by = assertOperator(ctx);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const settings = await trx.selectFrom('partnerSettings').select('auditRetentionYears').where('partnerId', '=', input.partnerId).executeTakeFirst();
    if (!settings) throw notFound('Partner');
    const { rows } = await sql<{ beforeSeq: string; anchorHash: string; removedCount: string }>`
      select before_seq::text as "beforeSeq", anchor_hash as "anchorHash", removed_count::text as "removedCount"
      from audit_cut_chain(${input.partnerId}, ${by})`.execute(trx);
    const row = rows[0];
    const cut = row ? { beforeSeq: Number(row.beforeSeq), anchorHash: row.anchorHash, removedCount: Number(row.removedCount) } : null;
    await recordAudit(trx, ctx, {
      partnerId: input.partnerId, customerId: null, app: 'audit', action: 'audit.retention_cut', targetType: 'partner', targetId: input.partnerId,
      changes: {
        removedCount: { after: cut?.removedCount ?? 0 }, retentionYears: { after: settings.auditRetentionYears },
        ...(cut ? { removedBeforeSeq: { after: cut.beforeSeq }, anchorHash: { after: cut.anchorHash } } : {}),
      },
    });
    return { cut };
  });
}
