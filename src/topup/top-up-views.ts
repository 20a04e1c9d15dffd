import { sql } from 'kysely';
import { z } from 'zod';
import { formatDecimal, isCurrency, type Currency } from '../money/money.ts';
import type { Executor } from '../platform/database.ts';
import type { GatewayName, TopUpStatus } from '../platform/db-types.ts';
import { timestamp } from '../platform/schemas.ts';

/** How a top-up is shown: the portal's view, and the partner staff's (which adds the gateway's reference and who paid). */
export const topUpSchema = z.object({
  id: z.string(),
  status: z.enum(['pending', 'succeeded', 'failed']),
  /** True for an automatic top-up (auto top-up), made without anyone present. */
  auto: z.boolean(),
  currency: z.string(),
  /** Points bought. */
  amount: z.string(),
  /** Admin fee added by the partner's policy (0 when none). */
  fee: z.string(),
  /** What the card is charged: amount + fee. */
  total: z.string(),
  invoice: z.object({ id: z.string(), number: z.string() }).nullable(),
  savedCardId: z.string().nullable(),
  /** Why it failed: `declined`, `insufficient_funds`, `below_minimum`, `no_saved_card`, ... and the gateway's reason. */
  failure: z.object({ code: z.string(), reason: z.string() }).nullable(),
  createdAt: timestamp,
  completedAt: timestamp.nullable(),
});
export type TopUpView = z.infer<typeof topUpSchema>;

export const staffTopUpSchema = topUpSchema.extend({
  customerId: z.string(),
  /** The portal user who topped up; null for an automatic top-up. */
  userId: z.string().nullable(),
  gateway: z.enum(['sandbox', 'stripe']),
  gatewayChargeRef: z.string().nullable(),
  /** The top-up policy version that applied (null: the built-in default, or a top-up paying for a renewal). */
  policyVersion: z.object({ id: z.string(), effectiveFrom: z.iso.date() }).nullable(),
});
export type StaffTopUpView = z.infer<typeof staffTopUpSchema>;

export interface TopUpRow {
  id: string;
  partnerId: string;
  customerId: string;
  userId: string | null;
  currency: string;
  amountMicros: string;
  feeMicros: string;
  status: TopUpStatus;
  auto: boolean;
  autoForDate: string | null;
  gateway: GatewayName;
  savedCardId: string | null;
  requestKey: string | null;
  chargeRef: string | null;
  invoiceId: string | null;
  invoiceNumber: string | null;
  entryId: string | null;
  failureCode: string | null;
  failureReason: string | null;
  createdAt: Date;
  /** When a portal retry last sent its charge again (null: only when it was created). */
  resumedAt: Date | null;
  completedAt: Date | null;
  policyVersionId: string | null;
  policyEffectiveFrom: string | null;
}

/** Top-ups of one partner with their invoice number; callers add filters (and a lock). */
export function selectTopUps(db: Executor, partnerId: string) {
  return db
    .selectFrom('topUps as t')
    .leftJoin('invoices as i', (join) => join.onRef('i.id', '=', 't.invoiceId').onRef('i.partnerId', '=', 't.partnerId'))
    .select([
      't.id', 't.partnerId', 't.customerId', 't.userId', 't.currency', 't.amountMicros', 't.feeMicros', 't.status', 't.auto',
      sql<string | null>`t.auto_for_date::text`.as('autoForDate'), 't.gateway', 't.savedCardId', 't.requestKey', 't.chargeRef', 't.invoiceId',
      'i.number as invoiceNumber', 't.entryId', 't.failureCode', 't.failureReason', 't.createdAt', 't.resumedAt', 't.completedAt',
      't.policyVersionId', sql<string | null>`t.policy_effective_from::text`.as('policyEffectiveFrom'),
    ])
    .where('t.partnerId', '=', partnerId);
}

/** One top-up, locked for the rest of the transaction (completion runs under this lock, so it happens once). */
export async function lockTopUp(db: Executor, partnerId: string, topUpId: string): Promise<TopUpRow | undefined> {
  // `FOR UPDATE OF t`: the invoice side of the join is not locked (it may not exist).
  return selectTopUps(db, partnerId).where('t.id', '=', topUpId).forUpdate(['t']).executeTakeFirst();
}

export function currencyOf(code: string): Currency {
  if (!isCurrency(code)) throw new Error(`unknown currency ${code}`);
  return code;
}

export function toTopUpView(row: TopUpRow): TopUpView {
  const currency = currencyOf(row.currency);
  const amount = BigInt(row.amountMicros);
  const fee = BigInt(row.feeMicros);
  return {
    id: row.id, status: row.status, auto: row.auto, currency,
    amount: formatDecimal(amount, currency), fee: formatDecimal(fee, currency), total: formatDecimal(amount + fee, currency),
    invoice: row.invoiceId && row.invoiceNumber ? { id: row.invoiceId, number: row.invoiceNumber } : null,
    savedCardId: row.savedCardId,
    failure: row.failureCode ? { code: row.failureCode, reason: row.failureReason ?? row.failureCode } : null,
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}

export function toStaffTopUpView(row: TopUpRow): StaffTopUpView {
  return { ...toTopUpView(row), customerId: row.customerId, userId: row.userId, gateway: row.gateway, gatewayChargeRef: row.chargeRef,
    policyVersion: row.policyVersionId && row.policyEffectiveFrom ? { id: row.policyVersionId, effectiveFrom: row.policyEffectiveFrom } : null,
  };
}
