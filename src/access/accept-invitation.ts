import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { hashPassword } from '../platform/crypto.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { addressHasAccount, findUsableInvitation } from './get-invitation.ts';
import { isUniqueViolation } from './pg-errors.ts';
import { revokeAllSessions } from '../auth/sessions.ts';

/** The one key that holds an address to one account (migration 0073). */
const ACCOUNT_EMAIL_KEY = 'users_account_email_key';

function addressTaken(email: string): DomainError {
  return new DomainError('already_exists', `${email} already has a Folio account (with another provider or organisation), and one address holds one account: `
    + 'sign in with that account, or ask whoever invited you to invite another address', [{ path: 'token', message: 'this address already has an account' }]);
}

/**
 * A disabled account (a member their organisation removed, staff their partner disabled) does not keep its address from
 * the person who holds it: accepting an invitation with that address takes its password away (ADR 0042, amendment). The
 * disabled account stays disabled, in its organisation's lists and trail; enabled or invited back later, it must accept a
 * new invitation, which the address's new account then refuses as any other. Its organisation's trail says so, with no
 * word of where the address went. Nothing of the kind happens to an account that is not disabled (addressHasAccount
 * refused the acceptance before this). Locked first: staff enabled at the same moment either come back before (and this
 * acceptance is then refused by the account key) or find their password gone (enabled as invited).
 */
async function releaseDisabledAccount(trx: Trx, ctx: Ctx, email: string, acceptingUserId: string): Promise<void> {
  const released = await trx
    .updateTable('users')
    .set({ passwordHash: null, updatedAt: sql`now()` })
    .where(sql`lower(email)`, '=', email.toLowerCase())
    .where('passwordHash', 'is not', null)
    .where('status', '=', 'disabled')
    .where('kind', 'in', ['staff', 'customer'])
    .where('id', '<>', acceptingUserId)
    .returning(['id', 'partnerId', 'customerId', 'kind'])
    .execute();
  for (const account of released) {
    await revokeAllSessions(trx, account.id);
    await recordAudit(trx, ctx, {
      partnerId: account.partnerId, customerId: account.customerId,
      app: account.kind === 'customer' ? 'portal' : 'access', action: 'user.sign_in_released', targetType: 'user', targetId: account.id,
      changes: diff({ password: 'set' }, { password: null }),
      actor: { actorType: 'system', actorId: null, actorLabel: 'invitation accepted with this address' },
    });
  }
}

/**
 * Accept an invitation from its link: the person chooses their name and password; the user becomes active and their email
 * counts as verified (they clicked the link sent to it). The link works once; any older session of the user is revoked.
 * An address that already has an account elsewhere cannot accept (409 `already_exists`, nothing written): invitations to
 * it were answered as to any new address (ADR 0042), and this is where the person holding the link learns why. An account
 * that is disabled gives the address up (releaseDisabledAccount).
 */
export async function acceptInvitation(ctx: Ctx, input: { token: string; name: string; password: string }): Promise<void> {
  const passwordHash = await hashPassword(input.password);
  await inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const invitation = await findUsableInvitation(trx, input.token, { lock: true });
    if (!invitation) throw new DomainError('token_invalid', 'This invitation link is invalid, used, revoked or expired; ask for a new one');
    if (await addressHasAccount(trx, invitation.email)) throw addressTaken(invitation.email);
    await releaseDisabledAccount(trx, ctx, invitation.email, invitation.userId);
    await trx
      .updateTable('invitations')
      .set({ acceptedAt: sql`now()` })
      .where('partnerId', '=', invitation.partnerId)
      .where('id', '=', invitation.id)
      .execute();
    try {
      await trx
        .updateTable('users')
        .set({ name: input.name, passwordHash, status: 'active', emailVerifiedAt: sql`now()`, failedLoginCount: 0, updatedAt: sql`now()` })
        .where('partnerId', '=', invitation.partnerId)
        .where('id', '=', invitation.userId)
        .execute();
    } catch (err) {
      // Another invitation to the same address was accepted at the same moment, after the look-up above.
      if (isUniqueViolation(err) && (err as { constraint?: unknown }).constraint === ACCOUNT_EMAIL_KEY) throw addressTaken(invitation.email);
      throw err;
    }
    // A fresh start: sessions from before (a removed member invited back) never come back to life.
    await revokeAllSessions(trx, invitation.userId);
    await recordAudit(trx, ctx, {
      partnerId: invitation.partnerId, customerId: invitation.customerId,
      app: invitation.kind === 'customer' ? 'portal' : 'access', action: 'invitation.accepted', targetType: 'user', targetId: invitation.userId,
      changes: diff(
        { name: invitation.name, status: 'invited', emailVerified: false, password: null },
        { name: input.name, status: 'active', emailVerified: true, password: 'set' },
      ),
      actor: { actorType: 'user', actorId: invitation.userId, actorLabel: invitation.email },
    });
  });
}
