import { z } from 'zod';
import type { Trx } from '../platform/database.ts';
import { DomainError, notFound, unknownId } from '../platform/errors.ts';
import { formatDecimal, isCurrency, MICROS_PER_UNIT, parseAmount, type Currency } from '../money/money.ts';
import type { WalletState } from '../wallet/wallets.repo.ts';

/** The largest single points adjustment or credit limit: 100,000,000 units of the currency (keeps every balance far from bigint limits). */
export const MAX_FINANCE_AMOUNT_MICROS = 100_000_000n * MICROS_PER_UNIT;

/** A decimal string in the API; its value is checked by the use case, which knows the customer's currency. */
export const amountString = z.string().max(40).describe('Decimal string in the customer\'s currency, e.g. "10.00"');

export const walletViewSchema = z.object({
  currency: z.string(),
  points: z.string(),
  reserved: z.string(),
  /** The limit in force now: 0 once a temporary limit has expired (its expiry stays shown). */
  creditLimit: z.string(),
  creditLimitExpiresAt: z.string().nullable(),
  usable: z.string(),
});
export type WalletView = z.infer<typeof walletViewSchema>;

export function walletView(w: WalletState | null, currency: Currency): WalletView {
  const fmt = (m: bigint) => formatDecimal(m, currency);
  return {
    currency,
    points: fmt(w?.pointsMicros ?? 0n),
    reserved: fmt(w?.reservedMicros ?? 0n),
    creditLimit: fmt(w?.creditLimitMicros ?? 0n),
    creditLimitExpiresAt: w?.creditLimitExpiresAt?.toISOString() ?? null,
    usable: fmt(w?.usableMicros ?? 0n),
  };
}

export interface FinanceCustomer {
  id: string;
  currency: Currency;
  status: 'active' | 'suspended' | 'closed';
}

/**
 * The partner's customer (another partner's customer is "not found" too): a 404 when the customer is the path's, or,
 * given the body `field` that named it, 422 `customer_not_found` naming that field (docs/adr/0037).
 */
export async function customerOf(trx: Trx, partnerId: string, customerId: string, field?: string): Promise<FinanceCustomer> {
  const c = await trx.selectFrom('customers').select(['id', 'currency', 'status']).where('partnerId', '=', partnerId).where('id', '=', customerId).executeTakeFirst();
  if (!c) throw field === undefined ? notFound('Customer') : unknownId('customer_not_found', field, 'Customer');
  if (!isCurrency(c.currency)) throw new DomainError('state_conflict', `Customer currency ${c.currency} is not supported`);
  return { id: c.id, currency: c.currency, status: c.status };
}

/**
 * A money amount of a Finance request: a decimal string with at most the currency's minor-unit decimals, within
 * bounds. Not a decimal string is a 400 naming the field; too many decimals, zero (or less) where more is needed, or
 * more than the bound is a 422 `rule_violation` naming it (docs/adr/0040).
 */
export function financeAmount(value: string, currency: Currency, field: string, opts: { allowZero: boolean }): bigint {
  const micros = parseAmount(value, currency, field);
  const tooSmall = opts.allowZero ? micros < 0n : micros <= 0n;
  if (tooSmall) {
    const rule = opts.allowZero ? 'zero or more' : 'more than zero';
    throw new DomainError('rule_violation', `${field} must be ${rule}`, [{ path: field, message: `must be ${rule}` }]);
  }
  if (micros > MAX_FINANCE_AMOUNT_MICROS) {
    const max = formatDecimal(MAX_FINANCE_AMOUNT_MICROS, currency);
    throw new DomainError('rule_violation', `${field} must be at most ${max}`, [{ path: field, message: `at most ${max}` }]);
  }
  return micros;
}
