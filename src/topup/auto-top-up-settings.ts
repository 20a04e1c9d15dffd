import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { inScope, type Executor } from '../platform/database.ts';
import { DomainError, FieldProblems, notFound } from '../platform/errors.ts';
import { timestamp } from '../platform/schemas.ts';
import { decimalRefusal, formatDecimal, parseDecimal, CURRENCIES, type Currency } from '../money/money.ts';
import { portalCaller } from '../access/caller.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { utcDay } from './dates.ts';
import { applyPolicy, maxTopUpMicros, maxTopUpMessage, policyInForce } from './top-up-policy.ts';
import { savedCardSchema, toSavedCardView, usableSavedCard, type SavedCardRow } from './saved-cards.ts';
import { currencyOf } from './top-up-views.ts';

/**
 * Auto top-up: when the organisation's usable points fall to `threshold` or below, its saved card is charged for
 * `amount` (the top-up policy applies: minimum and fee), at most once a day (auto-top-up-sweep.ts).
 */
export const autoTopUpSchema = z.object({
  enabled: z.boolean(),
  currency: z.string(),
  /** Null until set for the first time. */
  threshold: z.string().nullable(),
  amount: z.string().nullable(),
  savedCardId: z.string().nullable(),
  savedCard: savedCardSchema.nullable(),
  /** The last day (UTC) an automatic top-up was attempted; the next one can come the day after. */
  lastAttemptedOn: z.iso.date().nullable(),
  updatedAt: timestamp.nullable(),
});
export type AutoTopUpView = z.infer<typeof autoTopUpSchema>;

interface SettingsRow {
  enabled: boolean;
  currency: string;
  thresholdMicros: string;
  amountMicros: string;
  savedCardId: string | null;
  lastAttemptedOn: string | null;
  updatedAt: Date;
}

async function readSettings(db: Executor, key: { partnerId: string; customerId: string }, lock = false): Promise<SettingsRow | undefined> {
  const q = db
    .selectFrom('autoTopUpSettings')
    .select(['enabled', 'currency', 'thresholdMicros', 'amountMicros', 'savedCardId', sql<string | null>`last_attempted_on::text`.as('lastAttemptedOn'), 'updatedAt'])
    .where('partnerId', '=', key.partnerId).where('customerId', '=', key.customerId);
  return lock ? q.forUpdate().executeTakeFirst() : q.executeTakeFirst();
}

async function readCustomer(db: Executor, key: { partnerId: string; customerId: string }): Promise<{ currency: Currency; status: string }> {
  const c = await db.selectFrom('customers').select(['currency', 'status']).where('partnerId', '=', key.partnerId).where('id', '=', key.customerId).executeTakeFirst();
  if (!c) throw notFound('Customer');
  return { currency: currencyOf(c.currency), status: c.status };
}

/**
 * Whether `input` only turns the stored auto top-up off: `enabled` false, threshold, amount and card as they are (a
 * setting already off, sent again as it is, changes nothing). Nothing stored reads as off, with nothing to keep.
 */
function onlyTurnsOff(row: SettingsRow | undefined, currency: Currency, input: UpdateAutoTopUpInput): boolean {
  return !input.enabled && row !== undefined
    && parseDecimal(input.threshold, currency) === BigInt(row.thresholdMicros)
    && parseDecimal(input.amount, currency) === BigInt(row.amountMicros)
    && input.savedCardId === row.savedCardId;
}

async function cardView(db: Executor, key: { partnerId: string; customerId: string }, id: string | null) {
  if (!id) return null;
  const card = await db
    .selectFrom('savedCards').select(['id', 'gateway', 'gatewayCustomerRef', 'methodRef', 'brand', 'last4', 'expMonth', 'expYear', 'createdAt'])
    .where('partnerId', '=', key.partnerId).where('customerId', '=', key.customerId).where('id', '=', id)
    .executeTakeFirst();
  return card ? toSavedCardView(card) : null;
}

function toView(currency: Currency, row: SettingsRow | undefined, card: z.infer<typeof savedCardSchema> | null): AutoTopUpView {
  if (!row) return { enabled: false, currency, threshold: null, amount: null, savedCardId: null, savedCard: null, lastAttemptedOn: null, updatedAt: null };
  return {
    enabled: row.enabled, currency,
    threshold: formatDecimal(BigInt(row.thresholdMicros), currency), amount: formatDecimal(BigInt(row.amountMicros), currency),
    savedCardId: row.savedCardId, savedCard: card, lastAttemptedOn: row.lastAttemptedOn, updatedAt: row.updatedAt.toISOString(),
  };
}

export async function portalGetAutoTopUp(ctx: Ctx): Promise<AutoTopUpView> {
  const caller = portalCaller(ctx.principal);
  const key = { partnerId: caller.partnerId, customerId: caller.customerId };
  return inScope(ctx.db, { kind: 'customer', ...key }, async (trx) => {
    const { currency } = await readCustomer(trx, key);
    const row = await readSettings(trx, key);
    return toView(currency, row, await cardView(trx, key, row?.savedCardId ?? null));
  });
}

export interface UpdateAutoTopUpInput {
  enabled: boolean;
  threshold: string;
  amount: string;
  savedCardId: string | null;
}

/**
 * Set the organisation's auto top-up. When on, the amount must meet today's minimum (422) and a saved card of the
 * organisation is needed (400 without one, 404 for a card it does not have). Changing the settings does not reset the day's
 * attempt: at most one automatic top-up a day, whatever happens. A closed customer may only turn it off (409
 * state_conflict for anything else), a suspended one may change it.
 */
export async function portalUpdateAutoTopUp(ctx: Ctx & { gateway: Gateway }, input: UpdateAutoTopUpInput): Promise<AutoTopUpView> {
  const caller = portalCaller(ctx.principal);
  const key = { partnerId: caller.partnerId, customerId: caller.customerId };
  return inScope(ctx.db, { kind: 'customer', ...key }, async (trx) => {
    const { currency, status } = await readCustomer(trx, key);
    // A closed account tops up no more (the sweep passes over it) and sets nothing new, as its low balance alert: its
    // setting stays readable. Turning it off, all else as it is, is still taken: it only stops charges, and a setting
    // left on would charge the saved card again as soon as the account were reopened, which its owner may mean to rule
    // out now. Anything else (turning it on; a new threshold, amount or card, even with it off) is refused before it is
    // checked, nothing written or audited. A suspended one may still change it (the sweep passes over it too until it is
    // active again). ADR 0038 amendment.
    if (status === 'closed' && !onlyTurnsOff(await readSettings(trx, key, true), currency, input)) {
      throw new DomainError('state_conflict', 'This account is closed: its auto top-up can no longer be changed, only turned off.');
    }
    // Not a decimal string, or no card to turn it on with, is malformed (400); a readable amount that breaks a rule (too
    // many decimals, below zero or not above it, over the most) is 422 rule_violation (docs/adr/0040).
    const problems = new FieldProblems();
    const threshold = parseDecimal(input.threshold, currency);
    if (threshold === null) problems.add(decimalRefusal(input.threshold, currency).code, 'threshold', `a decimal string with at most ${CURRENCIES[currency]} decimals for ${currency}, zero or more`);
    else if (threshold < 0n) problems.add('rule_violation', 'threshold', 'zero or more');
    else if (threshold > maxTopUpMicros(currency)) problems.add('rule_violation', 'threshold', maxTopUpMessage(currency));
    const amount = parseDecimal(input.amount, currency);
    if (amount === null) problems.add(decimalRefusal(input.amount, currency).code, 'amount', `a decimal string with at most ${CURRENCIES[currency]} decimals for ${currency}, more than zero`);
    else if (amount <= 0n) problems.add('rule_violation', 'amount', 'more than zero');
    else if (amount > maxTopUpMicros(currency)) problems.add('rule_violation', 'amount', maxTopUpMessage(currency));
    if (input.enabled && input.savedCardId === null) problems.add('validation_failed', 'savedCardId', 'a saved card is needed to turn auto top-up on');
    problems.throwIfAny((errors) => `Invalid auto top-up: ${errors.map((e) => e.path).join(', ')}`);
    // The minimum is checked when auto top-up is on (turning it off is always possible); the sweep checks it again each time.
    if (input.enabled) applyPolicy(await policyInForce(trx, key.partnerId, currency, utcDay(ctx.clock.now())), amount!);
    let card: SavedCardRow | null = null;
    if (input.savedCardId !== null) card = await usableSavedCard(trx, key, ctx.gateway.name, input.savedCardId);

    const before = await readSettings(trx, key, true);
    const next = { enabled: input.enabled, thresholdMicros: threshold!.toString(), amountMicros: amount!.toString(), savedCardId: card?.id ?? null };
    const shown = (s: { enabled: boolean; thresholdMicros: string; amountMicros: string; savedCardId: string | null } | undefined) =>
      s ? { enabled: s.enabled, threshold: formatDecimal(BigInt(s.thresholdMicros), currency), amount: formatDecimal(BigInt(s.amountMicros), currency), savedCardId: s.savedCardId } : null;
    const changes = diff(shown(before), shown(next));
    if (before && Object.keys(changes).length === 0) return toView(currency, before, card ? toSavedCardView(card) : null);
    await trx
      .insertInto('autoTopUpSettings')
      .values({ ...key, currency, ...next, lastAttemptedOn: null, updatedBy: caller.userId, updatedAt: new Date() })
      .onConflict((oc) => oc.columns(['partnerId', 'customerId']).doUpdateSet({ ...next, updatedBy: caller.userId, updatedAt: new Date() }))
      .execute();
    await recordAudit(trx, ctx, {
      partnerId: key.partnerId, customerId: key.customerId, app: 'portal', action: 'auto_top_up.updated', targetType: 'customer', targetId: key.customerId, changes,
    });
    return toView(currency, await readSettings(trx, key), card ? toSavedCardView(card) : null);
  });
}
