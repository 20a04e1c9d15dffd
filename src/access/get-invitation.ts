import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { sha256Hex } from '../platform/crypto.ts';

export interface InvitationPreview {
  email: string;
  name: string;
  partnerName: string;
  customerName: string | null;
  expiresAt: string;
  /**
   * The address already has a Folio account (with another provider, or another organisation): one address holds one
   * account, so this invitation cannot be accepted. Told only to whoever holds the link (ADR 0042).
   */
  addressHasAccount: boolean;
}

/** A pending invitation by its link token, with its user; undefined when unknown, used, revoked, expired, or the user is no longer invited. */
export async function findUsableInvitation(trx: Trx, token: string, options: { lock: boolean } = { lock: false }) {
  return trx
    .selectFrom('invitations as i')
    .innerJoin('users as u', 'u.id', 'i.userId')
    .innerJoin('partners as p', 'p.id', 'i.partnerId')
    .leftJoin('customers as c', 'c.id', 'i.customerId')
    .select([
      'i.id', 'i.partnerId', 'i.customerId', 'i.expiresAt', 'u.id as userId', 'u.email', 'u.name', 'u.kind', 'u.status',
      'p.name as partnerName', 'c.name as customerName',
    ])
    .where('i.tokenHash', '=', sha256Hex(token))
    .where('i.acceptedAt', 'is', null)
    .where('i.revokedAt', 'is', null)
    .where('i.expiresAt', '>', sql<Date>`now()`)
    .where('u.status', '=', 'invited')
    .$if(options.lock, (qb) => qb.forUpdate('i'))
    .executeTakeFirst();
}

/**
 * Whether an address holds an account that keeps it (a user with a password who is not disabled: `users_account_email_key`
 * holds one row with a password per address); system scope. A disabled account, a removed member or disabled staff, gives
 * its address up to the invitation accepted with it (acceptInvitation; ADR 0042, amendment).
 */
export async function addressHasAccount(trx: Trx, email: string): Promise<boolean> {
  const row = await trx.selectFrom('users').select('id')
    .where(sql`lower(email)`, '=', email.toLowerCase()).where('passwordHash', 'is not', null).where('status', '<>', 'disabled')
    .limit(1).executeTakeFirst();
  return row !== undefined;
}

/** What the accept-invitation page shows before the person chooses a password. Public: the token is the credential. */
export async function getInvitation(ctx: Ctx, input: { token: string }): Promise<InvitationPreview> {
  return inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const found = await findUsableInvitation(trx, input.token);
    if (!found) throw notFound('Invitation');
    return {
      email: found.email, name: found.name, partnerName: found.partnerName, customerName: found.customerName, expiresAt: found.expiresAt.toISOString(),
      addressHasAccount: await addressHasAccount(trx, found.email),
    };
  });
}
