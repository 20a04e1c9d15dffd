import { z } from 'zod';
import { CURRENCY_CODES, formatDecimal, type Currency } from '../../money/money.ts';
import type { Ctx } from '../../platform/context.ts';
import type { Executor } from '../../platform/database.ts';
import { isIsoDay, utcDay } from '../../topup/dates.ts';

/** The query both reports take: the currency (default: the partner's) and the day they are drawn up at (default: today, UTC). */
export const reportQuery = z.strictObject({
  currency: z.enum(CURRENCY_CODES).optional().describe("ISO 4217 code; default the partner's default currency"),
  asOf: z.string().refine(isIsoDay, 'a date YYYY-MM-DD').optional().describe('the report as at the end of this day (UTC); default today'),
  format: z.enum(['json', 'csv']).optional().describe('csv: the same rows as RFC 4180 CSV with a header row (as Accept: text/csv asks); json: JSON whatever Accept says'),
});

export interface ReportInput {
  currency?: Currency | undefined;
  asOf?: string | undefined;
}

/** The day the report is drawn up at, and whether it is today (or later) by the context's clock. */
export function reportDay(ctx: Ctx, asOf: string | undefined): { asOf: string; today: string; endOfDay: Date } {
  const today = utcDay(ctx.clock.now());
  const day = asOf ?? today;
  return { asOf: day, today, endOfDay: new Date(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000) };
}

export async function reportCurrency(trx: Executor, partnerId: string, currency: Currency | undefined): Promise<Currency> {
  if (currency) return currency;
  const partner = await trx.selectFrom('partners').select('defaultCurrency').where('id', '=', partnerId).executeTakeFirstOrThrow();
  return partner.defaultCurrency as Currency;
}

export const money = (micros: bigint, currency: Currency): string => formatDecimal(micros, currency);
