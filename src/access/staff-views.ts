import { z } from 'zod';
import type { Executor } from '../platform/database.ts';
import type { AppName } from '../platform/db-types.ts';
import { appName, timestamp } from '../platform/schemas.ts';
import { APP_ORDER } from '../auth/describe-session.ts';

export const staffMemberSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  status: z.enum(['invited', 'active', 'disabled']),
  emailVerified: z.boolean(),
  /** Apps held, in sidebar order. */
  apps: z.array(appName),
  lastLoginAt: timestamp.nullable(),
  createdAt: timestamp,
});
export type StaffMember = z.infer<typeof staffMemberSchema>;

export const staffInvitationSchema = z.object({
  id: z.string(),
  email: z.string(),
  userId: z.string(),
  status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
  expiresAt: timestamp,
  createdAt: timestamp,
});
export type StaffInvitation = z.infer<typeof staffInvitationSchema>;

export const staffColumns = ['id', 'email', 'name', 'status', 'emailVerifiedAt', 'lastLoginAt', 'createdAt'] as const;

export interface StaffRow {
  id: string;
  email: string;
  name: string;
  status: 'invited' | 'active' | 'disabled';
  emailVerifiedAt: Date | null;
  lastLoginAt: Date | null;
  createdAt: Date;
}

export function toStaffMember(row: StaffRow, apps: readonly AppName[]): StaffMember {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    status: row.status,
    emailVerified: row.emailVerifiedAt !== null,
    apps: APP_ORDER.filter((a) => apps.includes(a)),
    lastLoginAt: row.lastLoginAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Apps held by each of these staff members of the partner. */
export async function appsByUser(db: Executor, partnerId: string, userIds: readonly string[]): Promise<Map<string, AppName[]>> {
  const byUser = new Map<string, AppName[]>();
  if (userIds.length === 0) return byUser;
  const grants = await db.selectFrom('appGrants').select(['userId', 'app']).where('partnerId', '=', partnerId).where('userId', 'in', userIds).execute();
  for (const g of grants) byUser.set(g.userId, [...(byUser.get(g.userId) ?? []), g.app]);
  return byUser;
}

/** One staff member of the partner, or undefined (unknown, another partner's, or not staff). */
export async function findStaffMember(db: Executor, partnerId: string, userId: string): Promise<StaffMember | undefined> {
  const row = await db.selectFrom('users').select(staffColumns).where('partnerId', '=', partnerId).where('kind', '=', 'staff').where('id', '=', userId).executeTakeFirst();
  if (!row) return undefined;
  const apps = await appsByUser(db, partnerId, [row.id]);
  return toStaffMember(row, apps.get(row.id) ?? []);
}

interface InvitationRow {
  id: string;
  email: string;
  userId: string;
  expiresAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

export const invitationColumns = ['id', 'email', 'userId', 'expiresAt', 'acceptedAt', 'revokedAt', 'createdAt'] as const;

export function invitationStatus(row: Pick<InvitationRow, 'expiresAt' | 'acceptedAt' | 'revokedAt'>, now = new Date()): StaffInvitation['status'] {
  if (row.acceptedAt) return 'accepted';
  if (row.revokedAt) return 'revoked';
  if (row.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'pending';
}

export function toStaffInvitation(row: InvitationRow): StaffInvitation {
  return {
    id: row.id,
    email: row.email,
    userId: row.userId,
    status: invitationStatus(row),
    expiresAt: row.expiresAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
  };
}
