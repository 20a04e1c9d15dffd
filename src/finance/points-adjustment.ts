import assert from 'node:assert/strict';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { formatDecimal, spendableMinorUnits } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { chargeWallet, creditWallet } from '../wallet/charge-wallet.ts';
import { lockWallet, readWallet } from '../wallet/wallets.repo.ts';
import { customerOf, financeAmount, walletView, walletViewSchema } from './finance-views.ts';

/**
 * Finance issues points to a customer (goodwill, compensation) or takes them back:
 * - issue:     Dr `sales_returns` · Cr `points:{c}`   (entry kind `points_issued`)
 * - take back, a correction (points given by mistake): Dr `points:{c}` · Cr `sales_returns` (entry kind `points_taken_back`);
 * - take back, refunded (unused points bought by top-up, a deposit: ADR 0008, 0015): the money goes back by bank transfer
 *   or cheque, with its reference: Dr `points:{c}` · Cr `bank` (entry kind `points_refunded`); no revenue moves.
 *   Either take-back is never more than the points that are neither held nor borrowed: usable stays at or above the
 *   credit limit, so never below zero (422 `insufficient_points`).
 * The audit event (`points.issued` / `points.taken_back`, with amount and reason) and the journal entry commit together;
 * the entry's `auditEventId` names the event. The reason stays in the partner's audit trail: the customer's transactions
 * feed shows a neutral description, since a Finance note is not written for the customer.
 */
export type PointsAdjustmentType = 'issue' | 'take_back';

export const POINTS_REFUND_METHODS = ['bank_transfer', 'cheque'] as const;
export type PointsRefundMethod = (typeof POINTS_REFUND_METHODS)[number];

export interface PointsAdjustmentInput {
  customerId: string;
  amount: string;
  reason: string;
  /** Take-back only: the money of the points is paid back this way (otherwise a correction). */
  refundMethod?: PointsRefundMethod | undefined;
  refundReference?: string | undefined;
}

export const pointsAdjustmentBody = z.strictObject({
  amount: z.string().max(40).describe('Decimal string in the customer\'s currency, at most its minor-unit decimals, e.g. "10.00"'),
  reason: z.string().trim().min(1).max(500),
});

export const takeBackPointsBody = pointsAdjustmentBody.extend({
  refundMethod: z.enum(POINTS_REFUND_METHODS).optional()
    .describe('when the points\' money is paid back (unused top-up points): bank_transfer or cheque, posted Dr points · Cr bank; without it the take-back is a correction (Cr sales_returns)'),
  refundReference: z.string().trim().min(1).max(200).optional().describe('the bank transfer or cheque reference (required with refundMethod)'),
}).superRefine((body, ctx) => {
  if (body.refundMethod !== undefined && body.refundReference === undefined) {
    ctx.addIssue({ code: 'custom', path: ['refundReference'], message: 'required with refundMethod' });
  }
  if (body.refundMethod === undefined && body.refundReference !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['refundMethod'], message: 'bank_transfer or cheque, with a refundReference' });
  }
});

export const pointsAdjustmentSchema = z.object({
  entryId: z.string(),
  customerId: z.string(),
  type: z.enum(['issue', 'take_back']),
  /** A take-back whose money was paid back: how, and its reference (null otherwise). */
  refundMethod: z.enum(POINTS_REFUND_METHODS).nullable(),
  refundReference: z.string().nullable(),
  amount: z.string(),
  currency: z.string(),
  reason: z.string(),
  auditEventId: z.string(),
  occurredAt: z.string(),
  wallet: walletViewSchema,
});
export type PointsAdjustment = z.infer<typeof pointsAdjustmentSchema>;

const META = {
  issue: { kind: 'points_issued', action: 'points.issued', description: 'Points issued by your provider' },
  take_back: { kind: 'points_taken_back', action: 'points.taken_back', description: 'Points taken back by your provider' },
} as const;
const REFUNDED = { kind: 'points_refunded', description: 'Points refunded by your provider' } as const;

export async function adjustPoints(ctx: Ctx, type: PointsAdjustmentType, input: PointsAdjustmentInput): Promise<PointsAdjustment> {
  const { partnerId } = partnerCaller(ctx.principal);
  const reason = input.reason.trim();
  if (reason.length === 0 || reason.length > 500) {
    throw new DomainError('validation_failed', 'reason must be 1 to 500 characters', [{ path: 'reason', message: '1 to 500 characters' }]);
  }
  const refund = type === 'take_back' && input.refundMethod !== undefined
    ? { method: input.refundMethod, reference: input.refundReference!.trim() } : null;
  const meta = refund ? { ...META.take_back, ...REFUNDED } : META[type];
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const customer = await customerOf(trx, partnerId, input.customerId);
    const micros = financeAmount(input.amount, customer.currency, 'amount', { allowZero: false });
    if (type === 'issue' && customer.status === 'closed') throw new DomainError('state_conflict', 'The customer is closed: no points can be issued');
    const wallet = { partnerId, customerId: customer.id, currency: customer.currency };
    const fmt = (m: bigint) => formatDecimal(m, customer.currency);

    // Lock first: the check below and the posting see the same wallet, and concurrent take-backs queue here.
    const before = await lockWallet(trx, wallet);
    if (type === 'take_back') {
      const takeable = before.pointsMicros - before.reservedMicros;
      if (takeable < micros) {
        // The most that can be asked: whole minor units (the amount field takes no more decimals), never more than is there.
        const most = fmt(spendableMinorUnits(takeable, customer.currency));
        throw new DomainError('insufficient_points', `Only ${most} ${customer.currency} of points can be taken back (points not held by a call or checkout)`, [
          { path: 'amount', message: `at most ${most}` },
        ]);
      }
    }
    const entryId = newId('je');
    const pointsAfter = type === 'issue' ? before.pointsMicros + micros : before.pointsMicros - micros;
    const auditEventId = await recordAudit(trx, ctx, {
      partnerId, customerId: customer.id, app: 'finance', action: meta.action, targetType: 'customer', targetId: customer.id,
      changes: {
        amount: { after: fmt(micros) }, currency: { after: customer.currency }, reason: { after: reason },
        points: { before: fmt(before.pointsMicros), after: fmt(pointsAfter) }, entryId: { after: entryId },
        ...(refund ? { refundMethod: { after: refund.method }, refundReference: { after: refund.reference } } : {}),
      },
    });
    const entry = { entryId, kind: meta.kind, causeType: 'finance_adjustment', causeId: auditEventId, description: meta.description, auditEventId };
    const posted = type === 'issue'
      ? await creditWallet(trx, { wallet, amountMicros: micros, entry, counterPostings: [{ code: 'sales_returns', amountMicros: micros }] })
      : await chargeWallet(trx, { wallet, amountMicros: micros, useCreditLimit: false, entry, counterPostings: [{ code: refund ? 'bank' : 'sales_returns', amountMicros: -micros }] });
    assert.equal(posted.pointsAfterMicros, pointsAfter, 'points moved by exactly the adjustment');
    const after = await readWallet(trx, wallet);
    const row = await trx.selectFrom('journalEntries').select('postedAt').where('partnerId', '=', partnerId).where('id', '=', entryId).executeTakeFirstOrThrow();
    return {
      entryId, customerId: customer.id, type, refundMethod: refund?.method ?? null, refundReference: refund?.reference ?? null, amount: fmt(micros), currency: customer.currency, reason, auditEventId,
      occurredAt: row.postedAt.toISOString(), wallet: walletView(after, customer.currency),
    };
  });
}
