import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInvitationFor, api, createTestApp, customerIdOf, partnerIdOf, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { recordAudit } from './record-audit.ts';
import { AUDIT_APPS, isCatalogued } from './audit-catalog.ts';
import { targetPath } from './get-audit-event.ts';

/**
 * The Audit app's list filters, detail, count, streamed export and a customer's timeline (issue 7 §1, §4), through the
 * API as the admin portal calls it.
 */
let t: TestApp;
let admin: Session;
let finance: Session;
let demo: string;
let northwind: string;
let acme: string;
let globex: string;
let wombat: string;
let adminId: string;
let northwindEvent: string;
const STAMP = `t${Date.now().toString(36)}`;

interface Event {
  id: string; seq: number; occurredAt: string; actor: { type: string; id: string | null; label: string | null }; app: string; action: string;
  customerId: string | null; target: { type: string; id: string | null }; changes: Record<string, { before?: unknown; after?: unknown }>;
  requestId: string | null; ip: string | null; userAgent: string | null; authMethod: string | null;
}
type Page = { data: Event[]; nextCursor: string | null };

const SYSTEM_ACTOR = { principal: { kind: 'system' as const, job: 'test' }, requestId: 'req_audit_app', ip: '10.1.2.3', userAgent: 'vitest' };

/** The UTC day the 25 system events were recorded on (a run may pass midnight before the test that reads them by day). */
let recordedDay: string;

beforeAll(async () => {
  t = await createTestApp();
  [demo, northwind] = await Promise.all([partnerIdOf(t.db, 'demo-telecom'), partnerIdOf(t.db, 'northwind')]);
  [acme, globex, wombat] = await Promise.all([customerIdOf(t.db, 'Acme Pte Ltd'), customerIdOf(t.db, 'Globex Sdn Bhd'), customerIdOf(t.db, 'Wombat Pty Ltd')]);
  admin = await signIn(t, 'admin@demo.test');
  finance = await signIn(t, 'finance@demo.test');
  adminId = await userIdOf(t.db, 'admin@demo.test');
  // A rename of Acme by the admin through the API (a real event with a diff), and a few system events with odd text.
  const renamed = await api(t, admin, 'PATCH', `/api/v1/customers/${acme}`, { name: `Acme ${STAMP} 100% _best_` });
  expect(renamed.statusCode, renamed.body).toBe(200);
  recordedDay = new Date().toISOString().slice(0, 10);
  await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, async (trx) => {
    for (let i = 0; i < 25; i++) {
      await recordAudit(trx, SYSTEM_ACTOR, {
        partnerId: demo, customerId: globex, app: 'invoice', action: 'invoice.updated', targetType: 'invoice', targetId: `inv_${STAMP}${i}`,
        changes: { notes: { before: `O'Brien \\ "quoted" ${i}`, after: `paid in full ${i}` } },
      });
    }
  });
  northwindEvent = await inScope(t.db.app.db, { kind: 'partner', partnerId: northwind }, (trx) =>
    recordAudit(trx, SYSTEM_ACTOR, { partnerId: northwind, customerId: wombat, app: 'customer', action: 'customer.updated', targetType: 'customer', targetId: wombat, changes: { name: { before: 'a', after: `Wombat ${STAMP}` } } }),
  );
});
afterAll(async () => t.close());

const list = async (query: string, who: Session = admin) => {
  const res = await api(t, who, 'GET', `/api/v1/audit-events${query}`);
  return { res, body: res.json<Page>() };
};

describe('the catalog', () => {
  it('lists every app the filter takes, with labels and actions', async () => {
    const res = await api(t, admin, 'GET', '/api/v1/audit-events/catalog');
    expect(res.statusCode).toBe(200);
    const body = res.json<{ apps: Array<{ app: string; label: string; actions: Array<{ action: string; label: string }> }>; authMethods: Array<{ authMethod: string; label: string }> }>();
    expect(body.apps.map((a) => a.app)).toEqual([...AUDIT_APPS]);
    expect(body.apps.find((a) => a.app === 'settings')?.label).toBe('Portal Settings');
    expect(body.apps.find((a) => a.app === 'invoice')?.actions).toContainEqual({ action: 'invoice.voided', label: 'Invoice voided' });
    expect(body.authMethods).toContainEqual({ authMethod: 'password_2fa', label: 'Password + 2FA' });
  });

  it('holds every (app, action) pair written while the demo was seeded', async () => {
    const pairs = await t.db.owner.db.selectFrom('auditEvents').select(['app', 'action']).distinct().where('action', 'not like', 'test.%').execute();
    const unknown = pairs.filter((p) => !isCatalogued(p.app, p.action)).map((p) => `${p.app} ${p.action}`);
    expect(unknown).toEqual([]);
  });
});

describe('filters', () => {
  it('by app, action, customer, target and actor', async () => {
    const byApp = await list(`?app=invoice&customerId=${globex}&limit=200`);
    expect(byApp.res.statusCode).toBe(200);
    expect(byApp.body.data.length).toBeGreaterThanOrEqual(25);
    expect(byApp.body.data.every((e) => e.app === 'invoice' && e.customerId === globex)).toBe(true);

    const byTarget = await list(`?targetType=invoice&targetId=inv_${STAMP}3`);
    expect(byTarget.body.data.map((e) => e.target)).toEqual([{ type: 'invoice', id: `inv_${STAMP}3` }]);

    const byActor = await list(`?actorId=${adminId}&action=customer.updated`);
    expect(byActor.body.data.length).toBeGreaterThanOrEqual(1);
    expect(byActor.body.data.every((e) => e.actor.id === adminId && e.action === 'customer.updated')).toBe(true);
    expect(byActor.body.data[0]!.authMethod).toBe('password_2fa'); // the admin signed in with a code (staff 2FA is on)

    const bySystem = await list(`?actorId=system&customerId=${globex}&limit=200`);
    expect(bySystem.body.data.length).toBeGreaterThanOrEqual(25);
    expect(bySystem.body.data.every((e) => e.actor.type === 'system')).toBe(true);
    expect(bySystem.body.data[0]!.authMethod).toBe('system');

    const byType = await list('?actorType=user&app=auth');
    expect(byType.body.data.every((e) => e.actor.type === 'user' && e.app === 'auth')).toBe(true);
  });

  it('by date: ISO timestamps or whole UTC days, `to` exclusive (a day: up to its end)', async () => {
    const today = recordedDay;
    const tomorrow = new Date(Date.parse(today) + 86_400_000).toISOString().slice(0, 10);
    const day = await list(`?from=${today}&to=${today}&customerId=${globex}&limit=200`);
    expect(day.res.statusCode, day.res.body).toBe(200);
    expect(day.body.data.length).toBeGreaterThanOrEqual(25);
    const future = await list(`?from=${tomorrow}&customerId=${globex}`);
    expect(future.body.data).toEqual([]);
    const first = day.body.data[day.body.data.length - 1]!;
    const exact = await list(`?from=${encodeURIComponent(first.occurredAt)}&to=${encodeURIComponent(new Date(Date.parse(first.occurredAt) + 1).toISOString())}&customerId=${globex}`);
    expect(exact.body.data.map((e) => e.id)).toContain(first.id);
  });

  it('by free text, case-insensitively, in changed values too; wildcards and quotes are literal', async () => {
    const renamed = await list(`?q=${encodeURIComponent(`ACME ${STAMP.toUpperCase()} 100%`)}`);
    expect(renamed.res.statusCode).toBe(200);
    expect(renamed.body.data.map((e) => e.action)).toEqual(['customer.updated']);

    const percent = await list(`?q=${encodeURIComponent('100% _best_')}`);
    expect(percent.body.data.map((e) => e.action)).toEqual(['customer.updated']);
    expect((await list(`?q=${encodeURIComponent('1_0%')}`)).body.data).toEqual([]); // "_" and "%" are not wildcards

    const quoted = await list(`?q=${encodeURIComponent(`O'Brien \\ "quoted" 7`)}`);
    expect(quoted.res.statusCode).toBe(200);
    expect(quoted.body.data.map((e) => e.target.id)).toEqual([`inv_${STAMP}7`]);

    const byIp = await list(`?q=10.1.2.3&customerId=${globex}&limit=200`);
    expect(byIp.body.data.length).toBeGreaterThanOrEqual(25);

    for (const q of ["'; drop table audit_events; --", '%', '_', '\\', '%%__\\\\', 'ü€😀', ' x ']) {
      const res = await list(`?q=${encodeURIComponent(q)}`);
      expect(res.res.statusCode, q).toBe(200);
    }
    const percents = (await list(`?q=${encodeURIComponent('%')}&limit=200`)).body.data;
    expect(percents.length).toBeGreaterThan(0);
    expect(percents.every((e) => JSON.stringify(e).includes('%'))).toBe(true);
    // Another partner's text is never found.
    expect((await list(`?q=${encodeURIComponent(`Wombat ${STAMP}`)}`)).body.data).toEqual([]);
  });

  it('pages free-text results by cursor too, combined with the other filters', async () => {
    const q = encodeURIComponent('PAID in full');
    const all = (await list(`?q=${q}&limit=200`)).body.data;
    expect(all).toHaveLength(25);
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: Page } = await list(`?q=${q}&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      ids.push(...page.body.data.map((e) => e.id));
      cursor = page.body.nextCursor;
    } while (cursor && ids.length < 100);
    expect(ids).toEqual(all.map((e) => e.id));
    expect((await list(`?q=${q}&actorId=system&customerId=${globex}&app=invoice&action=invoice.updated&targetType=invoice&limit=200`)).body.data).toHaveLength(25);
    expect((await list(`?q=${q}&app=customer`)).body.data).toEqual([]);
    expect((await list(`?q=${q}&actorType=user`)).body.data).toEqual([]);
    expect((await list(`?q=${q}&targetId=inv_${STAMP}11`)).body.data.map((e) => e.target.id)).toEqual([`inv_${STAMP}11`]);
    expect((await api(t, admin, 'GET', `/api/v1/audit-events/count?q=${q}`)).json()).toEqual({ count: 25, exact: true });
    const csv = await api(t, admin, 'GET', `/api/v1/audit-events/export.csv?q=${q}`);
    expect(csv.body.trimEnd().split('\r\n')).toHaveLength(26);
    const timeline = await api(t, admin, 'GET', `/api/v1/customers/${globex}/audit-events?q=${q}&limit=200`);
    expect(timeline.json<Page>().data).toHaveLength(25);
  });

  it('pages newest first by cursor, without gaps or repeats', async () => {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { res: { statusCode: number }; body: Page } = await list(`?customerId=${globex}&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.res.statusCode).toBe(200);
      ids.push(...page.body.data.map((e) => e.id));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 50);
    const all = (await list(`?customerId=${globex}&limit=200`)).body.data;
    expect(ids).toEqual(all.map((e) => e.id));
    expect(new Set(ids).size).toBe(ids.length);
    const seqs = all.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
  });
});

describe('bad input', () => {
  it('is a 400 naming the field, never a 500 (a from after to, well-formed, is a 422 rule_violation naming to)', async () => {
    for (const [query, field] of [
      ['?app=billing', 'app'], ['?app=Customer', 'app'], ['?from=2026-13-01', 'from'], ['?from=2026-02-30', 'from'], ['?from=yesterday', 'from'],
      ['?to=2026-11-30T25:00:00Z', 'to'], ['?from=2026-11-30T10:00:00', 'from'],
      // Years 0001-9999 only, as every date the API takes (year 0000 read as "everything"; 9999 with an offset is 10000 in UTC).
      ['?from=0000-01-01', 'from'], ['?to=0000-01-01', 'to'], ['?from=0000-12-31T23:00:00-05:00', 'from'], ['?to=9999-12-31T23:59:59-05:00', 'to'],
      ['?limit=100000', 'limit'], ['?limit=0', 'limit'], ['?limit=-1', 'limit'], ['?limit=abc', 'limit'], [`?q=${'x'.repeat(201)}`, 'q'], ['?q=', 'q'],
      ['?actorType=robot', 'actorType'], ['?targetType=In%20voice', 'targetType'], ['?customerId=acme', 'customerId'],
      ['?action=DROP', 'action'], ['?cursor=evt_0000000000000000000000000', 'cursor'], ['?unknown=1', 'unknown'],
    ] as const) {
      const { res } = await list(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path), query).toContain(field);
    }
    // Dates in the wrong order break a rule (docs/adr/0040); with a malformed value beside them, the 400 comes first.
    const order = (await list('?from=2026-11-02&to=2026-11-01')).res;
    expect(order.statusCode).toBe(422);
    expect(order.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'to', message: 'must be later than from' }] });
    expect((await list('?from=2026-11-02&to=2026-11-01&limit=0')).res.statusCode).toBe(400);
    for (const path of ['/count', '/export.csv']) {
      const res = await api(t, admin, 'GET', `/api/v1/audit-events${path}?from=2026-11-02&to=2026-11-01`);
      expect(res.statusCode, path).toBe(422);
    }
    for (const path of ['/count', '/export.csv']) {
      const res = await api(t, admin, 'GET', `/api/v1/audit-events${path}?app=nope`);
      expect(res.statusCode, path).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain('app');
    }
  });

  it('needs the Audit app (403), and answers 404 for another partner\'s event', async () => {
    for (const path of ['', '/catalog', '/count', '/export.csv', '/chain-status', `/${northwindEvent}`]) {
      const res = await api(t, finance, 'GET', `/api/v1/audit-events${path}`);
      expect(res.statusCode, path).toBe(403);
      expect((await api(t, null, 'GET', `/api/v1/audit-events${path}`)).statusCode, path).toBe(401);
    }
    const foreign = await api(t, admin, 'GET', `/api/v1/audit-events/${northwindEvent}`);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('not_found');
    expect((await api(t, admin, 'GET', '/api/v1/audit-events/evt_00000000000000000000')).statusCode).toBe(404);
    expect((await api(t, admin, 'GET', '/api/v1/audit-events/not-an-id')).statusCode).toBe(400);
  });
});

describe('an event in full', () => {
  it('says who (name, how signed in), when, from where, what (field by field) and links to the target', async () => {
    const [event] = (await list(`?actorId=${adminId}&action=customer.updated&limit=1`)).body.data;
    const res = await api(t, admin, 'GET', `/api/v1/audit-events/${event!.id}`);
    expect(res.statusCode).toBe(200);
    const detail = res.json();
    expect(detail.actor).toMatchObject({ type: 'user', id: adminId, label: 'admin@demo.test', name: 'Adam Admin', kind: 'staff' });
    expect(detail.authMethod).toBe('password_2fa');
    expect(detail.authMethodLabel).toBe('Password + 2FA');
    expect(detail.appLabel).toBe('Customer');
    expect(detail.actionLabel).toBe('Customer updated');
    expect(detail.diff).toContainEqual({ field: 'name', before: 'Acme Pte Ltd', after: `Acme ${STAMP} 100% _best_` });
    expect(detail.customer).toEqual({ id: acme, name: `Acme ${STAMP} 100% _best_`, path: `/admin/customer/${acme}` });
    expect(detail.links).toEqual([{ type: 'customer', id: acme, label: `Customer ${acme}`, path: `/admin/customer/${acme}` }]);
    expect(detail.requestId).toEqual(expect.any(String));
    expect(detail.userAgent === null || typeof detail.userAgent === 'string').toBe(true);
    expect(detail.chain.seq).toBe(event!.seq);
    expect(detail.chain.hash).toMatch(/^[0-9a-f]{64}$/);

    const [invoiceEvent] = (await list(`?targetId=inv_${STAMP}0`)).body.data;
    const inv = (await api(t, admin, 'GET', `/api/v1/audit-events/${invoiceEvent!.id}`)).json();
    expect(inv.actor).toMatchObject({ type: 'system', kind: 'system', name: null, label: 'test' });
    expect(inv.ip).toBe('10.1.2.3');
    expect(inv.authMethodLabel).toBe('System job');
    expect(inv.diff).toEqual([{ field: 'notes', before: `O'Brien \\ "quoted" 0`, after: 'paid in full 0' }]);
    expect(inv.links[0]).toEqual({ type: 'invoice', id: `inv_${STAMP}0`, label: `Invoice inv_${STAMP}0`, path: `/admin/invoice/inv_${STAMP}0` });
    expect(inv.links[1]).toMatchObject({ type: 'customer', id: globex, label: 'Globex Sdn Bhd' });
  });
});

describe('links to the target', () => {
  it('lead to the admin page of each target that has one: discounts, credit notes, statements, a price\'s product, ...', async () => {
    const price = await t.db.owner.db
      .selectFrom('productPrices')
      .innerJoin('productVariants', 'productVariants.id', 'productPrices.variantId')
      .select(['productPrices.id as priceId', 'productVariants.id as variantId', 'productVariants.productId'])
      .where('productPrices.partnerId', '=', demo)
      .executeTakeFirstOrThrow();
    const cases: Array<{ type: string; id: string; customerId?: string; path: string | null }> = [
      { type: 'discount', id: `dsc_${STAMP}`, path: `/admin/discount/dsc_${STAMP}` },
      { type: 'credit_note', id: `crn_${STAMP}`, customerId: globex, path: `/admin/finance/credit-notes/crn_${STAMP}` },
      { type: 'bank_statement', id: `bst_${STAMP}`, path: `/admin/finance/bank-import/bst_${STAMP}` },
      { type: 'product_price', id: price.priceId, path: `/admin/product/${price.productId}` },
      { type: 'product_variant', id: price.variantId, path: `/admin/product/${price.productId}` },
      { type: 'product_price', id: `pri_${STAMP}`, path: null }, // gone (or never there): no product to show it on
      { type: 'rate_plan', id: `rpl_${STAMP}`, path: '/admin/product?tab=rates' },
      { type: 'partner_settings', id: demo, path: '/admin/settings' },
      { type: 'api_key', id: `key_${STAMP}`, path: '/admin/access?tab=api-keys' },
      { type: 'user', id: adminId, path: '/admin/access' },
      { type: 'user', id: `usr_${STAMP}`, customerId: acme, path: `/admin/customer/${acme}?tab=members` },
      { type: 'call', id: `cal_${STAMP}`, customerId: acme, path: null },
    ];
    const ids = await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, async (trx) => {
      const out: string[] = [];
      for (const c of cases) {
        out.push(await recordAudit(trx, SYSTEM_ACTOR, { partnerId: demo, customerId: c.customerId ?? null, app: 'finance', action: 'test.link', targetType: c.type, targetId: c.id }));
      }
      return out;
    });
    for (const [i, c] of cases.entries()) {
      const res = await api(t, admin, 'GET', `/api/v1/audit-events/${ids[i]}`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().links[0], `${c.type} ${c.id}`).toMatchObject({ type: c.type, id: c.id, path: c.path });
    }
  });

  it('of a target shown on another record\'s page need that record', () => {
    expect(targetPath('bank_statement_line', 'bsl_1', null, 'bst_1')).toBe('/admin/finance/bank-import/bst_1');
    expect(targetPath('bank_statement_line', 'bsl_1', null)).toBeNull();
    expect(targetPath('notification', 'ntf_1', acme)).toBe(`/admin/customer/${acme}?tab=notifications`);
    expect(targetPath('notification', 'ntf_1', null)).toBeNull();
    expect(targetPath('invitation', 'inv_1', null)).toBe('/admin/access?tab=invitations');
    expect(targetPath('session', 'ses_1', acme)).toBeNull();
  });
});

describe('count and export', () => {
  it('counts exactly what the list shows', async () => {
    const res = await api(t, admin, 'GET', `/api/v1/audit-events/count?customerId=${globex}&app=invoice`);
    expect(res.statusCode).toBe(200);
    const all = (await list(`?customerId=${globex}&app=invoice&limit=200`)).body.data;
    expect(res.json()).toEqual({ count: all.length, exact: true });
    expect((await api(t, admin, 'GET', '/api/v1/audit-events/count?q=nothing-matches-this')).json()).toEqual({ count: 0, exact: true });
  });

  it('streams CSV of the same filter, newest first, with a header row', async () => {
    const res = await api(t, admin, 'GET', `/api/v1/audit-events/export.csv?customerId=${globex}&app=invoice`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="audit-events-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = res.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,seq,occurredAt,actorType,actorId,actorLabel,app,action,customerId,targetType,targetId,changes,requestId,ip,userAgent,authMethod');
    const all = (await list(`?customerId=${globex}&app=invoice&limit=200`)).body.data;
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(all.map((e) => e.id));
    expect(lines[1]!.endsWith(',vitest,system')).toBe(true);
  });
});

describe("a customer's timeline (Audit app, shown in the Customer app)", () => {
  it('shows every event for or about the customer to Audit app holders', async () => {
    const res = await api(t, admin, 'GET', `/api/v1/customers/${acme}/audit-events?limit=200`);
    expect(res.statusCode).toBe(200);
    const data = res.json<Page>().data;
    expect(data.length).toBeGreaterThan(0);
    expect(data.every((e) => e.customerId === acme || (e.target.type === 'customer' && e.target.id === acme))).toBe(true);
    expect(data.map((e) => e.action)).toContain('customer.updated');
    expect(data.map((e) => e.action)).toContain('customer.created');
    const filtered = await api(t, admin, 'GET', `/api/v1/customers/${acme}/audit-events?action=customer.updated&q=${STAMP}`);
    expect(filtered.json<Page>().data.map((e) => e.action)).toEqual(['customer.updated']);
  });

  it('is 403 app_not_granted for staff without the Audit app, even with the Customer app', async () => {
    const invited = await api(t, admin, 'POST', '/api/v1/staff/invitations', { email: 'customer-only@demo.test', name: 'Cora Customer', apps: ['customer'] });
    expect(invited.statusCode, invited.body).toBe(201);
    await acceptInvitationFor(t, 'customer-only@demo.test', 'Cora Customer');
    const customerOnly = await signIn(t, 'customer-only@demo.test');
    // The Customer app itself still answers; the timeline, like the Audit app's list of the same customer, does not.
    expect((await api(t, customerOnly, 'GET', `/api/v1/customers/${acme}`)).statusCode).toBe(200);
    for (const who of [customerOnly, finance]) {
      for (const url of [`/api/v1/customers/${acme}/audit-events`, `/api/v1/audit-events?customerId=${acme}`]) {
        const res = await api(t, who, 'GET', url);
        expect(res.statusCode, url).toBe(403);
        expect(res.json().code, url).toBe('app_not_granted');
      }
    }
    expect((await api(t, admin, 'GET', `/api/v1/customers/${acme}/audit-events`)).statusCode).toBe(200);
  });

  it("is 404 for another partner's customer, 403 for a customer user, 400 on bad filters", async () => {
    expect((await api(t, admin, 'GET', `/api/v1/customers/${wombat}/audit-events`)).statusCode).toBe(404);
    const owner = await signIn(t, 'owner@acme.test');
    expect((await api(t, owner, 'GET', `/api/v1/customers/${acme}/audit-events`)).statusCode).toBe(403);
    const bad = await api(t, admin, 'GET', `/api/v1/customers/${acme}/audit-events?from=never&customerId=${globex}`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path).sort()).toEqual(['customerId', 'from']);
  });
});
