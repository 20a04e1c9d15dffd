import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, customerIdOf, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { versionEtag } from '../platform/version-etag.ts';
import { catalogPrice, givePoints, ledgerProblems, pointsOf, type CatalogPrice } from './test-support.ts';

/**
 * A subscription answers an ETag (its version, migration 0068), and every staff and portal update of it takes If-Match:
 * stale, 412 naming If-Match and nothing written; current (or none), the update goes through and answers the next ETag.
 */
let t: TestApp;
let demo: string;
let acme: string;
let admin: Session;
let owner: Session;
let monthly: CatalogPrice;
let seats: CatalogPrice;

type View = { id: string; status: string; autoRenew: boolean; renewByCard: boolean; version: number; addOns: { id: string; quantity: number; pendingQuantity: number | null }[] };
type Detail = View & { history: { kind: string }[] };

beforeAll(async () => {
  t = await createTestApp();
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  monthly = await catalogPrice(t, demo, { name: 'ETag PBX', price: '30.00', cost: '12.00' });
  seats = await catalogPrice(t, demo, { name: 'ETag seat', price: '10.00', cost: '4.00' });
  admin = await signIn(t, 'admin@demo.test');
  owner = await signIn(t, 'owner@acme.test');
  await givePoints(t, demo, acme, '5000.00');
});
afterAll(async () => t.close());

async function buy(): Promise<View> {
  t.clock.set('2026-03-02T09:00:00Z');
  const res = await api(t, admin, 'POST', `/api/v1/customers/${acme}/subscriptions`, { priceId: monthly.priceId });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ subscription: View }>().subscription;
}

const staffRead = async (id: string) => {
  const res = await api(t, admin, 'GET', `/api/v1/subscriptions/${id}`);
  expect(res.statusCode, res.body).toBe(200);
  return { etag: String(res.headers.etag), view: res.json<Detail>() };
};
const portalRead = async (id: string) => {
  const res = await api(t, owner, 'GET', `/api/v1/portal/subscriptions/${id}`);
  expect(res.statusCode, res.body).toBe(200);
  return { etag: String(res.headers.etag), view: res.json<Detail>() };
};
const send = (who: Session, method: 'PATCH' | 'POST', url: string, ifMatch: string | undefined, payload?: unknown) => t.app.inject({
  method, url, headers: { ...who.headers, ...(ifMatch === undefined ? {} : { 'if-match': ifMatch }) }, ...(payload === undefined ? {} : { payload: payload as object }),
});
const eventsOf = async (action: string, id: string) => (await auditEventsOf(t.db, action)).filter((e) => e.targetId === id).length;

function expectStale(res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown }) {
  expect(res.statusCode).toBe(412);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(res.json()).toMatchObject({ status: 412, code: 'precondition_failed', errors: [{ path: 'If-Match', message: 'does not match the current version' }] });
}

describe('subscription ETag and If-Match (staff)', () => {
  it('GET answers the version as a strong ETag; a stale If-Match on PATCH is a 412 that writes nothing; the current one goes through', async () => {
    const sub = await buy();
    const first = await staffRead(sub.id);
    expect(first.etag).toBe(`"v${first.view.version}"`);
    expect(first.view.version).toBe(sub.version);

    // A colleague turns auto-renew off meanwhile (no If-Match: works as before), which moves the ETag.
    const other = await send(admin, 'PATCH', `/api/v1/subscriptions/${sub.id}`, undefined, { autoRenew: false });
    expect(other.statusCode, other.body).toBe(200);
    expect(other.json<View>().autoRenew).toBe(false);
    const afterOther = await staffRead(sub.id);
    expect(afterOther.etag).not.toBe(first.etag);
    expect(String(other.headers.etag)).toBe(afterOther.etag);

    const updatesBefore = await eventsOf('subscription.updated', sub.id);
    const stale = await send(admin, 'PATCH', `/api/v1/subscriptions/${sub.id}`, first.etag, { autoRenew: true });
    expectStale(stale);
    const unchanged = await staffRead(sub.id);
    expect(unchanged.view.autoRenew).toBe(false);
    expect(unchanged.etag).toBe(afterOther.etag);
    expect(unchanged.view.history).toEqual(afterOther.view.history);
    expect(await eventsOf('subscription.updated', sub.id)).toBe(updatesBefore);

    const fresh = await send(admin, 'PATCH', `/api/v1/subscriptions/${sub.id}`, afterOther.etag, { autoRenew: true });
    expect(fresh.statusCode, fresh.body).toBe(200);
    expect(fresh.json<View>().autoRenew).toBe(true);
    const next = String(fresh.headers.etag);
    expect(next).not.toBe(afterOther.etag);
    expect(next).toBe((await staffRead(sub.id)).etag);
    // `*`, or a list naming the current one, matches; the ETag is strong, so its weak form never does.
    expect((await send(admin, 'PATCH', `/api/v1/subscriptions/${sub.id}`, `"v0", ${next}`, { autoRenew: true })).statusCode).toBe(200);
    expectStale(await send(admin, 'PATCH', `/api/v1/subscriptions/${sub.id}`, `W/${next}`, { autoRenew: false }));
    expectStale(await send(admin, 'PATCH', `/api/v1/subscriptions/${sub.id}`, 'garbage', { autoRenew: false }));
    expect((await send(admin, 'PATCH', `/api/v1/subscriptions/${sub.id}`, '*', { autoRenew: false })).statusCode).toBe(200);
    expect((await staffRead(sub.id)).view.autoRenew).toBe(false);
  });

  it('a list item\'s version names the ETag of its GET: the If-Match the Customer app sends from its list, stale once the row changed', async () => {
    const sub = await buy();
    const listed = async () => {
      const res = await api(t, admin, 'GET', `/api/v1/customers/${acme}/subscriptions?limit=200`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ data: View[] }>().data.find((s) => s.id === sub.id)!;
    };
    const seen = await listed();
    expect(versionEtag(seen.version)).toBe((await staffRead(sub.id)).etag);
    expect((await send(admin, 'PATCH', `/api/v1/subscriptions/${sub.id}`, undefined, { autoRenew: false })).statusCode).toBe(200);
    expectStale(await send(admin, 'POST', `/api/v1/subscriptions/${sub.id}/terminate`, versionEtag(seen.version), { reason: 'Seen in the list' }));
    expect((await staffRead(sub.id)).view.status).toBe('active');
    const again = await listed();
    expect(versionEtag(again.version)).toBe((await staffRead(sub.id)).etag);
    const ended = await send(admin, 'POST', `/api/v1/subscriptions/${sub.id}/terminate`, versionEtag(again.version), { reason: 'Seen in the list' });
    expect(ended.statusCode, ended.body).toBe(200);
    // The portal's list carries the same version.
    const portalList = await api(t, owner, 'GET', '/api/v1/portal/subscriptions?limit=200');
    expect(versionEtag(portalList.json<{ data: View[] }>().data.find((s) => s.id === sub.id)!.version)).toBe((await portalRead(sub.id)).etag);
  });

  it('bad input: an oversized If-Match is a 400 naming it; another partner\'s or an unknown subscription stays a 404, If-Match or not', async () => {
    const sub = await buy();
    const { etag } = await staffRead(sub.id);
    const long = await send(admin, 'PATCH', `/api/v1/subscriptions/${sub.id}`, `"${'x'.repeat(600)}"`, { autoRenew: false });
    expect(long.statusCode).toBe(400);
    expect(long.json().errors.map((e: { path: string }) => e.path).join(' ')).toMatch(/^If-Match$/);
    expect((await staffRead(sub.id)).view.autoRenew).toBe(true);
    expect((await send(admin, 'PATCH', '/api/v1/subscriptions/sub_00000000000000000000000000', etag, { autoRenew: false })).statusCode).toBe(404);
    const north = await signIn(t, 'admin@northwind.test');
    expect((await send(north, 'PATCH', `/api/v1/subscriptions/${sub.id}`, etag, { autoRenew: false })).statusCode).toBe(404);
    expect((await staffRead(sub.id)).etag).toBe(etag);
  });

  it('terminate, add-ons and reactivate take If-Match too; a stale one refunds, charges and changes nothing', async () => {
    const sub = await buy();
    const read = await staffRead(sub.id);

    // An add-on is part of the subscription: adding one moves its ETag.
    const added = await send(admin, 'POST', `/api/v1/subscriptions/${sub.id}/add-ons`, read.etag, { priceId: seats.priceId, quantity: 2 });
    expect(added.statusCode, added.body).toBe(201);
    const addOnId = added.json<View>().addOns[0]!.id;
    const afterAdd = await staffRead(sub.id);
    expect(String(added.headers.etag)).toBe(afterAdd.etag);
    expect(afterAdd.etag).not.toBe(read.etag);

    const points = await pointsOf(t, demo, acme);
    expectStale(await send(admin, 'POST', `/api/v1/subscriptions/${sub.id}/add-ons`, read.etag, { priceId: monthly.priceId, quantity: 1 }));
    expectStale(await send(admin, 'PATCH', `/api/v1/subscriptions/${sub.id}/add-ons/${addOnId}`, read.etag, { quantity: 5 }));
    expectStale(await send(admin, 'POST', `/api/v1/subscriptions/${sub.id}/terminate`, read.etag, { reason: 'Stale read' }));
    expect(await pointsOf(t, demo, acme)).toEqual(points);
    const still = await staffRead(sub.id);
    expect(still.etag).toBe(afterAdd.etag);
    expect(still.view).toMatchObject({ status: 'active', addOns: [{ id: addOnId, quantity: 2, pendingQuantity: null }] });
    expect(await eventsOf('subscription.terminated', sub.id)).toBe(0);
    expect(await eventsOf('subscription.add_on_changed', sub.id)).toBe(0);

    const changed = await send(admin, 'PATCH', `/api/v1/subscriptions/${sub.id}/add-ons/${addOnId}`, afterAdd.etag, { quantity: 1 });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json<View>().addOns[0]).toMatchObject({ quantity: 2, pendingQuantity: 1 });
    const afterChange = await staffRead(sub.id);
    expect(afterChange.etag).not.toBe(afterAdd.etag);
    expectStale(await send(admin, 'POST', `/api/v1/subscriptions/${sub.id}/terminate`, afterAdd.etag, { reason: 'Stale read' }));

    const ended = await send(admin, 'POST', `/api/v1/subscriptions/${sub.id}/terminate`, afterChange.etag, { reason: 'No longer needed' });
    expect(ended.statusCode, ended.body).toBe(200);
    expect(ended.json<View>().status).toBe('terminated');
    expect(String(ended.headers.etag)).toBe((await staffRead(sub.id)).etag);
    expect(await ledgerProblems(t)).toEqual([]);
  });

  it('reactivate: a stale If-Match charges nothing; a change by the renewal job (expiry) moves the ETag as any change does', async () => {
    const sub = await buy();
    const active = await staffRead(sub.id);
    // What the renewal job does at expiry, written straight to the row: the version moves all the same (a trigger).
    await t.db.owner.db.updateTable('subscriptions').set({ status: 'expired', expiredAt: t.clock.now() }).where('id', '=', sub.id).execute();
    const expired = await staffRead(sub.id);
    expect(expired.view.status).toBe('expired');
    expect(expired.view.version).toBe(active.view.version + 1);

    const points = await pointsOf(t, demo, acme);
    expectStale(await send(admin, 'POST', `/api/v1/subscriptions/${sub.id}/reactivate`, active.etag));
    expect(await pointsOf(t, demo, acme)).toEqual(points);
    expect((await staffRead(sub.id)).view.status).toBe('expired');
    const back = await send(admin, 'POST', `/api/v1/subscriptions/${sub.id}/reactivate`, expired.etag);
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json<View>().status).toBe('active');
    expect(String(back.headers.etag)).toBe((await staffRead(sub.id)).etag);
  });
});

describe('subscription ETag and If-Match (portal)', () => {
  it('the portal GET answers the same ETag; a stale If-Match on its update or termination writes nothing; the current one goes through', async () => {
    const sub = await buy();
    const portal = await portalRead(sub.id);
    expect(portal.etag).toBe((await staffRead(sub.id)).etag);

    const staffChange = await send(admin, 'PATCH', `/api/v1/subscriptions/${sub.id}`, portal.etag, { autoRenew: false });
    expect(staffChange.statusCode, staffChange.body).toBe(200);

    expectStale(await send(owner, 'PATCH', `/api/v1/portal/subscriptions/${sub.id}`, portal.etag, { autoRenew: true }));
    expectStale(await send(owner, 'POST', `/api/v1/portal/subscriptions/${sub.id}/terminate`, portal.etag, { reason: 'Stale read' }));
    expectStale(await send(owner, 'POST', `/api/v1/portal/subscriptions/${sub.id}/add-ons`, portal.etag, { priceId: seats.priceId, quantity: 1 }));
    const now = await portalRead(sub.id);
    expect(now.view).toMatchObject({ status: 'active', autoRenew: false, addOns: [] });
    expect(now.etag).toBe(String(staffChange.headers.etag));

    const ok = await send(owner, 'PATCH', `/api/v1/portal/subscriptions/${sub.id}`, now.etag, { autoRenew: true });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json<View>().autoRenew).toBe(true);
    expect(String(ok.headers.etag)).toBe((await portalRead(sub.id)).etag);
    expect(String(ok.headers.etag)).not.toBe(now.etag);
    // Without If-Match, as before.
    expect((await send(owner, 'PATCH', `/api/v1/portal/subscriptions/${sub.id}`, undefined, { autoRenew: false })).statusCode).toBe(200);
  });
});

describe('the OpenAPI document', () => {
  it('shows If-Match and the 412 on every update of a subscription, staff and portal', async () => {
    type Op = { operationId: string; parameters?: { in: string; name: string }[]; responses: Record<string, unknown> };
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, Record<string, Op>> }>();
    const ops = Object.values(doc.paths).flatMap((p) => Object.values(p));
    const updates = [
      'updateSubscription', 'terminateSubscription', 'reactivateSubscription', 'addSubscriptionAddOn', 'changeSubscriptionAddOn',
      'portalUpdateSubscription', 'portalTerminateSubscription', 'portalReactivateSubscription', 'portalAddSubscriptionAddOn', 'portalChangeSubscriptionAddOn',
    ];
    for (const id of updates) {
      const op = ops.find((o) => o.operationId === id);
      expect(op, id).toBeDefined();
      expect(op!.parameters?.some((p) => p.in === 'header' && p.name === 'if-match'), `${id} If-Match`).toBe(true);
      expect(op!.responses['412'], `${id} 412`).toBeDefined();
    }
  });
});
