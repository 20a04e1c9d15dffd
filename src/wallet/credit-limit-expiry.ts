import type { Logger } from 'pino';
import { inScope, type Db } from '../platform/database.ts';
import type { Config } from '../platform/config.ts';
import type { Ctx } from '../platform/context.ts';
import { systemClock, type Clock } from '../platform/clock.ts';
import { formatDecimal, isCurrency, microsPerMinorUnit } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { issueReversalDebitNote } from '../payments/reversal-debit-note.ts';
import { lockWallet } from './wallets.repo.ts';

/** Wallets handled per run (each in its own transaction). */
export const CREDIT_LIMIT_EXPIRY_BATCH = 200;

export interface CreditLimitExpiryDeps {
  db: Db;
  config: Config;
  log: Logger;
  clock?: Clock;
}

export interface CreditLimitExpiryResult {
  /** Expired limits cleared. */
  cleared: number;
  /** Of those, how many had points spent under them, now billed on a debit note. */
  billed: number;
}

/**
 * A temporary credit limit ends (ledger-design invariant 4: usable points below zero only while a limit covers them).
 * For each wallet whose limit's `credit_limit_expires_at` has passed: the limit is set to zero (audited
 * `credit_limit.expired`, by the system), and points spent under it (points below zero) become what the customer owes,
 * as for a payment reversed after its points were spent: a debit note (a Purchase invoice, whole minor units rounded up)
 * with Dr `receivable:{c}` · Cr `points:{c}` (reversal-debit-note.ts), so the debt shows in AR aging and the portal and
 * can be paid. A wallet with points still held (a call running on the limit) waits for a later run: the hold may settle
 * as a charge. Runs every minute (credit-limit-tasks.ts); one bounded batch.
 */
export async function runCreditLimitExpiry(deps: CreditLimitExpiryDeps, options: { limit?: number } = {}): Promise<CreditLimitExpiryResult> {
  const clock = deps.clock ?? systemClock;
  const now = clock.now();
  const due = await inScope(deps.db, { kind: 'system' }, (trx) => trx.selectFrom('wallets')
    .select(['partnerId', 'customerId', 'currency'])
    .where('creditLimitMicros', '>', '0').where('creditLimitExpiresAt', '<=', now).where('reservedMicros', '=', '0')
    .orderBy('creditLimitExpiresAt').orderBy('customerId')
    .limit(options.limit ?? CREDIT_LIMIT_EXPIRY_BATCH)
    .execute());
  const result: CreditLimitExpiryResult = { cleared: 0, billed: 0 };
  for (const w of due) {
    const ctx: Ctx = {
      db: deps.db, config: deps.config, log: deps.log, clock, principal: { kind: 'system', job: 'credit_limit_expiry' }, requestId: null, ip: null, userAgent: null,
    };
    const billed = await inScope(deps.db, { kind: 'partner', partnerId: w.partnerId }, async (trx) => {
      const key = { partnerId: w.partnerId, customerId: w.customerId, currency: w.currency.trim() };
      const wallet = await lockWallet(trx, key);
      const stored = await trx.selectFrom('wallets').select(['creditLimitMicros', 'creditLimitExpiresAt'])
        .where('partnerId', '=', key.partnerId).where('customerId', '=', key.customerId).where('currency', '=', key.currency)
        .executeTakeFirstOrThrow();
      // Changed since it was listed (a new limit set, a hold taken): a later run looks again.
      if (BigInt(stored.creditLimitMicros) === 0n || stored.creditLimitExpiresAt === null || stored.creditLimitExpiresAt > now || wallet.reservedMicros !== 0n) return null;
      if (!isCurrency(key.currency)) return null;
      const currency = key.currency;
      const limitMicros = BigInt(stored.creditLimitMicros);
      const fmt = (m: bigint) => formatDecimal(m, currency);
      const spentMicros = wallet.pointsMicros < 0n ? -wallet.pointsMicros : 0n;
      const unit = microsPerMinorUnit(currency);
      const amountMicros = ((spentMicros + unit - 1n) / unit) * unit;
      const debitNote = amountMicros > 0n
        ? await issueReversalDebitNote(trx, ctx, {
          partnerId: key.partnerId, actorId: null, customerId: key.customerId, currency, amountMicros, spentMicros,
          expiredCreditLimit: { limitMicros, expiredAt: stored.creditLimitExpiresAt },
        })
        : null;
      await recordAudit(trx, ctx, {
        partnerId: key.partnerId, customerId: key.customerId, app: 'finance', action: 'credit_limit.expired', targetType: 'customer', targetId: key.customerId,
        changes: {
          creditLimit: { before: fmt(limitMicros), after: fmt(0n) }, expiresAt: { before: stored.creditLimitExpiresAt.toISOString(), after: null },
          ...(debitNote ? { debitNote: { after: debitNote.number }, billed: { after: fmt(amountMicros) } } : {}),
        },
      });
      await trx.updateTable('wallets').set({ creditLimitMicros: 0n, creditLimitExpiresAt: null, updatedAt: now })
        .where('partnerId', '=', key.partnerId).where('customerId', '=', key.customerId).where('currency', '=', key.currency).execute();
      return debitNote !== null;
    });
    if (billed === null) continue;
    result.cleared += 1;
    if (billed) result.billed += 1;
  }
  if (result.cleared > 0) deps.log.info(result, 'expired credit limits cleared');
  return result;
}
