import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { notHeldWords, partnerCaller } from './caller.ts';
import { findStaffMember, type StaffMember } from './staff-views.ts';

/**
 * Let a disabled staff member back in. Someone who never accepted their invitation goes back to `invited` (invite them again for a new link).
 * Their app grants were kept while disabled and come back with them, so enabling gives those apps back: the caller must
 * hold each itself, as to grant it (403 app_not_held naming them, nothing written; docs/adr/0039). Otherwise a holder of
 * Access Control could bring back an account with apps it was never able to give. Finance is not checked: no partner
 * caller gives it, holder or not (only the operator, on request), so it comes back as the operator granted it, and a
 * Finance holder can still be enabled by the partner's administrators.
 */
export async function enableStaff(ctx: Ctx, input: { userId: string }): Promise<StaffMember> {
  const caller = partnerCaller(ctx.principal);
  if (input.userId === caller.userId) throw new DomainError('rule_violation', 'You cannot enable yourself');
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await findStaffMember(trx, caller.partnerId, input.userId);
    if (!before) throw notFound('Staff member');
    if (before.status !== 'disabled') throw new DomainError('state_conflict', `This staff member is ${before.status}, not disabled`);
    // Refused whole rather than enabled with fewer apps: the answer stays the staff member as they are, and whoever
    // enables sees what to do (take those apps away first, which anyone may, or ask someone who holds them).
    const notHeld = before.apps.filter((app) => app !== 'finance' && !caller.apps.has(app));
    if (notHeld.length > 0) {
      throw new DomainError('app_not_held', `Enabling ${before.name} gives back their apps, and you can only give apps you hold yourself; ${notHeldWords(caller, notHeld)}. `
        + 'Remove those apps from them first, or ask someone who holds them to enable them.');
    }
    await trx
      .updateTable('users')
      .set({ status: sql`case when password_hash is null then 'invited' else 'active' end`, failedLoginCount: 0, updatedAt: sql`now()` })
      .where('partnerId', '=', caller.partnerId)
      .where('id', '=', before.id)
      .execute();
    const after = (await findStaffMember(trx, caller.partnerId, before.id))!;
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, app: 'access', action: 'staff.enabled', targetType: 'user', targetId: before.id,
      changes: diff({ status: before.status }, { status: after.status }),
    });
    return after;
  });
}
