import { z } from 'zod';
import type { Executor } from '../platform/database.ts';
import { customerRole } from '../platform/schemas.ts';

export const memberSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: customerRole,
  status: z.enum(['invited', 'active', 'disabled']),
  emailVerified: z.boolean(),
});
export type Member = z.infer<typeof memberSchema>;

export const ROLE_ORDER = { owner: 0, admin: 1, member: 2, guest: 3 } as const;

/** Users of one customer organisation (always filtered by partner and customer); callers add filters. */
export function selectMembers(db: Executor, org: { partnerId: string; customerId: string }) {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'name', 'customerRole', 'status', 'emailVerifiedAt'])
    .where('partnerId', '=', org.partnerId)
    .where('customerId', '=', org.customerId)
    .where('kind', '=', 'customer');
}

type MemberRow = Awaited<ReturnType<ReturnType<typeof selectMembers>['executeTakeFirstOrThrow']>>;

export function toMember(row: MemberRow): Member {
  return { id: row.id, email: row.email, name: row.name, role: row.customerRole ?? 'guest', status: row.status, emailVerified: row.emailVerifiedAt !== null };
}

export async function findMember(db: Executor, org: { partnerId: string; customerId: string }, userId: string): Promise<Member | undefined> {
  const row = await selectMembers(db, org).where('id', '=', userId).executeTakeFirst();
  return row ? toMember(row) : undefined;
}
