import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { formatDecimal } from '../money/money.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { lockWallet, readWallet } from '../wallet/wallets.repo.ts';
import { customerOf, financeAmount, walletView, type WalletView } from './finance-views.ts';

export interface SetCreditLimitInput {
  customerId: string;
  amount: string;
  /** RFC 3339; null or absent: a permanent limit. */
  expiresAt?: string | null;
}

/**
 * Set a customer's credit limit, permanent or until `expiresAt` (a temporary limit stops counting for new spending when
 * it expires; what was spent under it stays). 0 removes the limit. The limit may never go below what is in use
 * (reserved − points, when positive): 422 `credit_limit_in_use`. Audited as `credit_limit.set` with before and after;
 * setting the same limit again changes nothing and writes no event.
 */
export async function setCreditLimit(ctx: Ctx, input: SetCreditLimitInput): Promise<WalletView> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const customer = await customerOf(trx, partnerId, input.customerId);
    const micros = financeAmount(input.amount, customer.currency, 'amount', { allowZero: true });
    const fmt = (m: bigint) => formatDecimal(m, customer.currency);
    let expiresAt: Date | null = null;
    if (input.expiresAt !== undefined && input.expiresAt !== null) {
      expiresAt = new Date(input.expiresAt);
      const { rows } = await sql<{ now: Date }>`select now() as now`.execute(trx);
      if (Number.isNaN(expiresAt.getTime()) || expiresAt <= rows[0]!.now) {
        throw new DomainError('rule_violation', 'expiresAt must be in the future', [{ path: 'expiresAt', message: 'must be in the future' }]);
      }
      if (micros === 0n) {
        throw new DomainError('rule_violation', 'A limit of zero cannot expire: leave expiresAt out', [{ path: 'expiresAt', message: 'only with a limit above zero' }]);
      }
    }
    const wallet = { partnerId, customerId: customer.id, currency: customer.currency };
    const state = await lockWallet(trx, wallet);
    const stored = await trx
      .selectFrom('wallets').select(['creditLimitMicros', 'creditLimitExpiresAt'])
      .where('partnerId', '=', partnerId).where('customerId', '=', customer.id).where('currency', '=', customer.currency)
      .executeTakeFirstOrThrow();
    const inUse = state.reservedMicros - state.pointsMicros;
    if (micros < inUse) {
      throw new DomainError('credit_limit_in_use', `${fmt(inUse)} ${customer.currency} of credit is in use: the limit cannot go below it`, [
        { path: 'amount', message: `at least ${fmt(inUse)} (in use)` },
      ]);
    }
    const before = { creditLimit: fmt(BigInt(stored.creditLimitMicros)), expiresAt: stored.creditLimitExpiresAt?.toISOString() ?? null };
    const after = { creditLimit: fmt(micros), expiresAt: expiresAt?.toISOString() ?? null };
    const changes = diff(before, after);
    if (Object.keys(changes).length > 0) {
      await trx
        .updateTable('wallets')
        .set({ creditLimitMicros: micros.toString(), creditLimitExpiresAt: expiresAt, updatedAt: sql`now()` })
        .where('partnerId', '=', partnerId).where('customerId', '=', customer.id).where('currency', '=', customer.currency)
        .execute();
      await recordAudit(trx, ctx, {
        partnerId, customerId: customer.id, app: 'finance', action: 'credit_limit.set', targetType: 'customer', targetId: customer.id,
        changes: { ...changes, currency: { after: customer.currency } },
      });
    }
    return walletView(await readWallet(trx, wallet), customer.currency);
  });
}
