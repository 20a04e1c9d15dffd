import type { Logger } from 'pino';
import type { ChargeResult, Gateway } from '../../gateway/gateway.ts';
import { inScope, type Db } from '../../platform/database.ts';
import { DomainError } from '../../platform/errors.ts';
import { recordAudit } from '../../audit/record-audit.ts';
import { chargeKey } from '../../topup/charge-top-up.ts';
import { completeTopUp, type AuditActor } from '../../topup/complete-top-up.ts';
import { lockTopUp } from '../../topup/top-up-views.ts';
import { formatDecimal } from '../../money/money.ts';
import type { Actor } from './bulk-writes.ts';
import { renewGroups, type CardTopUp, type GroupOutcome } from './renew-groups.ts';

export interface RenewalDeps {
  db: Db;
  gateway: Gateway;
  log: Logger;
}

/** Who acts: the trail's actor for bulk writes, and the same as an AuditActor for the top-up code. */
export interface RenewalActor {
  actor: Actor;
  audit: AuditActor;
}

export type CardOutcome = 'renewed' | 'pending' | 'failed';

/**
 * Renewal by card, for one group whose points fell short (a pending renewal top-up of exactly the group's fee was
 * committed by renewGroups): the saved card is charged OUTSIDE any transaction, with the gateway idempotency key of the
 * top-up, so a rerun after a crash (or a second run at the same time) charges it once. Then, in one transaction:
 * - succeeded: the top-up completes (points credited, paid Top-up invoice, receipt: src/topup/complete-top-up.ts) and the
 *   group renews from those points at once;
 * - pending (a card that settles later): the top-up stays pending with its charge reference; the gateway's webhook
 *   completes it and the next run renews the group from points;
 * - declined (or refused by the gateway): the top-up fails (audited `top_up.failed`) and the group's renewal fails with
 *   the card's reason, the owner told "renewal failed";
 * - the gateway unreachable: nothing changes; the next run charges again with the same key.
 */
export async function settleRenewalTopUp(
  deps: RenewalDeps,
  who: RenewalActor,
  card: CardTopUp,
  options: { asOf: Date; retryFailed: boolean; app?: string },
): Promise<{ outcome: CardOutcome; group: GroupOutcome | null; reason: string | null }> {
  const { key } = card;
  let result: ChargeResult;
  try {
    result = await deps.gateway.charge({
      amountMicros: card.amountMicros, currency: card.currency, idempotencyKey: chargeKey(card.topUpId),
      description: `Subscription renewal top-up ${card.topUpId}`,
      metadata: { topUpId: card.topUpId, partnerId: key.partnerId, customerId: key.customerId },
      customerRef: card.customerRef, methodRef: card.methodRef,
    });
  } catch (err) {
    if (!(err instanceof DomainError)) {
      deps.log.error({ err, topUpId: card.topUpId }, 'renewal card charge failed to reach the gateway; retried by the next run');
      return { outcome: 'pending', group: null, reason: null };
    }
    result = { status: 'declined', chargeRef: null, failureReason: err.code };
  }
  const scope = { kind: 'partner' as const, partnerId: key.partnerId };
  const base = { asOf: options.asOf, actor: who.actor, retryFailed: options.retryFailed, ...(options.app ? { app: options.app } : {}) };

  if (result.status === 'succeeded') {
    const chargeRef = result.chargeRef;
    return inScope(deps.db, scope, async (trx) => {
      await completeTopUp(trx, who.audit, { partnerId: key.partnerId, topUpId: card.topUpId, outcome: { status: 'succeeded', chargeRef }, source: 'charge' });
      const [group] = await renewGroups(trx, [key], { ...base, onShort: 'fail', cardGateway: null });
      return { outcome: group?.status === 'renewed' ? 'renewed' : 'failed', group: group ?? null, reason: group?.reason ?? null };
    });
  }
  if (result.status === 'pending') {
    const chargeRef = result.chargeRef;
    await inScope(deps.db, scope, (trx) =>
      completeTopUp(trx, who.audit, { partnerId: key.partnerId, topUpId: card.topUpId, outcome: { status: 'pending', chargeRef }, source: 'charge' }));
    return { outcome: 'pending', group: null, reason: null };
  }

  const declined = result as Extract<ChargeResult, { status: 'declined' | 'insufficient_funds' }>;
  const reason = `the renewal card was ${declined.status === 'insufficient_funds' ? 'declined for insufficient funds' : `declined (${declined.failureReason})`}`;
  const code = declined.status === 'insufficient_funds' ? 'insufficient_funds' : 'declined';
  const declinedRef = declined.chargeRef;
  return inScope(deps.db, scope, async (trx) => {
    const row = await lockTopUp(trx, key.partnerId, card.topUpId);
    if (row?.status === 'pending') {
      const now = options.asOf;
      await trx
        .updateTable('topUps')
        .set({ status: 'failed', chargeRef: declinedRef ?? row.chargeRef, failureCode: code, failureReason: reason.slice(0, 500), completedAt: now, updatedAt: now })
        .where('id', '=', row.id).where('partnerId', '=', row.partnerId)
        .execute();
      await recordAudit(trx, who.audit, {
        partnerId: row.partnerId, customerId: row.customerId, app: 'finance', action: 'top_up.failed', targetType: 'top_up', targetId: row.id,
        changes: {
          amount: { after: formatDecimal(card.amountMicros, card.currency) }, currency: { after: card.currency }, auto: { after: true },
          status: { before: 'pending', after: 'failed' }, failureCode: { after: code }, failureReason: { after: reason },
        },
      });
    }
    const [group] = await renewGroups(trx, [key], { ...base, onShort: 'fail', cardGateway: null, failWith: reason });
    return { outcome: 'failed' as const, group: group ?? null, reason };
  });
}
