import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVITATIONS_PER_HOUR, REINVITE_AFTER_MINUTES, lockInvitations } from '../access/invite-user.ts';
import { newId } from '../platform/ids.ts';
import { api, auditEventsOf, createTestApp, customerIdOf, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

const patch = (who: Session, id: string, body: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'PATCH', url: `/api/v1/customers/${id}`, headers: { ...who.headers, ...headers }, payload: body as object });

describe('updateCustomer', () => {
  it('changes the name, status and billing contact, audits each field before and after, and returns the new ETag', async () => {
    const id = await customerIdOf(t.db, 'Initech Pte Ltd');
    const before = await api(t, admin, 'GET', `/api/v1/customers/${id}`);
    const etag = before.headers.etag as string;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);

    const res = await patch(admin, id, {
      name: 'Initech Holdings Pte Ltd', status: 'suspended',
      billingContact: { name: 'Bill Lumbergh', email: 'Bill@Initech.test', phone: '+65 6123 4567', address: '1 Office Park\nSingapore 123456' },
    }, { 'if-match': etag });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      name: 'Initech Holdings Pte Ltd', status: 'suspended', currency: 'SGD', currencyLocked: false,
      billingContact: { name: 'Bill Lumbergh', email: 'bill@initech.test', phone: '+65 6123 4567', address: '1 Office Park\nSingapore 123456' },
    });
    expect(res.headers.etag).not.toBe(etag);
    const [event] = await auditEventsOf(t.db, 'customer.updated');
    expect(event).toMatchObject({
      app: 'customer', customerId: id, targetId: id,
      changes: {
        name: { before: 'Initech Pte Ltd', after: 'Initech Holdings Pte Ltd' }, status: { before: 'active', after: 'suspended' },
        billingName: { before: null, after: 'Bill Lumbergh' }, billingEmail: { before: null, after: 'bill@initech.test' },
      },
    });
    expect(Object.keys(event!.changes as object)).not.toContain('currency');

    // Only what is sent changes; null clears one field.
    const cleared = await patch(admin, id, { billingContact: { phone: null } });
    expect(cleared.json().billingContact).toEqual({ name: 'Bill Lumbergh', email: 'bill@initech.test', phone: null, address: '1 Office Park\nSingapore 123456' });
  });

  it('refuses a stale If-Match with 412 and writes nothing', async () => {
    const id = await customerIdOf(t.db, 'Globex Sdn Bhd');
    const etag = (await api(t, admin, 'GET', `/api/v1/customers/${id}`)).headers.etag as string;
    expect((await patch(admin, id, { name: 'Globex Bhd' })).statusCode).toBe(200);
    const stale = await patch(admin, id, { name: 'Globex Again' }, { 'if-match': etag });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('precondition_failed');
    expect((await api(t, admin, 'GET', `/api/v1/customers/${id}`)).json().name).toBe('Globex Bhd');
  });

  it('writes no audit event when nothing changes', async () => {
    const id = await customerIdOf(t.db, 'Acme Pte Ltd');
    const count = (await auditEventsOf(t.db, 'customer.updated')).length;
    const res = await patch(admin, id, { name: 'Acme Pte Ltd', status: 'active' });
    expect(res.statusCode).toBe(200);
    expect(await auditEventsOf(t.db, 'customer.updated')).toHaveLength(count);
  });

  it('changes the currency until money has moved, then refuses it (409 currency_locked)', async () => {
    const created = await api(t, admin, 'POST', '/api/v1/customers', { name: 'Currency Co', currency: 'SGD', ownerEmail: 'boss@currency.test', ownerName: 'Boss' });
    const id = created.json().id as string;
    const changed = await patch(admin, id, { currency: 'MYR' });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ currency: 'MYR', currencyLocked: false });

    const finance = await signIn(t, 'finance@demo.test');
    expect((await api(t, finance, 'POST', `/api/v1/customers/${id}/points/issue`, { amount: '5.00', reason: 'welcome' })).statusCode).toBe(200);
    expect((await api(t, admin, 'GET', `/api/v1/customers/${id}`)).json()).toMatchObject({ currencyLocked: true, points: '5.00' });
    const locked = await patch(admin, id, { currency: 'SGD', name: 'Currency Company' });
    expect(locked.statusCode).toBe(409);
    expect(locked.json()).toMatchObject({ code: 'currency_locked', errors: [{ path: 'currency' }] });
    expect((await api(t, admin, 'GET', `/api/v1/customers/${id}`)).json()).toMatchObject({ currency: 'MYR', name: 'Currency Co' });
    // The same currency is not a change: other fields still save.
    expect((await patch(admin, id, { currency: 'MYR', name: 'Currency Company' })).json().name).toBe('Currency Company');
  });

  it('fixes the currency as soon as money can move in it: a credit limit, or a draft invoice', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    const withLimit = (await api(t, admin, 'POST', '/api/v1/customers', { name: 'Limit Co', currency: 'SGD', ownerEmail: 'boss@limit.test', ownerName: 'Boss' })).json().id as string;
    const limit = await api(t, finance, 'PUT', `/api/v1/customers/${withLimit}/credit-limit`, { amount: '5.00' });
    expect(limit.statusCode, limit.body).toBe(200);
    expect((await api(t, admin, 'GET', `/api/v1/customers/${withLimit}`)).json()).toMatchObject({ currencyLocked: true });
    expect((await patch(admin, withLimit, { currency: 'MYR' })).json()).toMatchObject({ code: 'currency_locked' });

    const withDraft = (await api(t, admin, 'POST', '/api/v1/customers', { name: 'Draft Co', currency: 'SGD', ownerEmail: 'boss@draft.test', ownerName: 'Boss' })).json().id as string;
    const draft = await api(t, admin, 'POST', '/api/v1/invoices', { customerId: withDraft, type: 'purchase', lines: [{ description: 'Setup', quantity: '1', unitPrice: '100.00' }] });
    expect(draft.statusCode, draft.body).toBe(201);
    expect(draft.json().status).toBe('draft');
    const refused = await patch(admin, withDraft, { currency: 'VND' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'currency_locked', errors: [{ path: 'currency' }] });
    expect((await api(t, admin, 'GET', `/api/v1/customers/${withDraft}`)).json()).toMatchObject({ currency: 'SGD', currencyLocked: true });
  });

  it('a currency change and the first money moving at the same moment: one wins, and no money is left in a currency the customer no longer has', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    const outcomes: string[] = [];
    for (let round = 0; round < 6; round++) {
      const id = (await api(t, admin, 'POST', '/api/v1/customers', { name: `Race Co ${round}`, currency: 'SGD', ownerEmail: `boss${round}@race.test`, ownerName: 'Boss' })).json().id as string;
      const [issued, changed] = await Promise.all([
        api(t, finance, 'POST', `/api/v1/customers/${id}/points/issue`, { amount: '5.00', reason: 'welcome' }),
        patch(admin, id, { currency: 'MYR' }),
      ]);
      const customer = (await api(t, admin, 'GET', `/api/v1/customers/${id}`)).json();
      if (issued.statusCode === 200) {
        // The points came first: the change waited for them and was refused.
        expect(changed.statusCode, changed.body).toBe(409);
        expect(changed.json().code).toBe('currency_locked');
        expect(customer).toMatchObject({ currency: 'SGD', points: '5.00' });
        outcomes.push('points first');
      } else {
        // The change came first: the points were refused whole, nothing written in SGD.
        expect(changed.statusCode, changed.body).toBe(200);
        expect(issued.statusCode, issued.body).toBe(409);
        expect(issued.json().code).toBe('state_conflict');
        expect(customer).toMatchObject({ currency: 'MYR', points: '0.00' });
        outcomes.push('change first');
      }
      // Whatever the order: every points account of the customer is in its currency.
      const accounts = await t.db.owner.db.selectFrom('ledgerAccounts').select(['currency', 'balanceMicros']).where('customerId', '=', id).execute();
      for (const a of accounts) expect(a.currency === customer.currency || a.balanceMicros === '0', JSON.stringify(a)).toBe(true);
    }
    expect(outcomes).toHaveLength(6);
  });

  it('a change that commits first refuses the money waiting for it; money that opens the wallet first makes the change wait, then refuses it', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    const owner = t.db.owner.db;
    // The change first: held open (the customer row locked for update, the currency changed) while the points are asked for.
    const first = (await api(t, admin, 'POST', '/api/v1/customers', { name: 'Change First Co', currency: 'SGD', ownerEmail: 'boss@changefirst.test', ownerName: 'Boss' })).json().id as string;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const change = owner.transaction().execute(async (trx) => {
      await sql`select 1 from customers where id = ${first} for update`.execute(trx);
      await sql`update customers set currency = 'MYR' where id = ${first}`.execute(trx);
      await held;
    });
    const points = api(t, finance, 'POST', `/api/v1/customers/${first}/points/issue`, { amount: '5.00', reason: 'welcome' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    await change;
    const refused = await points;
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'state_conflict', detail: expect.stringContaining('currency changed to MYR meanwhile') });
    expect(await owner.selectFrom('wallets').select('currency').where('customerId', '=', first).execute()).toEqual([]);

    // The money first: its wallet being opened holds the customer row, so the change waits and then sees the wallet.
    const second = (await api(t, admin, 'POST', '/api/v1/customers', { name: 'Money First Co', currency: 'SGD', ownerEmail: 'boss@moneyfirst.test', ownerName: 'Boss' })).json().id as string;
    let releaseMoney!: () => void;
    const moneyHeld = new Promise<void>((resolve) => (releaseMoney = resolve));
    const partnerId = await partnerIdOf(t.db, 'demo-telecom');
    const { inScope } = await import('../platform/database.ts');
    const { ensureWallet } = await import('../wallet/wallets.repo.ts');
    const opening = inScope(t.db.app.db, { kind: 'partner', partnerId }, async (trx) => {
      await ensureWallet(trx, { partnerId, customerId: second, currency: 'SGD' });
      await moneyHeld;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const changing = patch(admin, second, { currency: 'MYR' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    releaseMoney();
    await opening;
    const locked = await changing;
    expect(locked.statusCode, locked.body).toBe(409);
    expect(locked.json().code).toBe('currency_locked');
  });

  it("the ledger check names money left in a currency that is not its customer's (as the race above once left it)", async () => {
    const finance = await signIn(t, 'finance@demo.test');
    const id = (await api(t, admin, 'POST', '/api/v1/customers', { name: 'Stranded Co', currency: 'SGD', ownerEmail: 'boss@stranded.test', ownerName: 'Boss' })).json().id as string;
    expect((await api(t, finance, 'POST', `/api/v1/customers/${id}/points/issue`, { amount: '5.00', reason: 'welcome' })).statusCode).toBe(200);
    const { checkLedger } = await import('../ledger/check-ledger.ts');
    expect((await checkLedger(t.db.owner.db)).filter((p) => p.invariant === 'points_in_customer_currency')).toEqual([]);
    // What the race did before ensureWallet held the customer row: the currency changed under money already moved.
    await sql`update customers set currency = 'MYR' where id = ${id}`.execute(t.db.owner.db);
    try {
      const found = (await checkLedger(t.db.owner.db)).filter((p) => p.invariant === 'points_in_customer_currency');
      expect(found).toHaveLength(1);
      expect(found[0]!.detail).toMatch(new RegExp(`^account \\S+ \\(points\\) of customer ${id} holds -5000000 SGD; the customer's currency is MYR$`));
    } finally {
      await sql`update customers set currency = 'SGD' where id = ${id}`.execute(t.db.owner.db);
    }
  });

  it('refuses bad input with a 400 naming each field, and changes nothing', async () => {
    const id = await customerIdOf(t.db, 'Acme Pte Ltd');
    const res = await patch(admin, id, {
      name: '', currency: 'EUR', status: 'deleted', billingContact: { email: 'nope', phone: 'x', address: '', name: 'a'.repeat(201) }, creditLimit: '5',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining([
      'name', 'currency', 'status', 'billingContact.email', 'billingContact.phone', 'billingContact.address', 'billingContact.name', 'creditLimit',
    ]));
    expect((await patch(admin, id, { billingContact: null })).json().errors[0].path).toBe('billingContact');
    expect((await api(t, admin, 'GET', `/api/v1/customers/${id}`)).json()).toMatchObject({ name: 'Acme Pte Ltd', currency: 'SGD', status: 'active' });
  });

  it('is 404 for another partner\'s customer (nothing changes), and needs the Customer app', async () => {
    const wombat = await customerIdOf(t.db, 'Wombat Pty Ltd');
    const res = await patch(admin, wombat, { name: 'Taken over' });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('not_found');
    expect((await t.db.owner.db.selectFrom('customers').select('name').where('id', '=', wombat).executeTakeFirstOrThrow()).name).toBe('Wombat Pty Ltd');
    const owner = await signIn(t, 'owner@acme.test');
    expect((await patch(owner, await customerIdOf(t.db, 'Acme Pte Ltd'), { name: 'Mine' })).statusCode).toBe(403);
    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'audit only', apps: ['audit'] })).json();
    const byKey = await t.app.inject({ method: 'PATCH', url: `/api/v1/customers/${await customerIdOf(t.db, 'Acme Pte Ltd')}`, headers: { authorization: `Bearer ${key.token}` }, payload: { name: 'Key' } });
    expect(byKey.json().code).toBe('app_not_granted');
  });
});

describe('inviteCustomerOwner', () => {
  const invite = (id: string, body: unknown) => api(t, admin, 'POST', `/api/v1/customers/${id}/owner-invitation`, body);
  /** The customer's invitations so far, as if sent `minutes` earlier. */
  const sendInvitationsBack = (customerId: string, minutes: number) =>
    t.db.owner.db.updateTable('invitations').set({ createdAt: sql`created_at - make_interval(mins => ${minutes})` }).where('customerId', '=', customerId).execute();
  const invitationsOf = (customerId: string) =>
    t.db.owner.db.selectFrom('invitations').select(['email', 'revokedAt']).where('customerId', '=', customerId).orderBy('createdAt').orderBy('id').execute();
  const newCustomer = async (name: string, ownerEmail: string) =>
    (await api(t, admin, 'POST', '/api/v1/customers', { name, currency: 'AUD', ownerEmail, ownerName: 'First' })).json().id as string;

  it('sends a pending owner a fresh link, or invites another owner in place of one who never accepted', async () => {
    const id = await newCustomer('Owner Co', 'first@owner.test');
    await sendInvitationsBack(id, REINVITE_AFTER_MINUTES); // a new link is sent at most once in REINVITE_AFTER_MINUTES
    const again = await invite(id, { email: 'first@owner.test', name: 'First Owner' });
    expect(again.statusCode, again.body).toBe(200);
    const invitations = await t.db.owner.db.selectFrom('invitations').select(['email', 'revokedAt']).where('customerId', '=', id).orderBy('createdAt').execute();
    expect(invitations.map((i) => [i.email, i.revokedAt !== null])).toEqual([['first@owner.test', true], ['first@owner.test', false]]);

    const replaced = await invite(id, { email: 'Second@Owner.test', name: 'Second' });
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(replaced.json().users.map((u: { email: string; role: string; status: string }) => [u.email, u.role, u.status])).toEqual([
      ['second@owner.test', 'owner', 'invited'],
      ['first@owner.test', 'owner', 'disabled'],
    ]);
    const events = (await auditEventsOf(t.db, 'member.invited')).filter((e) => e.customerId === id);
    expect(events.some((e) => (e.changes as Record<string, { after?: unknown }>).replaces?.after === 'first@owner.test')).toBe(true);
  });

  it(`sends a pending owner a new link at most once in ${REINVITE_AFTER_MINUTES} minutes: then 429 with Retry-After, nothing written or sent`, async () => {
    const id = await newCustomer('Eager Co', 'eager@owner.test');
    const mails = async () => (await t.db.owner.db.selectFrom('notifications').select('id').where('toEmail', '=', 'eager@owner.test').where('kind', '=', 'invitation').execute()).length;
    const invitedEvents = async () => (await auditEventsOf(t.db, 'member.invited')).filter((e) => e.customerId === id).length;
    const eventsBefore = await invitedEvents();

    const again = await invite(id, { email: 'eager@owner.test', name: 'Eager Again' });
    expect(again.statusCode).toBe(429);
    expect(again.json()).toMatchObject({ code: 'too_many_requests', detail: expect.stringContaining(`less than ${REINVITE_AFTER_MINUTES} minutes ago`) });
    const wait = Number(again.headers['retry-after']);
    expect(wait).toBeGreaterThan((REINVITE_AFTER_MINUTES - 1) * 60);
    expect(wait).toBeLessThanOrEqual(REINVITE_AFTER_MINUTES * 60);
    expect((await invitationsOf(id)).map((i) => [i.email, i.revokedAt !== null])).toEqual([['eager@owner.test', false]]);
    expect(await mails()).toBe(1);
    expect(await invitedEvents()).toBe(eventsBefore);
    const owner = await t.db.owner.db.selectFrom('users').select('name').where('email', '=', 'eager@owner.test').executeTakeFirstOrThrow();
    expect(owner.name).toBe('First');

    await sendInvitationsBack(id, REINVITE_AFTER_MINUTES);
    expect((await invite(id, { email: 'eager@owner.test', name: 'Eager Again' })).statusCode).toBe(200);
    expect(await mails()).toBe(2);
  });

  it(`sends at most ${INVITATIONS_PER_HOUR} invitations an hour per customer organisation: then 429 with Retry-After, and the pending owner stays`, async () => {
    const id = await newCustomer('Busy Co', 'busy-0@owner.test');
    let pending = 'busy-0@owner.test';
    for (let i = 1; i < INVITATIONS_PER_HOUR; i++) {
      pending = `busy-${i}@owner.test`;
      const res = await invite(id, { email: pending, name: 'Busy' });
      expect(res.statusCode, res.body).toBe(200);
    }
    const refused = await invite(id, { email: 'one-too-many@owner.test', name: 'Any text at all' });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'too_many_requests', detail: expect.stringContaining(`${INVITATIONS_PER_HOUR} invitations an hour`) });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(3600);
    // Nothing written: the pending owner is not replaced, nobody new exists, nothing is mailed.
    const owners = await t.db.owner.db.selectFrom('users').select(['email', 'status']).where('customerId', '=', id).where('status', '<>', 'disabled').execute();
    expect(owners).toEqual([{ email: pending, status: 'invited' }]);
    expect(await t.db.owner.db.selectFrom('users').select('id').where('email', '=', 'one-too-many@owner.test').execute()).toEqual([]);
    expect(await t.db.owner.db.selectFrom('notifications').select('id').where('toEmail', '=', 'one-too-many@owner.test').execute()).toEqual([]);
    // Another organisation is counted apart; an hour later this one invites again.
    expect((await invite(await newCustomer('Calm Co', 'calm@owner.test'), { email: 'calm-2@owner.test', name: 'Calm' })).statusCode).toBe(200);
    await sendInvitationsBack(id, 60);
    expect((await invite(id, { email: 'one-too-many@owner.test', name: 'Late' })).statusCode).toBe(200);
  });

  it('takes the invitations\' lock before the customer row, as inviting a member does: the two never wait for each other', async () => {
    const id = await newCustomer('Locked Co', 'locked@owner.test');
    const partnerId = await partnerIdOf(t.db, 'demo-telecom');
    const advisoryWaiters = async () => Number((await sql<{ n: number }>`
      select count(*)::int as n from pg_locks
      where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`.execute(t.db.owner.db)).rows[0]!.n);
    let answer: ReturnType<typeof invite> | undefined;
    await t.db.owner.db.transaction().execute(async (member) => {
      // What inviting a member does, under way: the invitations' lock, then a user of the customer, whose foreign key
      // share-locks the customer row. An owner's invitation that locked the row first would deadlock with it.
      await lockInvitations(member, partnerId, id);
      answer = invite(id, { email: 'locked-2@owner.test', name: 'Second' });
      for (let i = 0; i < 250 && (await advisoryWaiters()) === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await advisoryWaiters()).toBe(1);
      await member.insertInto('users').values({
        id: newId('usr'), kind: 'customer', partnerId, customerId: id, customerRole: 'member', email: 'lock-member@owner.test',
        name: 'Member', passwordHash: null, status: 'invited', emailVerifiedAt: null, lockedUntil: null, lastLoginAt: null, updatedAt: sql`now()`,
      }).execute();
    });
    const res = await answer!;
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().users.map((u: { email: string; status: string }) => [u.email, u.status])).toEqual(expect.arrayContaining([
      ['locked-2@owner.test', 'invited'], ['locked@owner.test', 'disabled'], ['lock-member@owner.test', 'invited'],
    ]));
  });

  it('the OpenAPI document shows its 429: the limits in words, problem+json, and the Retry-After header', async () => {
    type Response = { description: string; headers?: Record<string, { schema: { type: string } }>; content: Record<string, unknown> };
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, Record<string, { operationId: string; responses: Record<string, Response> }>> }>();
    const op = Object.values(doc.paths).flatMap((p) => Object.values(p)).find((o) => o.operationId === 'inviteCustomerOwner')!;
    const throttled = op.responses['429']!;
    expect(throttled.description).toContain(`at most ${INVITATIONS_PER_HOUR} an hour`);
    expect(throttled.description).toContain(`once in ${REINVITE_AFTER_MINUTES} minutes`);
    expect(Object.keys(throttled.content)).toEqual(['application/problem+json']);
    expect(throttled.headers?.['Retry-After']).toMatchObject({ schema: { type: 'integer' } });
  });

  it('refuses once the owner has accepted (409 customer_has_owner), another partner\'s customer (404) and bad input (400)', async () => {
    const acme = await customerIdOf(t.db, 'Acme Pte Ltd');
    const res = await invite(acme, { email: 'new@acme.test', name: 'New' });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('customer_has_owner');
    expect((await invite(await customerIdOf(t.db, 'Wombat Pty Ltd'), { email: 'x@wombat.test', name: 'X' })).statusCode).toBe(404);
    const bad = await invite(acme, { email: 'nope', name: '' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['email', 'name']));
  });
});
