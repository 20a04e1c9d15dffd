import type { TaskList } from 'graphile-worker';
import type { Logger } from 'pino';
import type { Principal } from '../platform/context.ts';
import { inScope, type Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { formatDecimal, isCurrency } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { postEntry } from '../ledger/post-entry.ts';
import type { Gateway, RefundResult } from '../gateway/gateway.ts';

/**
 * The card refund of an issued credit note, after commit (docs/adr/0015-credit-notes.md). The issuing transaction posted
 * Dr sales_returns · Dr tax_payable · Cr card_clearing, wrote one pending `credit_note_refunds` row per card charge and
 * enqueued this job. For each pending row the gateway refunds under a key derived from the row (a retried job never
 * refunds twice), then one transaction settles the row once (pending -> succeeded | failed). A refund the gateway
 * refuses moves its amount to `refunds_payable` (Dr card_clearing · Cr refunds_payable): the customer is still owed it,
 * and Finance pays it another way. When no row is pending the credit note's refund_status becomes refunded, or failed
 * when any part failed. A gateway that cannot be reached throws: the job is retried (graphile-worker backs off).
 */
export const CREDIT_NOTE_REFUND_TASK = 'credit_note_refund';

const ACTOR: { principal: Principal; requestId: null; ip: null; userAgent: null } = {
  principal: { kind: 'system', job: CREDIT_NOTE_REFUND_TASK }, requestId: null, ip: null, userAgent: null,
};

export interface CreditNoteRefundDeps {
  db: Db;
  gateway: Gateway;
  log: Logger;
}

export function creditNoteTasks(deps: CreditNoteRefundDeps): TaskList {
  return {
    [CREDIT_NOTE_REFUND_TASK]: async (payload) => {
      const p = payload as { creditNoteId?: unknown; partnerId?: unknown } | null;
      if (typeof p?.creditNoteId !== 'string' || typeof p.partnerId !== 'string') {
        deps.log.error({ payload }, 'credit_note_refund job without creditNoteId/partnerId; dropped');
        return;
      }
      await runCreditNoteRefund(deps, { creditNoteId: p.creditNoteId, partnerId: p.partnerId });
    },
  };
}

/** Refund every pending card part of one credit note and settle it. Safe to run twice. Returns the credit note's refund status. */
export async function runCreditNoteRefund(deps: CreditNoteRefundDeps, key: { creditNoteId: string; partnerId: string }): Promise<string | null> {
  const scope = { kind: 'partner' as const, partnerId: key.partnerId };
  const pending = await inScope(deps.db, scope, (trx) => trx.selectFrom('creditNoteRefunds').selectAll()
    .where('partnerId', '=', key.partnerId).where('creditNoteId', '=', key.creditNoteId).where('status', '=', 'pending').orderBy('id').execute());
  for (const row of pending) {
    if (!isCurrency(row.currency)) throw new Error(`credit note refund ${row.id}: currency ${row.currency}`);
    if (row.gateway !== deps.gateway.name) {
      deps.log.error({ refundId: row.id, gateway: row.gateway }, 'credit note refund charged through another gateway; left pending');
      continue;
    }
    let result: RefundResult;
    try {
      result = await deps.gateway.refund({
        chargeRef: row.chargeRef, amountMicros: BigInt(row.amountMicros), currency: row.currency,
        idempotencyKey: `credit_note_refund_${row.id}`, metadata: { creditNoteId: key.creditNoteId },
      });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      result = { status: 'failed', refundRef: '', failureReason: err.message.slice(0, 500) || err.code };
    }
    await inScope(deps.db, scope, async (trx) => {
      const note = await trx.selectFrom('creditNotes').select(['id', 'number', 'customerId'])
        .where('partnerId', '=', key.partnerId).where('id', '=', key.creditNoteId).forUpdate().executeTakeFirstOrThrow();
      const current = await trx.selectFrom('creditNoteRefunds').select('status').where('partnerId', '=', key.partnerId).where('id', '=', row.id).executeTakeFirstOrThrow();
      if (current.status !== 'pending') return;
      const fmt = formatDecimal(BigInt(row.amountMicros), row.currency as Parameters<typeof formatDecimal>[1]);
      const now = new Date();
      if (result.status === 'failed') {
        const auditEventId = await recordAudit(trx, ACTOR, {
          partnerId: key.partnerId, customerId: note.customerId, app: 'finance', action: 'credit_note.refund_failed', targetType: 'credit_note', targetId: note.id,
          changes: { chargeRef: { after: row.chargeRef }, amount: { after: fmt }, failureReason: { after: result.failureReason } },
        });
        const entryId = newId('je');
        await postEntry(trx, {
          entryId, partnerId: key.partnerId, currency: row.currency, customerId: note.customerId, kind: 'credit_note_refund_failed', causeType: 'credit_note',
          causeId: note.id, description: `Card refund of credit note ${note.number ?? note.id} refused`, auditEventId,
          postings: [{ code: 'card_clearing', amountMicros: BigInt(row.amountMicros) }, { code: 'refunds_payable', amountMicros: -BigInt(row.amountMicros) }],
        });
        await trx.updateTable('creditNoteRefunds').set({
          status: 'failed', refundRef: result.refundRef || null, failureReason: result.failureReason.slice(0, 500) || 'refused', failureEntryId: entryId, completedAt: now,
        }).where('partnerId', '=', key.partnerId).where('id', '=', row.id).execute();
      } else {
        await recordAudit(trx, ACTOR, {
          partnerId: key.partnerId, customerId: note.customerId, app: 'finance', action: 'credit_note.refunded', targetType: 'credit_note', targetId: note.id,
          changes: { chargeRef: { after: row.chargeRef }, amount: { after: fmt }, refundRef: { after: result.refundRef }, gatewayStatus: { after: result.status } },
        });
        await trx.updateTable('creditNoteRefunds').set({ status: 'succeeded', refundRef: result.refundRef, completedAt: now })
          .where('partnerId', '=', key.partnerId).where('id', '=', row.id).execute();
      }
    });
  }
  return inScope(deps.db, scope, async (trx) => {
    const note = await trx.selectFrom('creditNotes').select(['refundStatus']).where('partnerId', '=', key.partnerId).where('id', '=', key.creditNoteId)
      .forUpdate().executeTakeFirst();
    if (!note || note.refundStatus !== 'pending') return note?.refundStatus ?? null;
    const parts = await trx.selectFrom('creditNoteRefunds').select('status').where('partnerId', '=', key.partnerId).where('creditNoteId', '=', key.creditNoteId).execute();
    if (parts.some((p) => p.status === 'pending')) return 'pending';
    const status = parts.some((p) => p.status === 'failed') ? 'failed' as const : 'refunded' as const;
    await trx.updateTable('creditNotes').set({ refundStatus: status, updatedAt: new Date() })
      .where('partnerId', '=', key.partnerId).where('id', '=', key.creditNoteId).execute();
    return status;
  });
}
