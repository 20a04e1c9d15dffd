import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { seedDemo } from '../platform/seed.ts';
import { buildServer } from '../platform/server.ts';
import { TestClock } from '../platform/clock.ts';
import { api, createEmptyTestDb, DEMO_PASSWORD, signIn, testConfig, type TestApp } from '../test/harness.ts';
import { pdfText } from '../invoices/pdf/pdf-text.ts';

/**
 * A credit note's PDF in the portal answers as its invoice does: members and guests see Purchase invoices only (not the
 * company's points: Top-up invoices, Monthly statements), so not a statement's credit note either, which shows the
 * month's calls and the points given back. The demo seeded with its activity has Acme's statement of last month (the
 * test template leaves the activity out).
 */
let t: TestApp;

beforeAll(async () => {
  const db = await createEmptyTestDb('cn_pdf');
  expect(await seedDemo(db.owner.db, DEMO_PASSWORD, { activity: true })).toBe(true);
  const config = testConfig();
  const server = await buildServer({ config, db: db.app.db, log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), clock: new TestClock() });
  await server.ready();
  t = { app: server, db, config, clock: new TestClock(), close: async () => { await server.close(); await db.drop(); } };
}, 90_000);
afterAll(async () => t?.close());

describe('GET /api/v1/portal/credit-notes/:creditNoteId/pdf', () => {
  it('gives a statement\'s credit note to its owner, and to a member a 404 as the statement itself', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    const statement = await t.db.owner.db.selectFrom('invoices as i').innerJoin('customers as c', 'c.id', 'i.customerId')
      .select(['i.id', 'i.number']).where('c.name', '=', 'Acme Pte Ltd').where('i.type', '=', 'monthly').where('i.status', '<>', 'draft').executeTakeFirstOrThrow();
    const created = await api(t, finance, 'POST', '/api/v1/credit-notes', { invoiceId: statement.id, mode: 'amount', amount: '1.00', reason: 'service_issue', outcome: 'points', issue: true });
    expect(created.statusCode, created.body).toBe(201);
    const note = created.json<{ id: string; number: string }>();

    const owner = await signIn(t, 'owner@acme.test');
    const theirs = await api(t, owner, 'GET', `/api/v1/portal/credit-notes/${note.id}/pdf`);
    expect(theirs.statusCode).toBe(200);
    expect((await pdfText(theirs.rawPayload)).text).toContain(note.number);

    const member = await signIn(t, 'member@acme.test');
    expect((await api(t, member, 'GET', `/api/v1/portal/invoices/${statement.id}`)).statusCode).toBe(404);
    const refused = await api(t, member, 'GET', `/api/v1/portal/credit-notes/${note.id}/pdf`);
    expect(refused.statusCode).toBe(404);
    expect(refused.headers['content-type']).toContain('application/problem+json');
  });
});
