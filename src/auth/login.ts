import { sql, type RawBuilder } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { RetryLater } from '../platform/retry-later.ts';
import { newId } from '../platform/ids.ts';
import { hashPassword, newOneTimeCode, sha256Hex, verifyPassword } from '../platform/crypto.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { enqueueNotification } from '../notifications/enqueue-notification.ts';
import { findUserByEmail } from './users.repo.ts';
import { createSession, type NewSession } from './sessions.ts';

/** Failed sign-ins allowed per account, and per IP, within the window before sign-in is refused. */
export const MAX_FAILURES_PER_ACCOUNT = 5;
export const MAX_FAILURES_PER_IP = 50;
export const FAILURE_WINDOW_MINUTES = 15;
export const TWO_FACTOR_CODE_TTL_MINUTES = 10;
export const TWO_FACTOR_MAX_ATTEMPTS = 5;
/** The least time a refused sign-in takes, known email or not (see login). */
export const FAILED_SIGN_IN_FLOOR_MS = 300;

// A real hash to compare against when the email is unknown, so timing does not reveal which emails exist.
const dummyHash = hashPassword('folio-timing-equaliser');

export type LoginResult =
  | { status: 'signed_in'; session: NewSession; userId: string }
  | { status: 'two_factor_required'; challengeId: string; expiresAt: Date };

type UserRow = NonNullable<Awaited<ReturnType<typeof findUserByEmail>>>;

/** Seconds until the `nth` newest of the failures `matching` leaves the window: then fewer than `nth` are counted. */
const secondsUntilNthLeaves = (matching: RawBuilder<boolean>, nth: number) =>
  sql<number | null>`ceil(extract(epoch from ((array_agg(at order by at desc) filter (where ${matching}))[${nth}]
    + make_interval(mins => ${FAILURE_WINDOW_MINUTES}) - now())))::int`;

/** Refuse (429) while an account or an address has failed too often lately: sign-in, and a password change (change-password.ts). */
export async function throttle(trx: Trx, email: string, ip: string): Promise<void> {
  // An account's failures (wrong passwords and wrong sign-in codes) count from its last password reset on: a reset
  // lifts the lock, as the lock's message says.
  const byAccount = sql<boolean>`lower(email) = ${email} and at > coalesce((
    select max(t.used_at) from user_tokens t join users u on u.id = t.user_id
     where lower(u.email) = ${email} and t.purpose = 'password_reset'), '-infinity')`;
  const byIp = sql<boolean>`ip = ${ip}`;
  const counts = await trx
    .selectFrom('loginAttempts')
    .select([
      sql<number>`count(*) filter (where ${byAccount})::int`.as('byAccount'),
      sql<number>`count(*) filter (where ${byIp})::int`.as('byIp'),
      secondsUntilNthLeaves(byAccount, MAX_FAILURES_PER_ACCOUNT).as('accountRetryAfter'),
      secondsUntilNthLeaves(byIp, MAX_FAILURES_PER_IP).as('ipRetryAfter'),
    ])
    .where('succeeded', '=', false)
    .where('at', '>', sql<Date>`now() - make_interval(mins => ${FAILURE_WINDOW_MINUTES})`)
    .where((eb) => eb.or([eb(sql`lower(email)`, '=', email), eb('ip', '=', ip)]))
    .executeTakeFirstOrThrow();
  // Retry-After: when enough of the failures have left the window for the count to fall under the limit.
  if (counts.byAccount >= MAX_FAILURES_PER_ACCOUNT) {
    const seconds = counts.accountRetryAfter ?? FAILURE_WINDOW_MINUTES * 60;
    throw new RetryLater('account_locked', `Too many failed sign-ins for this account; try again in ${Math.max(1, Math.ceil(seconds / 60))} minutes or reset your password`, seconds);
  }
  if (counts.byIp >= MAX_FAILURES_PER_IP) {
    throw new RetryLater('too_many_requests', 'Too many failed sign-ins from this address; try again later', counts.ipRetryAfter ?? FAILURE_WINDOW_MINUTES * 60);
  }
}

async function twoFactorRequired(trx: Trx, user: UserRow): Promise<boolean> {
  if (user.kind === 'operator') return true;
  if (user.twoFactorEnabled) return true;
  if (user.kind === 'staff' && user.partnerId) {
    const settings = await trx.selectFrom('partnerSettings').select('staffTwoFactorRequired').where('partnerId', '=', user.partnerId).executeTakeFirst();
    return settings?.staffTwoFactorRequired ?? true;
  }
  return false;
}

function loginActor(user: UserRow) {
  return { actorType: user.kind === 'operator' ? ('operator' as const) : ('user' as const), actorId: user.id, actorLabel: user.email };
}

/** Email + password. Staff (by partner setting), operators and users who opted in get a one-time code by email next. */
export async function login(ctx: Ctx, input: { email: string; password: string }): Promise<LoginResult> {
  const startedMs = performance.now();
  const email = input.email.trim().toLowerCase();
  const ip = ctx.ip ?? 'unknown';
  const found = await inScope(ctx.db, { kind: 'system' }, async (trx) => {
    await throttle(trx, email, ip);
    return findUserByEmail(trx, email);
  });
  const passwordOk = found?.passwordHash ? await verifyPassword(found.passwordHash, input.password) : (await verifyPassword(await dummyHash, input.password), false);
  if (!found || !passwordOk || found.status !== 'active') {
    await inScope(ctx.db, { kind: 'system' }, async (trx) => {
      await trx.insertInto('loginAttempts').values({ email, ip, succeeded: false }).execute();
      if (found) {
        await trx.updateTable('users').set({ failedLoginCount: sql`failed_login_count + 1` }).where('id', '=', found.id).execute();
        // On the account's own trail (its partner's, its organisation's): someone tried it, from this address. Unknown
        // emails belong to no trail; the throttle above bounds how many of these one account or address can cause.
        await recordAudit(trx, ctx, {
          partnerId: found.partnerId, customerId: found.customerId, app: 'auth', action: 'auth.sign_in_failed',
          targetType: 'user', targetId: found.id, actor: loginActor(found), authMethod: 'password',
          changes: { reason: { after: passwordOk ? `account ${found.status}` : 'wrong password' } },
        });
      }
    });
    // A refusal takes at least FAILED_SIGN_IN_FLOOR_MS whatever the email: a known account's refusal also writes its
    // audit event (and waits for its trail's turn at commit), which must not tell which emails exist.
    const waitMs = FAILED_SIGN_IN_FLOOR_MS - (performance.now() - startedMs);
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    throw new DomainError('invalid_credentials', 'Email or password is wrong');
  }
  const user = found;
  return inScope(ctx.db, { kind: 'system' }, async (trx): Promise<LoginResult> => {
    await trx.insertInto('loginAttempts').values({ email, ip, succeeded: true }).execute();
    if (await twoFactorRequired(trx, user)) {
      const code = newOneTimeCode();
      const challengeId = newId('lch');
      // One code at a time: a new sign-in ends the codes sent before it (each would otherwise get its own five tries).
      await trx.updateTable('loginChallenges').set({ expiresAt: sql`now()` })
        .where('userId', '=', user.id).where('consumedAt', 'is', null).where('expiresAt', '>', sql<Date>`now()`).execute();
      const row = await trx
        .insertInto('loginChallenges')
        .values({
          id: challengeId, userId: user.id, partnerId: user.partnerId, codeHash: sha256Hex(`${challengeId}:${code}`),
          expiresAt: sql`now() + make_interval(mins => ${TWO_FACTOR_CODE_TTL_MINUTES})`, consumedAt: null, ip: ctx.ip,
        })
        .returning('expiresAt')
        .executeTakeFirstOrThrow();
      await enqueueNotification(trx, {
        partnerId: user.partnerId, customerId: user.customerId, userId: user.id, toEmail: user.email, kind: 'two_factor_code',
        subject: `Your Folio sign-in code: ${code}`,
        bodyText: `Your sign-in code is ${code}. It expires in ${TWO_FACTOR_CODE_TTL_MINUTES} minutes.\nIf you did not try to sign in, change your password.`,
      });
      await recordAudit(trx, ctx, {
        partnerId: user.partnerId, customerId: user.customerId, app: 'auth', action: 'auth.two_factor_code_sent',
        targetType: 'user', targetId: user.id, actor: loginActor(user), authMethod: 'password',
      });
      return { status: 'two_factor_required', challengeId, expiresAt: row.expiresAt };
    }
    const session = await createSession(trx, ctx.config, user, ctx);
    await recordAudit(trx, ctx, {
      partnerId: user.partnerId, customerId: user.customerId, app: 'auth', action: 'auth.signed_in',
      targetType: 'session', targetId: session.sessionId, actor: loginActor(user), authMethod: 'password',
    });
    return { status: 'signed_in', session, userId: user.id };
  });
}

/**
 * Second step: the code from the email. Five wrong codes burn the challenge, and each wrong code counts as a failed
 * sign-in of the account (the throttle above): past MAX_FAILURES_PER_ACCOUNT within the window, no code is accepted and
 * no new one is sent until the window has passed or the password is reset. A 6-digit code cannot be guessed by signing
 * in again and again.
 */
export async function verifyTwoFactor(ctx: Ctx, input: { challengeId: string; code: string }): Promise<{ session: NewSession; userId: string }> {
  const ip = ctx.ip ?? 'unknown';
  const outcome = await inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const challenge = await trx
      .selectFrom('loginChallenges as c')
      .innerJoin('users as u', 'u.id', 'c.userId')
      .select(['c.id', 'c.codeHash', 'c.attempts', 'c.expiresAt', 'c.consumedAt', 'u.id as userId', 'u.partnerId', 'u.customerId', 'u.email', 'u.kind', 'u.status'])
      .where('c.id', '=', input.challengeId)
      .forUpdate('c')
      .executeTakeFirst();
    if (!challenge || challenge.consumedAt || challenge.expiresAt.getTime() < Date.now() || challenge.attempts >= TWO_FACTOR_MAX_ATTEMPTS || challenge.status !== 'active') {
      return { ok: false as const, detail: 'This sign-in code has expired; sign in again' };
    }
    await throttle(trx, challenge.email.toLowerCase(), ip);
    if (sha256Hex(`${challenge.id}:${input.code}`) !== challenge.codeHash) {
      await trx.updateTable('loginChallenges').set({ attempts: sql`attempts + 1` }).where('id', '=', challenge.id).execute();
      await trx.insertInto('loginAttempts').values({ email: challenge.email.toLowerCase(), ip, succeeded: false }).execute();
      await recordAudit(trx, ctx, {
        partnerId: challenge.partnerId, customerId: challenge.customerId, app: 'auth', action: 'auth.two_factor_failed',
        targetType: 'user', targetId: challenge.userId,
        actor: { actorType: challenge.kind === 'operator' ? 'operator' : 'user', actorId: challenge.userId, actorLabel: challenge.email },
        authMethod: 'password', changes: { attempt: { after: challenge.attempts + 1 } },
      });
      return { ok: false as const, detail: 'The code is wrong' };
    }
    await trx.updateTable('loginChallenges').set({ consumedAt: sql`now()` }).where('id', '=', challenge.id).execute();
    const session = await createSession(trx, ctx.config, { id: challenge.userId, partnerId: challenge.partnerId }, ctx, 'password_2fa');
    await recordAudit(trx, ctx, {
      partnerId: challenge.partnerId, customerId: challenge.customerId, app: 'auth', action: 'auth.signed_in',
      targetType: 'session', targetId: session.sessionId,
      actor: { actorType: challenge.kind === 'operator' ? 'operator' : 'user', actorId: challenge.userId, actorLabel: challenge.email },
      authMethod: 'password_2fa',
    });
    return { ok: true as const, session, userId: challenge.userId };
  });
  if (!outcome.ok) throw new DomainError('two_factor_invalid', outcome.detail);
  return { session: outcome.session, userId: outcome.userId };
}
