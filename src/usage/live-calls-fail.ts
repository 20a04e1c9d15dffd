import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { partnerIdOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { releaseReservation } from '../wallet/reservations.ts';
import { lockWallet } from '../wallet/wallets.repo.ts';
import { alreadyCharged, findLiveCall, holdOf, liveCallView, type LiveCallView } from './live-calls.repo.ts';

/**
 * A call failed (never connected, dropped before answer): its hold goes back untouched and nothing is charged, audited as
 * `usage.live_call_failed`. Failing it again answers the same; a call that ended cannot fail (409).
 */
export async function failLiveCall(ctx: Ctx, input: { callId: string }): Promise<LiveCallView> {
  const partnerId = partnerIdOf(ctx.principal);
  return inScope(ctx.db, { kind: 'partner', partnerId }, async (trx) => {
    const found = await findLiveCall(trx, partnerId, input.callId);
    if (!found) {
      if (await alreadyCharged(trx, partnerId, input.callId)) throw new DomainError('state_conflict', `Call ${input.callId} was charged already: it cannot fail`);
      throw notFound('Live call');
    }
    await lockWallet(trx, { partnerId, customerId: found.customerId, currency: found.currency });
    const call = (await findLiveCall(trx, partnerId, input.callId, { forUpdate: true }))!;
    if (call.status === 'failed') return liveCallView(call, await holdOf(trx, partnerId, call.reservationId));
    if (call.status === 'ended') throw new DomainError('state_conflict', `Call ${call.callId} ended: it cannot fail`);
    const hold = await holdOf(trx, partnerId, call.reservationId);
    if (hold?.status === 'active') await releaseReservation(trx, { partnerId, reservationId: call.reservationId! });
    await recordAudit(trx, ctx, {
      partnerId, customerId: call.customerId, app: 'usage', action: 'usage.live_call_failed', targetType: 'call', targetId: call.id,
      changes: { callId: { after: call.callId }, status: { before: 'active', after: 'failed' } },
    });
    const failed = await trx
      .updateTable('liveCalls').set({ status: 'failed', closedAt: sql`now()` })
      .where('partnerId', '=', partnerId).where('id', '=', call.id)
      .returningAll().executeTakeFirstOrThrow();
    return liveCallView(failed, await holdOf(trx, partnerId, call.reservationId));
  });
}
