import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { api, createTestApp, signIn, type TestApp } from '../test/harness.ts';
import { forgetPortalTabs, PORTAL_TABS_CACHE_MS, portalTabsOf } from './portal-tabs.ts';

let t: TestApp;
let demo: string;
beforeAll(async () => {
  t = await createTestApp();
  demo = (await t.db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
});
afterAll(async () => t.close());

/** A change made by another server process: straight in the database, this process not told. */
const setInvoicesTab = (shown: boolean) =>
  sql`update partner_settings set portal_tabs = portal_tabs || jsonb_build_object('invoices', ${shown}::boolean) where partner_id = ${demo}`.execute(t.db.owner.db);

describe('portal tabs, kept for a few seconds per process', () => {
  it('answers from memory within the time, reads again after it or once forgotten', async () => {
    const db = t.db.app.db;
    forgetPortalTabs(db, demo);
    const readAt = Date.now();
    expect((await portalTabsOf(db, demo, readAt))?.invoices).toBe(true);
    await setInvoicesTab(false);
    try {
      expect((await portalTabsOf(db, demo, readAt))?.invoices).toBe(true); // another process's change: not seen yet
      expect((await portalTabsOf(db, demo, Date.now() + PORTAL_TABS_CACHE_MS + 1))?.invoices).toBe(false); // seen once the time is up
      await setInvoicesTab(true);
      forgetPortalTabs(db, demo);
      expect((await portalTabsOf(db, demo))?.invoices).toBe(true); // seen at once when forgotten
    } finally {
      await setInvoicesTab(true);
      forgetPortalTabs(db, demo);
    }
  });

  it('a read that was under way when the tabs were forgotten does not keep its (older) answer', async () => {
    const db = t.db.app.db;
    forgetPortalTabs(db, demo);
    const inFlight = portalTabsOf(db, demo); // reads "shown"
    forgetPortalTabs(db, demo); // a change commits meanwhile
    expect((await inFlight)?.invoices).toBe(true);
    await setInvoicesTab(false);
    try {
      expect((await portalTabsOf(db, demo))?.invoices).toBe(false);
    } finally {
      await setInvoicesTab(true);
      forgetPortalTabs(db, demo);
    }
  });

  it('hiding a tab in Portal Settings refuses it to customers at once, though their last request had it cached', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    const owner = await signIn(t, 'owner@acme.test');
    expect((await api(t, owner, 'GET', '/api/v1/portal/invoices')).statusCode).toBe(200);
    const hide = await api(t, admin, 'PATCH', '/api/v1/settings/portal', { portalTabs: { invoices: false } });
    expect(hide.statusCode, hide.body).toBe(200);
    try {
      const refused = await api(t, owner, 'GET', '/api/v1/portal/invoices');
      expect(refused.statusCode).toBe(403);
      expect(refused.json().code).toBe('tab_hidden');
    } finally {
      expect((await api(t, admin, 'PATCH', '/api/v1/settings/portal', { portalTabs: { invoices: true } })).statusCode).toBe(200);
    }
    expect((await api(t, owner, 'GET', '/api/v1/portal/invoices')).statusCode).toBe(200);
  });
});
