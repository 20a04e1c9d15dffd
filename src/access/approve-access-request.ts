import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { DomainError } from '../platform/errors.ts';
import { operatorCaller } from './caller.ts';
import { toOperatorAccessRequest, type OperatorAccessRequest } from './access-request-views.ts';
import { lockPendingRequest, mailDecision, recordDecision } from './access-request-decision.ts';

/**
 * The operator approves a pending access request of an active staff member (409 for a disabled one): the app is granted (visible at the requester's next request, since
 * sessions load grants per request), the requester is mailed, and both facts go to the partner's audit trail.
 * Only the operator approves, and is not held to the partners' rule of giving only apps one holds (docs/adr/0039): it holds
 * no app, and this is how Finance is given at all.
 */
export async function approveAccessRequest(ctx: Ctx, input: { requestId: string; note?: string | undefined }): Promise<OperatorAccessRequest> {
  const operator = operatorCaller(ctx.principal);
  return inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const before = await lockPendingRequest(trx, input.requestId);
    const partnerId = before.partnerId;
    // A disabled staff member gets nothing: the grant would wait silently for the day they are enabled again.
    const requester = await trx.selectFrom('users').select('status').where('id', '=', before.userId).forShare().executeTakeFirstOrThrow();
    if (requester.status !== 'active') {
      throw new DomainError('state_conflict', `${before.userEmail} is ${requester.status === 'disabled' ? 'disabled' : 'not active'}: decline the request, or ask their partner to enable them first`);
    }
    const after = await recordDecision(trx, { requestId: before.id, partnerId, status: 'approved', operatorId: operator.userId, note: input.note || null });
    const heldBefore = await trx.selectFrom('appGrants').select('app').where('partnerId', '=', partnerId).where('userId', '=', before.userId).execute();
    await trx
      .insertInto('appGrants')
      .values({ partnerId, userId: before.userId, app: before.app, grantedBy: operator.userId })
      .onConflict((oc) => oc.columns(['userId', 'app']).doNothing())
      .execute();
    await mailDecision(trx, after);
    await recordAudit(trx, ctx, {
      partnerId, app: 'access', action: 'access_request.approved', targetType: 'access_request', targetId: before.id,
      changes: diff({ status: before.status, decisionNote: before.decisionNote }, { status: after.status, decisionNote: after.decisionNote }),
    });
    const apps = heldBefore.map((g) => g.app);
    await recordAudit(trx, ctx, {
      partnerId, app: 'access', action: 'app.granted', targetType: 'user', targetId: before.userId,
      changes: diff({ apps }, { apps: apps.includes(before.app) ? apps : [...apps, before.app] }),
    });
    return toOperatorAccessRequest(after);
  });
}
