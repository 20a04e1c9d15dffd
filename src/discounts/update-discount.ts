import { isoDay } from '../platform/schemas.ts';
import { assertIfMatch, viewEtag } from '../platform/etag.ts';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { addDaysIso, amountOffMicros, bpsOf, fail, findOverlap, isExclusionViolation, overlapError } from './discount-input.ts';
import { findDiscountView, type DiscountView } from './discount-views.ts';
import { auditChangesOf, todayOf } from './discount-audit.ts';
import { isCurrency } from '../money/money.ts';

/**
 * Change a discount (the Discount app). Its target and scope never change (end it and create another). Once it has
 * started, only its name and its end may change: a new rate would make one discount mean two prices, so a started
 * discount's rate or start is refused (409 `discount_started`: end it and create a new one). A scheduled one may change
 * its rate and dates. An ended discount is kept as it was (409 `discount_ended`). An end moved earlier than yesterday is
 * refused (an end in the past would pretend the discount was not in force on days it was). Invoices already issued never
 * change. Audited `discount.changed` with before and after.
 */
export const updateDiscountBody = z.strictObject({
  name: z.string().trim().min(1).max(120).optional(),
  percentOff: z.string().max(12).regex(/^-?\d+(\.\d+)?$/, 'a percent such as "10" or "12.5"').optional()
    .describe('More than 0, at most 100, at most 2 decimals (else 422 rule_violation)'),
  amountOff: z.strictObject({ amount: z.string().max(40), currency: z.string().length(3) }).optional(),
  startsOn: isoDay.optional(),
  endsOn: isoDay.nullable().optional().describe('Last day in force; null: unlimited'),
});
export type UpdateDiscountBody = z.infer<typeof updateDiscountBody>;

export async function lockDiscount(trx: Trx, partnerId: string, id: string) {
  const row = await trx.selectFrom('discounts').selectAll().select((eb) => [eb.cast<string>('startsOn', 'text').as('startsOnDay'), eb.cast<string | null>('endsOn', 'text').as('endsOnDay')])
    .where('partnerId', '=', partnerId).where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw new DomainError('not_found', 'Discount not found');
  return row;
}

export async function updateDiscount(ctx: Ctx, id: string, body: UpdateDiscountBody, ifMatch?: string): Promise<DiscountView> {
  const caller = partnerCaller(ctx.principal);
  const today = todayOf(ctx);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const row = await lockDiscount(trx, caller.partnerId, id);
    const before = (await findDiscountView(trx, caller.partnerId, id, today))!;
    assertIfMatch(ifMatch, () => viewEtag(before), 'discount');
    if (before.status === 'ended') throw new DomainError('discount_ended', `"${row.name}" has ended and is kept as it was: create a new discount instead`);
    const started = before.status === 'active';
    const set: { name?: string; percentBps?: number; startsOn?: string; endsOn?: string | null } = {};
    if (body.name !== undefined) set.name = body.name;
    for (const field of ['percentOff', 'amountOff', 'startsOn'] as const) {
      if (body[field] !== undefined && started) {
        throw new DomainError('discount_started', `"${row.name}" has started: its rate and start no longer change. End it and create a new discount`, [
          { path: field, message: 'a started discount keeps its rate and start: end it and create a new one' },
        ]);
      }
    }
    if (body.percentOff !== undefined) {
      if (row.kind !== 'percent') fail('rule_violation', 'percentOff', 'this discount is a fixed amount: change amountOff');
      set.percentBps = bpsOf(body.percentOff);
    }
    let amountMicros: bigint | undefined;
    if (body.amountOff !== undefined) {
      if (row.kind !== 'fixed') fail('rule_violation', 'amountOff', 'this discount is a percent: change percentOff');
      const c = body.amountOff.currency.toUpperCase();
      if (!isCurrency(c) || c !== row.currency?.trim()) fail('currency_mismatch', 'amountOff.currency', `the discount is in ${row.currency?.trim()}`);
      amountMicros = amountOffMicros(body.amountOff.amount, c);
    }
    const startsOn = body.startsOn ?? row.startsOnDay;
    if (body.startsOn !== undefined) {
      if (body.startsOn < today) fail('rule_violation', 'startsOn', `not before today (${today})`);
      set.startsOn = body.startsOn;
    }
    const endsOn = body.endsOn === undefined ? row.endsOnDay : body.endsOn;
    if (body.endsOn !== undefined) {
      if (endsOn !== null && endsOn < startsOn) fail('rule_violation', 'endsOn', `not before startsOn (${startsOn})`);
      if (endsOn !== null && started && endsOn < addDaysIso(today, -1)) fail('rule_violation', 'endsOn', `not before yesterday (${addDaysIso(today, -1)}): to stop it now, end it`);
      set.endsOn = endsOn;
    }
    if (body.startsOn !== undefined && endsOn !== null && endsOn < startsOn) fail('rule_violation', 'startsOn', `not after endsOn (${endsOn})`);
    if (body.startsOn !== undefined || body.endsOn !== undefined) {
      const other = await findOverlap(trx, caller.partnerId, { ...row, productType: row.productType, startsOn, endsOn }, id);
      if (other) throw overlapError(other);
    }
    if (Object.keys(set).length === 0 && amountMicros === undefined) return before;
    try {
      await trx.updateTable('discounts').set({ ...set, ...(amountMicros !== undefined ? { amountMicros } : {}), updatedAt: ctx.clock.now() })
        .where('partnerId', '=', caller.partnerId).where('id', '=', id).execute();
    } catch (err) {
      if (isExclusionViolation(err)) throw overlapError({ name: 'another discount', startsOn, endsOn });
      throw err;
    }
    const after = (await findDiscountView(trx, caller.partnerId, id, today))!;
    const changes = auditChangesOf(before, after);
    if (Object.keys(changes).length > 0) {
      await recordAudit(trx, ctx, {
        partnerId: caller.partnerId, customerId: row.customerId, app: 'discount', action: 'discount.changed', targetType: 'discount', targetId: id, changes,
      });
    }
    return after;
  });
}
