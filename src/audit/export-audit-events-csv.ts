import type { Ctx } from '../platform/context.ts';
import { partnerIdOf, scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { AUDIT_COLUMNS, afterCursor, assertCursor, auditWhere, type AuditFilters, type AuditRow } from './audit-view.ts';
import { csvRow } from './csv.ts';

/** Rows per query while streaming: memory and transaction length stay bounded however long the trail is. */
export const CSV_BATCH_SIZE = 2000;

export const CSV_HEADER = [
  'id', 'seq', 'occurredAt', 'actorType', 'actorId', 'actorLabel', 'app', 'action', 'customerId', 'targetType', 'targetId',
  'changes', 'requestId', 'ip', 'userAgent', 'authMethod',
] as const;

function csvLine(r: AuditRow): string {
  return csvRow([
    r.id, Number(r.seq), r.occurredAt.toISOString(), r.actorType, r.actorId, r.actorLabel, r.app, r.action, r.customerId,
    r.targetType, r.targetId, JSON.stringify(r.changes), r.requestId, r.ip, r.userAgent, r.authMethod,
  ]);
}

export interface ExportAuditEventsInput extends AuditFilters {
  /** Start after this event (as the JSON list would); all pages from there on. */
  cursor?: string;
  batchSize?: number;
}

/**
 * The Audit app's CSV export: every page of the same list (same filters, same order), as CSV text chunks. Checks the
 * request before answering (a bad cursor is a 400, not a broken download), then reads in batches, each in its own
 * short transaction, following the list's keyset order: a slow download never holds a transaction open.
 */
export async function exportAuditEventsCsv(ctx: Ctx, input: ExportAuditEventsInput): Promise<AsyncIterable<string>> {
  const partnerId = partnerIdOf(ctx.principal);
  const scope = scopeOf(ctx.principal);
  const batchSize = input.batchSize ?? CSV_BATCH_SIZE;
  if (input.cursor !== undefined) await inScope(ctx.db, scope, (trx) => assertCursor(trx, input.cursor!, { partnerId }));

  async function* chunks(): AsyncGenerator<string> {
    yield csvRow(CSV_HEADER);
    let after = input.cursor;
    for (;;) {
      const rows = await inScope(ctx.db, scope, (trx) =>
        trx
          .selectFrom('auditEvents')
          .select(AUDIT_COLUMNS)
          .where('auditEvents.partnerId', '=', partnerId)
          .where(auditWhere(input, partnerId, { limit: batchSize, cursorId: after }))
          .$if(after !== undefined, (q) => q.where(afterCursor(after!)))
          .orderBy('auditEvents.occurredAt', 'desc')
          .orderBy('auditEvents.seq', 'desc')
          .orderBy('auditEvents.id', 'desc')
          .limit(batchSize)
          .execute(),
      );
      if (rows.length > 0) yield rows.map(csvLine).join('');
      if (rows.length < batchSize) return;
      after = rows[rows.length - 1]!.id;
    }
  }
  return chunks();
}
