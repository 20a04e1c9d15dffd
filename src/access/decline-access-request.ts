import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { operatorCaller } from './caller.ts';
import { toOperatorAccessRequest, type OperatorAccessRequest } from './access-request-views.ts';
import { lockPendingRequest, mailDecision, recordDecision } from './access-request-decision.ts';

/** The operator declines a pending access request; the requester is mailed, with the note when given. */
export async function declineAccessRequest(ctx: Ctx, input: { requestId: string; note?: string | undefined }): Promise<OperatorAccessRequest> {
  const operator = operatorCaller(ctx.principal);
  return inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const before = await lockPendingRequest(trx, input.requestId);
    const after = await recordDecision(trx, { requestId: before.id, partnerId: before.partnerId, status: 'declined', operatorId: operator.userId, note: input.note || null });
    await mailDecision(trx, after);
    await recordAudit(trx, ctx, {
      partnerId: before.partnerId, app: 'access', action: 'access_request.declined', targetType: 'access_request', targetId: before.id,
      changes: diff({ status: before.status, decisionNote: before.decisionNote }, { status: after.status, decisionNote: after.decisionNote }),
    });
    return toOperatorAccessRequest(after);
  });
}
