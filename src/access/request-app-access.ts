import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { staffCaller } from './caller.ts';
import type { AppName } from '../platform/db-types.ts';
import { isUniqueViolation } from './pg-errors.ts';
import { selectAccessRequests, toAccessRequest, type AccessRequest } from './access-request-views.ts';

/**
 * A staff member asks the platform operator for an app they do not hold: Finance, which only the operator grants, or any
 * other, which a colleague holding it and Access Control may grant too (docs/adr/0039, amendment): the request is the way
 * back to an app nobody at the partner holds any more. One pending request per app at a time; not for an app already held.
 */
export async function requestAppAccess(ctx: Ctx, input: { app: AppName; note?: string | undefined }): Promise<AccessRequest> {
  const staff = staffCaller(ctx.principal);
  if (staff.apps.has(input.app)) throw new DomainError('conflict', `You already hold the ${input.app} app`);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const pending = await trx
      .selectFrom('accessRequests')
      .select('id')
      .where('partnerId', '=', staff.partnerId)
      .where('userId', '=', staff.userId)
      .where('app', '=', input.app)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (pending) throw new DomainError('conflict', `You already have a pending request for the ${input.app} app (${pending.id})`);
    const id = newId('acr');
    try {
      await trx
        .insertInto('accessRequests')
        .values({ id, partnerId: staff.partnerId, userId: staff.userId, app: input.app, note: input.note || null, decidedBy: null, decidedAt: null, decisionNote: null })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new DomainError('conflict', `You already have a pending request for the ${input.app} app`);
      throw err;
    }
    await recordAudit(trx, ctx, {
      partnerId: staff.partnerId, app: 'access', action: 'access_request.created', targetType: 'access_request', targetId: id,
      changes: diff(null, { app: input.app, note: input.note || null, status: 'pending' }),
    });
    const row = await selectAccessRequests(trx).where('r.partnerId', '=', staff.partnerId).where('r.id', '=', id).executeTakeFirstOrThrow();
    return toAccessRequest(row);
  });
}
