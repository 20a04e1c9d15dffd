import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { portalCaller } from '../access/caller.ts';
import { recordAudit } from '../audit/record-audit.ts';

/**
 * An owner or admin removes a saved card: it is never charged again (top-ups, auto top-up, renewals by card). The row
 * stays, marked removed, for the history of what it paid. An auto top-up that used it is switched off, in the same
 * transaction, and says so in the audit event. Removing a card twice, or another organisation's card, is a 404.
 */
export async function removeSavedCard(ctx: Ctx, input: { cardId: string }): Promise<{ id: string; autoTopUpDisabled: boolean }> {
  const { partnerId, customerId } = portalCaller(ctx.principal);
  return inScope(ctx.db, { kind: 'customer', partnerId, customerId }, async (trx) => {
    const card = await trx
      .updateTable('savedCards')
      .set({ removedAt: sql`now()` })
      .where('partnerId', '=', partnerId).where('customerId', '=', customerId).where('id', '=', input.cardId)
      .where('removedAt', 'is', null)
      .returning(['id', 'brand', 'last4'])
      .executeTakeFirst();
    if (!card) throw notFound('Saved card');
    const disabled = await trx
      .updateTable('autoTopUpSettings')
      .set({ enabled: false, savedCardId: null, updatedAt: sql`now()` })
      .where('partnerId', '=', partnerId).where('customerId', '=', customerId).where('savedCardId', '=', card.id)
      .returning('enabled')
      .executeTakeFirst();
    await recordAudit(trx, ctx, {
      partnerId, customerId, app: 'portal', action: 'saved_card.removed', targetType: 'saved_card', targetId: card.id,
      changes: {
        card: { before: `${card.brand} •••• ${card.last4}`, after: null },
        ...(disabled ? { autoTopUp: { before: 'on, with this card', after: 'off' } } : {}),
      },
    });
    return { id: card.id, autoTopUpDisabled: disabled !== undefined };
  });
}
