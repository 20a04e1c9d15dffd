import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { inScope, type Executor } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { timestamp } from '../platform/schemas.ts';
import { CURRENCY_CODES, MICROS_PER_UNIT, formatDecimal, isCurrency, parseAmount, type Currency } from '../money/money.ts';
import { portalCaller } from '../access/caller.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { readWallet } from './wallets.repo.ts';

/**
 * Low balance alert: when a wallet's usable points (points - reserved + credit limit while it has not expired) fall
 * to its threshold or below, the organisation is told once (`low_balance`, low-balance-sweep.ts); it is told again only
 * after usable points were above the threshold once more. Customers with auto top-up on in the currency are not told
 * (auto top-up tops them up, and tells its own failures). On by default, at the currency's default threshold; owners and
 * admins change it or turn it off in the portal's Points tab.
 */

/** A threshold of 5 major units, except where the currency's usual amounts call for another. */
const FIVE_UNITS = 5n * MICROS_PER_UNIT;
const DEFAULTS: Partial<Record<Currency, bigint>> = {
  SGD: FIVE_UNITS, USD: FIVE_UNITS, AUD: FIVE_UNITS, HKD: FIVE_UNITS, MYR: 15n * MICROS_PER_UNIT, VND: 100_000n * MICROS_PER_UNIT,
};

/** The default threshold of each currency Folio bills in (micros). */
export const LOW_BALANCE_DEFAULT_MICROS: Readonly<Record<Currency, bigint>> = Object.fromEntries(
  CURRENCY_CODES.map((c) => [c, DEFAULTS[c] ?? FIVE_UNITS]),
) as Record<Currency, bigint>;

/** The default threshold of a currency Folio does not know: 5 major units. */
export const LOW_BALANCE_FALLBACK_MICROS = FIVE_UNITS;

/** The highest threshold a customer may set: 1,000,000 major units. */
export const LOW_BALANCE_MAX_MICROS = 1_000_000n * MICROS_PER_UNIT;

export const lowBalanceAlertSchema = z.object({
  enabled: z.boolean(),
  /** The customer's own threshold; null: the default. */
  threshold: z.string().nullable(),
  defaultThreshold: z.string(),
  currency: z.string(),
  /** 'above': armed; 'alerted': told, armed again once usable points are above the threshold. Null until the first sweep or save. */
  state: z.enum(['above', 'alerted']).nullable(),
  updatedAt: timestamp.nullable(),
});
export type LowBalanceAlertView = z.infer<typeof lowBalanceAlertSchema>;

interface AlertRow {
  enabled: boolean;
  thresholdMicros: string | null;
  state: 'above' | 'alerted';
  changedAt: Date;
}

type Key = { partnerId: string; customerId: string };

async function readCustomer(db: Executor, key: Key): Promise<{ currency: Currency; status: string }> {
  const c = await db.selectFrom('customers').select(['currency', 'status']).where('partnerId', '=', key.partnerId).where('id', '=', key.customerId).executeTakeFirst();
  if (!c) throw notFound('Customer');
  if (!isCurrency(c.currency)) throw new Error(`unknown currency ${c.currency}`);
  return { currency: c.currency, status: c.status };
}

async function readAlert(db: Executor, key: Key, currency: Currency, lock = false): Promise<AlertRow | undefined> {
  const q = db
    .selectFrom('lowBalanceAlerts')
    .select(['enabled', 'thresholdMicros', 'state', 'changedAt'])
    .where('partnerId', '=', key.partnerId).where('customerId', '=', key.customerId).where('currency', '=', currency);
  return lock ? q.forUpdate().executeTakeFirst() : q.executeTakeFirst();
}

function toView(currency: Currency, row: AlertRow | undefined): LowBalanceAlertView {
  const defaultThreshold = formatDecimal(LOW_BALANCE_DEFAULT_MICROS[currency], currency);
  if (!row) return { enabled: true, threshold: null, defaultThreshold, currency, state: null, updatedAt: null };
  return {
    enabled: row.enabled, threshold: row.thresholdMicros === null ? null : formatDecimal(BigInt(row.thresholdMicros), currency),
    defaultThreshold, currency, state: row.state, updatedAt: row.changedAt.toISOString(),
  };
}

export async function portalGetLowBalanceAlert(ctx: Ctx): Promise<LowBalanceAlertView> {
  const caller = portalCaller(ctx.principal);
  const key = { partnerId: caller.partnerId, customerId: caller.customerId };
  return inScope(ctx.db, { kind: 'customer', ...key }, async (trx) => {
    const { currency } = await readCustomer(trx, key);
    return toView(currency, await readAlert(trx, key, currency));
  });
}

export interface UpdateLowBalanceAlertInput {
  enabled: boolean;
  /** A decimal string in the customer's currency; null: the default. */
  threshold: string | null;
}

/**
 * Set the organisation's low balance alert (its own currency). The state is set from the balance as it is now: a
 * threshold at or above the usable points counts as already told (no mail at once), and the alert is armed again when
 * usable points rise above it. Audited (before/after) in the same transaction; nothing is written when nothing changed.
 * A closed customer is refused (409 state_conflict), a suspended one is not.
 */
export async function portalUpdateLowBalanceAlert(ctx: Ctx, input: UpdateLowBalanceAlertInput): Promise<LowBalanceAlertView> {
  const caller = portalCaller(ctx.principal);
  const key = { partnerId: caller.partnerId, customerId: caller.customerId };
  return inScope(ctx.db, { kind: 'customer', ...key }, async (trx) => {
    const { currency, status } = await readCustomer(trx, key);
    // A closed account is alerted no more (the sweep passes over it) and sets nothing new, as it tops up no more: its
    // setting stays readable. A suspended one may still change it (ADR 0034 amendment).
    if (status === 'closed') throw new DomainError('state_conflict', 'This account is closed: its low balance alert can no longer be changed.');
    let threshold: bigint | null = null;
    if (input.threshold !== null) {
      threshold = parseAmount(input.threshold, currency, 'threshold');
      if (threshold < 0n) throw new DomainError('rule_violation', 'threshold must be zero or more', [{ path: 'threshold', message: 'zero or more' }]);
      if (threshold > LOW_BALANCE_MAX_MICROS) {
        const max = formatDecimal(LOW_BALANCE_MAX_MICROS, currency);
        throw new DomainError('rule_violation', `threshold must be at most ${max}`, [{ path: 'threshold', message: `at most ${max}` }]);
      }
    }

    const before = await readAlert(trx, key, currency, true);
    const shown = (s: { enabled: boolean; thresholdMicros: string | null } | undefined) =>
      s ? { enabled: s.enabled, threshold: s.thresholdMicros === null ? null : formatDecimal(BigInt(s.thresholdMicros), currency) } : null;
    const next = { enabled: input.enabled, thresholdMicros: threshold === null ? null : threshold.toString() };
    // No row yet reads as the default setting: on, at the default threshold.
    const changes = diff(shown(before ?? { enabled: true, thresholdMicros: null }), shown(next));
    if (Object.keys(changes).length === 0) return toView(currency, before);

    const wallet = await readWallet(trx, { ...key, currency });
    const usable = wallet?.usableMicros ?? 0n;
    const state = usable > (threshold ?? LOW_BALANCE_DEFAULT_MICROS[currency]) ? 'above' : 'alerted';
    const now = ctx.clock.now();
    await trx
      .insertInto('lowBalanceAlerts')
      .values({ ...key, currency, ...next, state, changedAt: now, updatedBy: caller.userId })
      .onConflict((oc) => oc.columns(['partnerId', 'customerId', 'currency']).doUpdateSet({ ...next, state, changedAt: now, updatedBy: caller.userId }))
      .execute();
    await recordAudit(trx, ctx, {
      partnerId: key.partnerId, customerId: key.customerId, app: 'portal', action: 'points.low_balance_alert_changed', targetType: 'customer', targetId: key.customerId,
      changes: diff(shown(before), shown(next)),
    });
    return toView(currency, await readAlert(trx, key, currency));
  });
}
