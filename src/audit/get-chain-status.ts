import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { partnerIdOf, scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { timestamp } from '../platform/schemas.ts';
import type {} from './audit.db-types.ts';

export const chainStatusSchema = z.object({
  status: z.enum(['verified', 'broken', 'not_checked_yet']),
  verifiedUpTo: z.object({ seq: z.number().int(), eventId: z.string().nullable(), occurredAt: timestamp.nullable() }).nullable(),
  checkedAt: timestamp.nullable(),
  /**
   * When the newest full pass, from the chain's start (or its newest retention cut), began: every event up to
   * `verifiedUpTo` has been re-read at or after it (newer ones by the 10-minute incremental runs). The worker makes one
   * a day; null until the first.
   */
  fullyVerifiedAt: timestamp.nullable(),
  /** Events recorded so far: the chain head's position. */
  headSeq: z.number().int(),
  problem: z
    .object({
      eventId: z.string().nullable(),
      seq: z.number().int(),
      kind: z.enum(['altered', 'missing', 'out_of_order']),
      detail: z.string(),
      detectedAt: timestamp.nullable(),
      alertedAt: timestamp.nullable(),
    })
    .nullable(),
  cuts: z.array(z.object({ beforeSeq: z.number().int(), anchorHash: z.string(), cutAt: timestamp, cutBy: z.string(), removedCount: z.number().int() })),
  retentionYears: z.number().int(),
});
export type ChainStatus = z.infer<typeof chainStatusSchema>;

/** The partner's chain as the worker's last scheduled check left it (check-audit-chains.ts), with its cuts and retention. */
export async function getChainStatus(ctx: Ctx): Promise<ChainStatus> {
  const partnerId = partnerIdOf(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const check = await trx.selectFrom('auditChainChecks').selectAll().where('chainKey', '=', partnerId).where('partnerId', '=', partnerId).executeTakeFirst();
    const head = await trx.selectFrom('auditChainHeads').select('lastSeq').where('chainKey', '=', partnerId).executeTakeFirst();
    const cuts = await trx
      .selectFrom('auditCuts')
      .select(['beforeSeq', 'anchorHash', 'cutAt', 'cutBy', 'removedCount'])
      .where('partnerId', '=', partnerId)
      .orderBy('beforeSeq', 'desc')
      .limit(100)
      .execute();
    const settings = await trx.selectFrom('partnerSettings').select('auditRetentionYears').where('partnerId', '=', partnerId).executeTakeFirst();
    const problem = check?.problemKind
      ? {
        eventId: check.problemEventId, seq: Number(check.problemSeq), kind: check.problemKind, detail: check.problemDetail ?? '',
        detectedAt: check.problemDetectedAt?.toISOString() ?? null, alertedAt: check.problemAlertedAt?.toISOString() ?? null,
      }
      : null;
    return {
      status: !check?.checkedAt ? 'not_checked_yet' : problem ? 'broken' : 'verified',
      verifiedUpTo: check?.checkedAt && Number(check.verifiedSeq) > 0
        ? { seq: Number(check.verifiedSeq), eventId: check.verifiedEventId, occurredAt: check.verifiedOccurredAt?.toISOString() ?? null }
        : null,
      checkedAt: check?.checkedAt?.toISOString() ?? null,
      fullyVerifiedAt: check?.fullyVerifiedAt?.toISOString() ?? null,
      headSeq: head ? Number(head.lastSeq) : 0,
      problem,
      cuts: cuts.map((c) => ({ beforeSeq: Number(c.beforeSeq), anchorHash: c.anchorHash, cutAt: c.cutAt.toISOString(), cutBy: c.cutBy, removedCount: Number(c.removedCount) })),
      retentionYears: settings?.auditRetentionYears ?? 7,
    };
  });
}
