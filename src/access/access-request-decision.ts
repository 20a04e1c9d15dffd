import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { enqueueNotification } from '../notifications/enqueue-notification.ts';
import { AUDIT_APP_LABELS } from '../audit/audit-catalog.ts';
import type { AppName } from '../platform/db-types.ts';
import { selectAccessRequests } from './access-request-views.ts';

/** Shared steps of the operator's two decisions (approve, decline) on an access request. */

/** The request, locked; 404 when unknown, 409 when already decided. */
export async function lockPendingRequest(trx: Trx, requestId: string) {
  const locked = await trx.selectFrom('accessRequests').select(['id', 'status']).where('id', '=', requestId).forUpdate().executeTakeFirst();
  if (!locked) throw notFound('Access request');
  if (locked.status !== 'pending') throw new DomainError('state_conflict', `This request is already ${locked.status}`);
  return selectAccessRequests(trx).where('r.id', '=', requestId).executeTakeFirstOrThrow();
}

export async function recordDecision(trx: Trx, input: { requestId: string; partnerId: string; status: 'approved' | 'declined'; operatorId: string; note: string | null }) {
  await trx
    .updateTable('accessRequests')
    .set({ status: input.status, decidedBy: input.operatorId, decidedAt: sql`now()`, decisionNote: input.note })
    .where('partnerId', '=', input.partnerId)
    .where('id', '=', input.requestId)
    .execute();
  return selectAccessRequests(trx).where('r.partnerId', '=', input.partnerId).where('r.id', '=', input.requestId).executeTakeFirstOrThrow();
}

export async function mailDecision(
  trx: Trx,
  request: { partnerId: string; userId: string; userEmail: string; userName: string; app: AppName; status: 'pending' | 'approved' | 'declined' | 'withdrawn'; decisionNote: string | null },
): Promise<void> {
  const approved = request.status === 'approved';
  // Any app may be asked for (docs/adr/0039, amendment): named as the admin portal names it ("Portal Settings").
  const appLabel = AUDIT_APP_LABELS[request.app];
  await enqueueNotification(trx, {
    partnerId: request.partnerId, customerId: null, userId: request.userId, toEmail: request.userEmail, kind: 'access_request_decided',
    subject: `Your request for the ${appLabel} app was ${approved ? 'approved' : 'declined'}`,
    bodyText: [
      `Hello ${request.userName},`,
      '',
      approved
        ? `Your request for the ${appLabel} app was approved. It appears in your admin portal the next time you open a page.`
        : `Your request for the ${appLabel} app was declined.`,
      ...(request.decisionNote ? ['', `Note from the Folio operator: ${request.decisionNote}`] : []),
    ].join('\n'),
  });
}
