import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { loadCreditNoteDetail, type CreditNoteDetail } from './credit-note-views.ts';
import { notDraft } from './issue-credit-note.ts';

/** Void a draft credit note (nothing was posted for it); an issued one never changes (409 credit_note_not_draft). Audited `credit_note.voided`. */
export async function voidCreditNote(ctx: Ctx, input: { creditNoteId: string; reason: string }): Promise<CreditNoteDetail> {
  const { partnerId, actorId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const row = await trx.selectFrom('creditNotes').select(['id', 'status', 'number', 'customerId'])
      .where('partnerId', '=', partnerId).where('id', '=', input.creditNoteId).forUpdate().executeTakeFirst();
    if (!row) throw notFound('Credit note');
    if (row.status !== 'draft') throw notDraft(row.number ?? row.id, row.status);
    const now = ctx.clock.now();
    await trx.updateTable('creditNotes').set({ status: 'void', voidedAt: now, voidedBy: actorId, voidReason: input.reason.trim(), updatedAt: now })
      .where('partnerId', '=', partnerId).where('id', '=', row.id).execute();
    await recordAudit(trx, ctx, {
      partnerId, customerId: row.customerId, app: 'finance', action: 'credit_note.voided', targetType: 'credit_note', targetId: row.id,
      changes: { status: { before: 'draft', after: 'void' }, reason: { after: input.reason.trim() } },
    });
    return (await loadCreditNoteDetail(trx, partnerId, row.id))!;
  });
}
