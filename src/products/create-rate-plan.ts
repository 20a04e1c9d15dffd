import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { formatDecimal, type Currency } from '../money/money.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import {
  lockDefaultSlot, newRatePlanId, parseIncrement, parseRateAmount, rateAmountRefusal, RATE_DECIMALS, ratePlanView, MAX_RATE_MICROS, type RatePlanView,
} from './rate-plans.repo.ts';

export interface CreateRatePlanInput {
  name: string;
  currency: Currency;
  /** "first/next" billing blocks in seconds: "60/60", "30/6", "1/1", or any other pair of 1..3600. */
  increment: string;
  /** Applied to any answered call; up to 6 decimals. Default "0". */
  minimumCharge?: string | undefined;
  whenInsufficient?: 'reject' | 'use_credit_limit' | undefined;
  /** Make it the partner's default plan for its currency (the one calls are rated on); the previous default stops being one. */
  isDefault?: boolean | undefined;
}

/** A new rate plan, without rates yet (`replaceRates` fills it). Audited as `rate_plan.created`. */
export async function createRatePlan(ctx: Ctx, input: CreateRatePlanInput): Promise<RatePlanView> {
  const { partnerId } = partnerCaller(ctx.principal);
  const { first, next } = parseIncrement(input.increment);
  const minimum = parseRateAmount(input.minimumCharge ?? '0', input.currency);
  if (minimum === null) {
    throw new DomainError(rateAmountRefusal(input.minimumCharge ?? '0', input.currency), `minimumCharge must be a decimal string, 0 to ${formatDecimal(MAX_RATE_MICROS, input.currency)}, at most ${RATE_DECIMALS} decimals`, [
      { path: 'minimumCharge', message: `0 or more, at most ${RATE_DECIMALS} decimals` },
    ]);
  }
  const isDefault = input.isDefault ?? false;
  const whenInsufficient = input.whenInsufficient ?? 'reject';
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    let previousDefault: string | null = null;
    if (isDefault) {
      await lockDefaultSlot(trx, partnerId, input.currency);
      const demoted = await trx
        .updateTable('ratePlans').set({ isDefault: false })
        .where('partnerId', '=', partnerId).where('currency', '=', input.currency).where('isDefault', '=', true)
        .returning('id')
        .executeTakeFirst();
      previousDefault = demoted?.id ?? null;
    }
    const id = newRatePlanId();
    const row = await trx
      .insertInto('ratePlans')
      .values({
        id, partnerId, name: input.name, currency: input.currency, firstIncrementSeconds: first, nextIncrementSeconds: next,
        minimumChargeMicros: minimum, whenInsufficient, isDefault, ratesVersion: 1, ratesUpdatedAt: sql`now()`,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const view = ratePlanView(row, 0);
    await recordAudit(trx, ctx, {
      partnerId, app: 'product', action: 'rate_plan.created', targetType: 'rate_plan', targetId: id,
      changes: {
        ...diff(null, { name: view.name, currency: view.currency, increment: view.increment, minimumCharge: view.minimumCharge, whenInsufficient, isDefault }),
        ...(previousDefault ? { previousDefault: { before: previousDefault } } : {}),
      },
    });
    return view;
  });
}
