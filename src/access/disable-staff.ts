import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from './caller.ts';
import { findStaffMember, type StaffMember } from './staff-views.ts';
import { forgetPartnerApiKeys, MAX_MAKER_DEPTH } from '../auth/resolve-principal.ts';

/**
 * Disable a staff member: they are signed out everywhere, cannot sign in, their pending invitation stops working, and the
 * API keys they made are revoked, with the keys those keys made (each audited).
 */
export async function disableStaff(ctx: Ctx, input: { userId: string }): Promise<StaffMember> {
  const caller = partnerCaller(ctx.principal);
  if (input.userId === caller.userId) throw new DomainError('rule_violation', 'You cannot disable yourself');
  const disabled = await inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await findStaffMember(trx, caller.partnerId, input.userId);
    if (!before) throw notFound('Staff member');
    if (before.status === 'disabled') throw new DomainError('state_conflict', 'This staff member is already disabled');
    await trx.updateTable('users').set({ status: 'disabled', updatedAt: sql`now()` }).where('partnerId', '=', caller.partnerId).where('id', '=', before.id).execute();
    await trx.updateTable('sessions').set({ revokedAt: sql`now()` }).where('partnerId', '=', caller.partnerId).where('userId', '=', before.id).where('revokedAt', 'is', null).execute();
    await trx
      .updateTable('invitations')
      .set({ revokedAt: sql`now()` })
      .where('partnerId', '=', caller.partnerId)
      .where('userId', '=', before.id)
      .where('acceptedAt', 'is', null)
      .where('revokedAt', 'is', null)
      .execute();
    // The keys they made, and the keys those keys made (as deep as resolveApiKey follows makers), so the list says so.
    const keys: Array<{ id: string; name: string; revokedAt: Date | null; direct: boolean }> = [];
    let makers = [before.id];
    for (let depth = 0; depth < MAX_MAKER_DEPTH && makers.length > 0; depth++) {
      const revoked = await trx
        .updateTable('apiKeys')
        .set({ revokedAt: sql`now()` })
        .where('partnerId', '=', caller.partnerId)
        .where('createdBy', 'in', makers)
        .where('revokedAt', 'is', null)
        .returning(['id', 'name', 'revokedAt'])
        .execute();
      keys.push(...revoked.map((k) => ({ ...k, direct: depth === 0 })));
      makers = revoked.map((k) => k.id);
    }
    const after = (await findStaffMember(trx, caller.partnerId, before.id))!;
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, app: 'access', action: 'staff.disabled', targetType: 'user', targetId: before.id,
      changes: diff({ status: before.status }, { status: after.status }),
    });
    for (const key of keys) {
      await recordAudit(trx, ctx, {
        partnerId: caller.partnerId, app: 'access', action: 'api_key.revoked', targetType: 'api_key', targetId: key.id,
        changes: { ...diff({ revokedAt: null }, { revokedAt: key.revokedAt }), reason: { after: key.direct ? `its maker ${before.email} was disabled` : `made by a key of ${before.email}, who was disabled` } },
      });
    }
    return after;
  });
  forgetPartnerApiKeys(ctx.db, caller.partnerId);
  return disabled;
}
