import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import type { Trx } from '../platform/database.ts';
import type { AppName, CustomerRole } from '../platform/db-types.ts';
import { DomainError } from '../platform/errors.ts';
import { RetryLater } from '../platform/retry-later.ts';
import { newId, newSecret } from '../platform/ids.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { enqueueNotification } from '../notifications/enqueue-notification.ts';
import { isUniqueViolation } from './pg-errors.ts';

export const INVITATION_TTL_DAYS = 7;
/** A pending invitation is sent again at most once in this many minutes (staff, portal member and customer owner invitations). */
export const REINVITE_AFTER_MINUTES = 10;
/** Invitations one organisation (a partner's staff, or one customer's members) sends within an hour, at most. */
export const INVITATIONS_PER_HOUR = 20;

export type InviteUserInput = {
  partnerId: string;
  email: string;
  name: string;
  /** The staff member or API key (or portal user) who invites; null for the system. */
  invitedBy: string | null;
  /**
   * Held to REINVITE_AFTER_MINUTES and INVITATIONS_PER_HOUR (429 too_many_requests with Retry-After): the invitations
   * people send one by one (staff, portal members, a customer's owner invited again or replaced), not an owner's
   * invitation with a new customer.
   */
  throttled?: boolean;
} & (
  | { kind: 'staff'; apps: readonly AppName[] }
  | { kind: 'customer'; customerId: string; role: CustomerRole }
);

export interface InvitedUser {
  invitationId: string;
  userId: string;
  email: string;
  expiresAt: Date;
}

function emailTaken(email: string): DomainError {
  return new DomainError('already_exists', `${email} is already one of your users or invited people`);
}

/**
 * The lock under which an organisation's invitations are counted (a partner's staff: customerId null), held to the end of
 * the transaction; taking it again in the same transaction is free. Inviting a customer's members takes it before the
 * customer row is touched (adding a user share-locks the customer through its foreign key): a transaction that also locks
 * the customer row for update (inviteOwner) takes this one first, or the two would wait for each other.
 */
export async function lockInvitations(trx: Trx, partnerId: string, customerId: string | null): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`invitations:${partnerId}:${customerId ?? 'staff'}`}, 0))`.execute(trx);
}

/**
 * Each invitation mails a stranger text the inviter chose (the name): one organisation sends at most INVITATIONS_PER_HOUR
 * an hour, and one pending address gets a new link at most once in REINVITE_AFTER_MINUTES. Counted on the invitations
 * themselves under a lock per organisation, so requests at once cannot both slip under a limit.
 */
async function throttleInvitations(trx: Trx, partnerId: string, customerId: string | null, pendingUserId: string | null): Promise<void> {
  await lockInvitations(trx, partnerId, customerId);
  if (pendingUserId) {
    const last = await trx
      .selectFrom('invitations')
      .select(sql<number>`ceil(extract(epoch from (max(created_at) + make_interval(mins => ${REINVITE_AFTER_MINUTES}) - now())))::int`.as('waitSeconds'))
      .where('partnerId', '=', partnerId)
      .where('userId', '=', pendingUserId)
      .executeTakeFirst();
    if (last?.waitSeconds != null && last.waitSeconds > 0) {
      throw new RetryLater('too_many_requests', `This address was invited less than ${REINVITE_AFTER_MINUTES} minutes ago; the link sent then still works`, last.waitSeconds);
    }
  }
  const sent = await trx
    .selectFrom('invitations')
    .select([
      (eb) => eb.fn.countAll<string>().as('n'),
      sql<number | null>`ceil(extract(epoch from ((array_agg(created_at order by created_at desc))[${INVITATIONS_PER_HOUR}] + interval '1 hour' - now())))::int`.as('waitSeconds'),
    ])
    .where('partnerId', '=', partnerId)
    .where('customerId', customerId === null ? 'is' : '=', customerId)
    .where(sql<boolean>`created_at > now() - interval '1 hour'`)
    .executeTakeFirstOrThrow();
  if (Number(sent.n) >= INVITATIONS_PER_HOUR) {
    throw new RetryLater('too_many_requests', `At most ${INVITATIONS_PER_HOUR} invitations an hour; try again later`, sent.waitSeconds ?? 3600);
  }
}

/**
 * The shared invitation step of inviteStaff, createCustomer (the owner) and portalInviteMember, run inside the caller's
 * transaction: creates the user (status `invited`, no password; staff get their apps), an invitation valid
 * INVITATION_TTL_DAYS days whose token is stored only as its hash, and mails the link. The caller records its own audit event.
 *
 * Inviting again someone who never accepted (same partner, same organisation, same role) issues a fresh link and revokes the
 * old ones; so does inviting back a removed member of the same customer organisation (with the new role; they choose a new
 * password). An address the inviter can see in use otherwise (partner staff: any of the partner's users and invited people;
 * a portal user: its own organisation's) is a 409 (disabled staff are enabled again, not re-invited).
 *
 * An address the inviter cannot see is invited like a new one, whatever it holds elsewhere (ADR 0042): the same answer, the
 * same mail, the same invited person in the lists, revocable and expiring. If it already has an account (another partner's,
 * another organisation's), only the person holding the link learns it, when they open it; it cannot be accepted.
 */
export async function inviteUser(trx: Trx, ctx: Ctx, input: InviteUserInput): Promise<InvitedUser> {
  const email = input.email.trim().toLowerCase();
  const customerId = input.kind === 'customer' ? input.customerId : null;
  const role = input.kind === 'customer' ? input.role : null;

  // The address's rows the inviter may see: the partner's (staff), or only its own organisation's (a portal user; row-level
  // security says the same). The same organisation's row first: it is invited again or brought back; any other is a 409.
  const portalOrganisation = ctx.principal.kind === 'customer' ? ctx.principal.customerId : null;
  const existing = await trx
    .selectFrom('users')
    .select(['id', 'kind', 'status', 'customerId', 'customerRole'])
    .where('partnerId', '=', input.partnerId)
    .$if(portalOrganisation !== null, (qb) => qb.where('customerId', '=', portalOrganisation))
    .where(sql`lower(email)`, '=', email)
    .orderBy(sql`(kind = ${input.kind} and customer_id is not distinct from ${customerId})`, 'desc')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();

  let userId: string;
  if (existing) {
    const sameOrganisation = existing.kind === input.kind && existing.customerId === customerId;
    const notYetAccepted = sameOrganisation && existing.status === 'invited' && existing.customerRole === role;
    const removedMember = sameOrganisation && input.kind === 'customer' && existing.status === 'disabled';
    if (!notYetAccepted && !removedMember) throw emailTaken(email);
    if (input.throttled) await throttleInvitations(trx, input.partnerId, customerId, notYetAccepted ? existing.id : null);
    userId = existing.id;
    await trx
      .updateTable('users')
      .set({ name: input.name, customerRole: role, status: 'invited', passwordHash: null, updatedAt: sql`now()` })
      .where('partnerId', '=', input.partnerId)
      .where('id', '=', userId)
      .execute();
    await trx
      .updateTable('invitations')
      .set({ revokedAt: sql`now()` })
      .where('partnerId', '=', input.partnerId)
      .where('userId', '=', userId)
      .where('acceptedAt', 'is', null)
      .where('revokedAt', 'is', null)
      .execute();
    if (input.kind === 'staff') {
      await trx.deleteFrom('appGrants').where('partnerId', '=', input.partnerId).where('userId', '=', userId).execute();
    }
  } else {
    if (input.throttled) await throttleInvitations(trx, input.partnerId, customerId, null);
    userId = newId('usr');
    try {
      await trx
        .insertInto('users')
        .values({
          id: userId, kind: input.kind, partnerId: input.partnerId, customerId, customerRole: role, email, name: input.name,
          passwordHash: null, status: 'invited', emailVerifiedAt: null, lockedUntil: null, lastLoginAt: null, updatedAt: sql`now()`,
        })
        .execute();
    } catch (err) {
      // The same organisation invited the address at the same moment (the check above ran before its insert committed).
      if (isUniqueViolation(err)) throw emailTaken(email);
      throw err;
    }
  }
  if (input.kind === 'staff') {
    for (const app of input.apps) {
      await trx.insertInto('appGrants').values({ partnerId: input.partnerId, userId, app, grantedBy: input.invitedBy }).execute();
    }
  }

  const token = newSecret();
  const invitationId = newId('ivt');
  const invitation = await trx
    .insertInto('invitations')
    .values({
      id: invitationId, partnerId: input.partnerId, customerId, userId, email, tokenHash: sha256Hex(token), invitedBy: input.invitedBy,
      expiresAt: sql`now() + make_interval(days => ${INVITATION_TTL_DAYS})`, acceptedAt: null, revokedAt: null,
    })
    .returning('expiresAt')
    .executeTakeFirstOrThrow();

  const partner = await trx.selectFrom('partners').select('name').where('id', '=', input.partnerId).executeTakeFirstOrThrow();
  const customer = customerId
    ? await trx.selectFrom('customers').select('name').where('partnerId', '=', input.partnerId).where('id', '=', customerId).executeTakeFirstOrThrow()
    : null;
  const joining = customer ? `${customer.name} (a customer of ${partner.name})` : partner.name;
  const link = `${ctx.config.publicUrl}/accept-invitation?token=${encodeURIComponent(token)}`;
  await enqueueNotification(trx, {
    partnerId: input.partnerId, customerId, userId, toEmail: email, kind: 'invitation',
    subject: `You are invited to join ${customer?.name ?? partner.name} on Folio`,
    bodyText: `Hello ${input.name},\n\nYou have been invited to join ${joining} on Folio.\nChoose your password here (the link is valid ${INVITATION_TTL_DAYS} days): ${link}\n\nIf you did not expect this invitation, ignore this email.`,
  });
  return { invitationId, userId, email, expiresAt: invitation.expiresAt };
}
