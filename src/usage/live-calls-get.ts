import type { Ctx } from '../platform/context.ts';
import { partnerIdOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { findLiveCall, holdOf, liveCallView, type LiveCallView } from './live-calls.repo.ts';

/** One live call by the switch's call id, with its hold. */
export async function getLiveCall(ctx: Ctx, input: { callId: string }): Promise<LiveCallView> {
  const partnerId = partnerIdOf(ctx.principal);
  return inScope(ctx.db, { kind: 'partner', partnerId }, async (trx) => {
    const call = await findLiveCall(trx, partnerId, input.callId);
    if (!call) throw notFound('Live call');
    return liveCallView(call, await holdOf(trx, partnerId, call.reservationId));
  });
}
