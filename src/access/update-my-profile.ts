import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';

export interface UpdateMyProfileInput {
  name?: string | undefined;
  twoFactorEnabled?: boolean | undefined;
}

/**
 * The signed-in person changes their own name or two-factor choice. Operators always sign in with a code, and so do
 * staff of a partner that requires it: turning it off is refused for them.
 */
export async function updateMyProfile(ctx: Ctx, input: UpdateMyProfileInput): Promise<void> {
  const p = ctx.principal;
  if (p.kind !== 'staff' && p.kind !== 'customer' && p.kind !== 'operator') throw new DomainError('forbidden', 'Only a signed-in person has a profile');
  const partnerId = p.kind === 'operator' ? null : p.partnerId;
  await inScope(ctx.db, scopeOf(p), async (trx) => {
    if (input.twoFactorEnabled === false) {
      if (p.kind === 'operator') {
        throw new DomainError('rule_violation', 'Operators always sign in with a one-time code', [{ path: 'twoFactorEnabled', message: 'required for operators' }]);
      }
      if (p.kind === 'staff') {
        const settings = await trx.selectFrom('partnerSettings').select('staffTwoFactorRequired').where('partnerId', '=', p.partnerId).executeTakeFirst();
        if (settings?.staffTwoFactorRequired ?? true) {
          throw new DomainError('rule_violation', 'Your organisation requires two-factor sign-in for staff', [{ path: 'twoFactorEnabled', message: 'required by your organisation' }]);
        }
      }
    }
    const me = trx
      .selectFrom('users')
      .select(['name', 'twoFactorEnabled'])
      .where('id', '=', p.userId)
      .where((eb) => (partnerId === null ? eb('partnerId', 'is', null) : eb('partnerId', '=', partnerId)));
    const before = await me.forUpdate().executeTakeFirstOrThrow();
    await trx
      .updateTable('users')
      .set({ ...(input.name !== undefined ? { name: input.name } : {}), ...(input.twoFactorEnabled !== undefined ? { twoFactorEnabled: input.twoFactorEnabled } : {}), updatedAt: sql`now()` })
      .where('id', '=', p.userId)
      .where((eb) => (partnerId === null ? eb('partnerId', 'is', null) : eb('partnerId', '=', partnerId)))
      .execute();
    const after = await me.executeTakeFirstOrThrow();
    const changes = diff(before, after);
    if (Object.keys(changes).length === 0) return;
    await recordAudit(trx, ctx, {
      partnerId, customerId: p.kind === 'customer' ? p.customerId : null, app: 'auth', action: 'user.profile_updated', targetType: 'user', targetId: p.userId, changes,
    });
  });
}
