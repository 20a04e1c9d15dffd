import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestApp, partnerIdOf, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { AUDIT_COLUMNS, afterCursor, auditWhere } from './audit-view.ts';

/**
 * Paging stays fast at any depth under row-level security: the cursor condition must be an index condition (a
 * non-leakproof comparison would only be a filter, re-reading every newer event for each page).
 */
let t: TestApp;
let demo: string;
beforeAll(async () => {
  t = await createTestApp();
  demo = await partnerIdOf(t.db, 'demo-telecom');
});
afterAll(async () => t.close());

describe('query plans', () => {
  it('a page after a cursor starts at the cursor in the partner time index', async () => {
    const cursor = (await t.db.owner.db.selectFrom('auditEvents').select('id').where('partnerId', '=', demo).orderBy('seq', 'desc').executeTakeFirstOrThrow()).id;
    const plan = await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      await sql`set local enable_bitmapscan = off`.execute(trx);
      const query = trx
        .selectFrom('auditEvents')
        .select(AUDIT_COLUMNS)
        .where('auditEvents.partnerId', '=', demo)
        .where(auditWhere({}, demo))
        .where(afterCursor(cursor))
        .orderBy('auditEvents.occurredAt', 'desc')
        .orderBy('auditEvents.seq', 'desc')
        .orderBy('auditEvents.id', 'desc')
        .limit(51)
        .compile();
      const { rows } = await trx.executeQuery<{ 'QUERY PLAN': string }>({ ...query, sql: `explain ${query.sql}` });
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toMatch(/Index Cond: \(\(partner_id = .*\) AND \(ROW\(occurred_at, seq\) < ROW\(/);
  });
});
