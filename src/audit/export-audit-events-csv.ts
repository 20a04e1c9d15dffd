import type { Ctx } from '../platform/context.ts';
import { partnerIdOf, scopeOf } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { sql } from 'kysely';
import { assertCursor, auditWhere, type AuditFilters } from './audit-view.ts';
import { csvRow } from './csv.ts';

/** Rows per query while streaming: memory and transaction length stay bounded however long the trail is. */
export const CSV_BATCH_SIZE = 20_000;

export const CSV_HEADER = [
  'id', 'seq', 'occurredAt', 'actorType', 'actorId', 'actorLabel', 'app', 'action', 'customerId', 'targetType', 'targetId',
  'changes', 'requestId', 'ip', 'userAgent', 'authMethod',
] as const;

export interface ExportAuditEventsInput extends AuditFilters {
  /** Start after this event (as the JSON list would); all pages from there on. */
  cursor?: string;
  batchSize?: number;
}

/** Where a batch ends (the list's keyset position of its last event): the next batch starts strictly after it. */
interface Position {
  /** occurred_at, to the microsecond, UTC. */
  at: string;
  seq: string;
}

interface Batch {
  csv: string;
  rows: number;
  last: Position | null;
}

/**
 * One event as a CSV line (CRLF), written by the database: the cells of `csv.ts` (`audit_csv_cell`, migration 0038: RFC
 * 4180 quoting, the formula guard) for every text that may hold anything (actor, target id, request, IP, user agent);
 * as they are: the ids we make (`evt_...`, `cus_...`), `seq`, the time (UTC, milliseconds, as toISOString), and what
 * only code or the table's checks write (app, action, actor type, target type, auth method: letters, dots,
 * underscores); `changes` as its JSON text, always quoted. Inline rather than a function of the whole row, which
 * PostgreSQL would not inline (about twice the time per batch).
 */
export const CSV_LINE = sql<string>`audit_events.id || ',' || audit_events.seq::text || ','
  || to_char(audit_events.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ',' || audit_events.actor_type || ','
  || audit_csv_cell(audit_events.actor_id) || ',' || audit_csv_cell(audit_events.actor_label) || ',' || audit_events.app || ','
  || audit_events.action || ',' || coalesce(audit_events.customer_id, '') || ',' || audit_events.target_type || ','
  || audit_csv_cell(audit_events.target_id) || ',' || '"' || replace(audit_events.changes::text, '"', '""') || '",'
  || audit_csv_cell(audit_events.request_id) || ',' || audit_csv_cell(audit_events.ip) || ','
  || audit_csv_cell(audit_events.user_agent) || ',' || coalesce(audit_events.auth_method, '') || E'\r\n'`;

const positionOf = (at: string | null, seq: string | null): Position | null => (at === null || seq === null ? null : { at, seq });

/** An event's time as a position: UTC to the microsecond (a JavaScript Date has milliseconds only). */
const positionAt = (column: string) => sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * The Audit app's CSV export: every page of the same list (same filters, same order), as CSV text chunks. Checks the
 * request before answering (a bad cursor is a 400, not a broken download), then reads in batches, each in its own
 * short transaction, following the list's keyset order: a slow download never holds a transaction open. The database
 * writes each batch's lines (CSV_LINE) and hands them over as one text value; batches are read ahead while the current
 * one is being sent (see chunks()), so at most three are held. Each batch starts after the previous one's last position
 * given as values (not looked up by id inside the query), so the planner knows how few rows it needs and walks the time
 * index backwards from there.
 */
export async function exportAuditEventsCsv(ctx: Ctx, input: ExportAuditEventsInput): Promise<AsyncIterable<string>> {
  const partnerId = partnerIdOf(ctx.principal);
  const scope = scopeOf(ctx.principal);
  const batchSize = input.batchSize ?? CSV_BATCH_SIZE;
  let start: Position | null = null;
  if (input.cursor !== undefined) {
    const cursor = input.cursor;
    start = await inScope(ctx.db, scope, async (trx) => {
      await assertCursor(trx, cursor, { partnerId });
      const row = await trx.selectFrom('auditEvents')
        .select([positionAt('occurredAt').as('at'), sql<string>`seq::text`.as('seq')])
        .where('partnerId', '=', partnerId).where('id', '=', cursor).executeTakeFirstOrThrow();
      return { at: row.at, seq: row.seq };
    });
  }

  /**
   * The events after `after` that the filters match, in the list's order, in one batch's transaction. Row-level
   * security's condition makes the planner expect a few hundred of the partner's events, so it would read them all
   * through a bitmap and sort them (0.9 s at 100,000 events) rather than walk the time index backwards for the 20,000 it
   * needs (50 ms): bitmap scans are turned off for this transaction only.
   */
  const eventsAfter = async (trx: Trx, after: Position | null) => {
    await sql`set local enable_bitmapscan = off`.execute(trx);
    return trx
      .selectFrom('auditEvents')
      .where('auditEvents.partnerId', '=', partnerId)
      .where(auditWhere(input, partnerId, { limit: batchSize, before: after ?? undefined }))
      .$if(after !== null, (q) => q.where(sql<boolean>`(audit_events.occurred_at, audit_events.seq) < (${after!.at}::timestamptz, ${after!.seq}::bigint)`))
      .orderBy('auditEvents.occurredAt', 'desc')
      .orderBy('auditEvents.seq', 'desc')
      .orderBy('auditEvents.id', 'desc');
  };

  const readBatch = (after: Position | null, needLast: boolean): Promise<Batch> =>
    inScope(ctx.db, scope, async (trx) => {
      const page = (await eventsAfter(trx, after))
        .select([CSV_LINE.as('line'), 'auditEvents.id', 'auditEvents.occurredAt', 'auditEvents.seq'])
        .limit(batchSize);
      const row = await trx
        .selectFrom(page.as('w'))
        .select([
          sql<string | null>`string_agg(w.line, '' order by w.occurred_at desc, w.seq desc, w.id desc)`.as('csv'),
          sql<string>`count(*)`.as('rows'),
          // The last event's position (when the next batch's start is not known already), from arrays in the same,
          // already sorted, order: no second sort.
          needLast
            ? sql<string | null>`to_char((array_agg(w.occurred_at order by w.occurred_at desc, w.seq desc, w.id desc))[count(*)] at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('lastAt') // (positionAt's format)
            : sql<string | null>`null`.as('lastAt'),
          needLast
            ? sql<string | null>`((array_agg(w.seq order by w.occurred_at desc, w.seq desc, w.id desc))[count(*)])::text`.as('lastSeq')
            : sql<string | null>`null`.as('lastSeq'),
        ])
        .executeTakeFirstOrThrow();
      return { csv: row.csv ?? '', rows: Number(row.rows), last: positionOf(row.lastAt, row.lastSeq) };
    });

  // Where the batch after `after` ends, from the index alone (a few milliseconds for 20,000 events): null when that
  // batch is the last. Only for filters the time indexes hold (customer, app, dates); others read one batch at a time.
  const indexOnly = input.q === undefined && input.action === undefined && input.actorId === undefined && input.actorType === undefined
    && input.targetType === undefined && input.targetId === undefined;
  const batchEnd = (after: Position | null): Promise<Position | null> =>
    inScope(ctx.db, scope, async (trx) => {
      const row = await (await eventsAfter(trx, after))
        .select([positionAt('auditEvents.occurredAt').as('at'), sql<string>`audit_events.seq::text`.as('seq')])
        .offset(batchSize - 1)
        .limit(1)
        .executeTakeFirst();
      return row ? { at: row.at, seq: row.seq } : null;
    });

  async function* chunks(): AsyncGenerator<string> {
    yield csvRow(CSV_HEADER);
    // Batches read ahead, in order: two at once (two connections, two cores for PostgreSQL's formatting) when their
    // starting points can be known beforehand, else one ahead of the one being sent.
    const ahead: Array<Promise<Batch>> = [];
    let next: Position | null | 'unknown' = start;
    let more = true;
    const fill = async () => {
      while (more && ahead.length < (indexOnly ? 2 : 1)) {
        if (next === 'unknown') return;
        const from: Position | null = next;
        ahead.push(readBatch(from, !indexOnly));
        if (indexOnly) {
          const end = await batchEnd(from);
          if (end === null) more = false;
          next = end;
        } else {
          next = 'unknown';
        }
      }
    };
    try {
      await fill();
      while (ahead.length > 0) {
        const batch: Batch = await ahead.shift()!;
        if (!indexOnly) {
          if (batch.rows === batchSize && batch.last !== null) next = batch.last;
          else more = false;
        }
        const filling = fill();
        if (batch.rows > 0) yield batch.csv;
        await filling;
      }
    } finally {
      // A download stopped half-way: let the reads ahead finish quietly (each transaction ends on its own).
      for (const pending of ahead) pending.catch(() => {});
    }
  }
  return chunks();
}
