import { z } from 'zod';
import type { Executor } from '../platform/database.ts';
import { appName, timestamp } from '../platform/schemas.ts';

export const accessRequestStatus = z.enum(['pending', 'approved', 'declined', 'withdrawn']);

export const accessRequestSchema = z.object({
  id: z.string(),
  app: appName,
  status: accessRequestStatus,
  note: z.string().nullable(),
  user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
  createdAt: timestamp,
  decidedAt: timestamp.nullable(),
  decisionNote: z.string().nullable(),
});
export type AccessRequest = z.infer<typeof accessRequestSchema>;

/** The operator's view adds the partner the request comes from. */
export const operatorAccessRequestSchema = accessRequestSchema.extend({ partner: z.object({ id: z.string(), name: z.string() }) });
export type OperatorAccessRequest = z.infer<typeof operatorAccessRequestSchema>;

/** Requests joined with their requester and partner; callers add their own filters (always the partner, unless the operator). */
export function selectAccessRequests(db: Executor) {
  return db
    .selectFrom('accessRequests as r')
    .innerJoin('users as u', 'u.id', 'r.userId')
    .innerJoin('partners as p', 'p.id', 'r.partnerId')
    .select([
      'r.id', 'r.partnerId', 'r.app', 'r.status', 'r.note', 'r.createdAt', 'r.decidedAt', 'r.decisionNote',
      'u.id as userId', 'u.email as userEmail', 'u.name as userName', 'p.name as partnerName',
    ]);
}

type AccessRequestRow = Awaited<ReturnType<ReturnType<typeof selectAccessRequests>['executeTakeFirstOrThrow']>>;

export function toAccessRequest(row: AccessRequestRow): AccessRequest {
  return {
    id: row.id,
    app: row.app,
    status: row.status,
    note: row.note,
    user: { id: row.userId, email: row.userEmail, name: row.userName },
    createdAt: row.createdAt.toISOString(),
    decidedAt: row.decidedAt?.toISOString() ?? null,
    decisionNote: row.decisionNote,
  };
}

export function toOperatorAccessRequest(row: AccessRequestRow): OperatorAccessRequest {
  return { ...toAccessRequest(row), partner: { id: row.partnerId, name: row.partnerName } };
}
