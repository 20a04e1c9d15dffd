import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../platform/clock.ts';
import { sql } from 'kysely';
import { api, createTestApp, customerIdOf, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { inScope, type Scope } from '../platform/database.ts';
import type { Ctx } from '../platform/context.ts';
import { newId } from '../platform/ids.ts';
import { recordAudit } from './record-audit.ts';
import { verifyAuditChain } from './verify-chain.ts';

/**
 * The trail's walls, proved against the app role the server uses: append-only (no UPDATE, DELETE or TRUNCATE, and the
 * chain fields are the trigger's, whatever the insert says), and row-level security (a partner never sees or writes
 * another partner's events, a portal user only their organisation's).
 */
let t: TestApp;
let demo: string;
let northwind: string;
let acme: string;
let wombat: string;
let northwindAdmin: Session;
beforeAll(async () => {
  t = await createTestApp();
  [demo, northwind] = await Promise.all([partnerIdOf(t.db, 'demo-telecom'), partnerIdOf(t.db, 'northwind')]);
  [acme, wombat] = await Promise.all([customerIdOf(t.db, 'Acme Pte Ltd'), customerIdOf(t.db, 'Wombat Pty Ltd')]);
  northwindAdmin = await signIn(t, 'admin@northwind.test');
  await signIn(t, 'admin@demo.test');
  await signIn(t, 'owner@acme.test');
});
afterAll(async () => t.close());

const asApp = <T>(scope: Scope, fn: Parameters<typeof inScope<T>>[2]) => inScope<T>(t.db.app.db, scope, fn);
const SYSTEM: Scope = { kind: 'system' };
const SEED = { principal: { kind: 'system' as const, job: 'test' }, requestId: null, ip: null, userAgent: null };

describe('append-only', () => {
  it('the app role can neither change nor remove an event, in any scope', async () => {
    const someEvent = await t.db.owner.db.selectFrom('auditEvents').select('id').where('partnerId', '=', demo).executeTakeFirstOrThrow();
    for (const scope of [SYSTEM, { kind: 'partner', partnerId: demo } as const]) {
      await expect(asApp(scope, (trx) => trx.updateTable('auditEvents').set({ action: 'customer.deleted' }).where('id', '=', someEvent.id).execute()))
        .rejects.toThrow(/permission denied for table audit_events/);
      await expect(asApp(scope, (trx) => trx.deleteFrom('auditEvents').where('id', '=', someEvent.id).execute()))
        .rejects.toThrow(/permission denied for table audit_events/);
      await expect(asApp(scope, (trx) => sql`update audit_events set changes = '{}' where id = ${someEvent.id}`.execute(trx)))
        .rejects.toThrow(/permission denied for table audit_events/);
    }
    await expect(asApp(SYSTEM, (trx) => sql`truncate audit_events`.execute(trx))).rejects.toThrow(/permission denied for table audit_events/);
  });

  it('the app role cannot move a chain head', async () => {
    await expect(asApp(SYSTEM, (trx) => sql`update audit_chain_heads set last_seq = 1`.execute(trx))).rejects.toThrow(/permission denied for table audit_chain_heads/);
    await expect(asApp(SYSTEM, (trx) => sql`delete from audit_chain_heads`.execute(trx))).rejects.toThrow(/permission denied for table audit_chain_heads/);
  });

  it("an insert cannot choose its place in the chain: seq, prev_hash and hash are the trigger's", async () => {
    const id = newId('evt');
    await asApp({ kind: 'partner', partnerId: demo }, (trx) => sql`
      insert into audit_events (id, partner_id, actor_type, app, action, target_type, seq, prev_hash, hash)
      values (${id}, ${demo}, 'system', 'customer', 'customer.forged', 'customer', 1, 'forged', 'forged')`.execute(trx));
    const row = await t.db.owner.db.selectFrom('auditEvents').select(['seq', 'prevHash', 'hash']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(Number(row.seq)).toBeGreaterThan(1);
    expect(row.prevHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    const ctx: Ctx = { db: t.db.owner.db, config: t.config, log: t.app.log, principal: { kind: 'system', job: 'test' }, requestId: null, ip: null, userAgent: null, clock: systemClock };
    expect((await verifyAuditChain(ctx, { chain: demo })).ok).toBe(true);
  });
});

describe('row-level security on audit events', () => {
  it("a partner's scope sees only its own events, even without its own partner filter", async () => {
    const partners = await asApp({ kind: 'partner', partnerId: demo }, (trx) => trx.selectFrom('auditEvents').select('partnerId').distinct().execute());
    expect(partners).toEqual([{ partnerId: demo }]);
    const foreign = await asApp({ kind: 'partner', partnerId: demo }, (trx) => trx.selectFrom('auditEvents').select('id').where('customerId', '=', wombat).execute());
    expect(foreign).toEqual([]);
    const heads = await asApp({ kind: 'partner', partnerId: demo }, (trx) => trx.selectFrom('auditChainHeads').select('chainKey').execute());
    expect(heads).toEqual([{ chainKey: demo }]);
  });

  it("a partner's scope cannot write into another partner's trail", async () => {
    await expect(asApp({ kind: 'partner', partnerId: demo }, (trx) =>
      recordAudit(trx, SEED, { partnerId: northwind, customerId: wombat, app: 'customer', action: 'customer.forged', targetType: 'customer', targetId: wombat }),
    )).rejects.toThrow(/row-level security/);
  });

  it("a portal scope sees only its organisation's events, and no chain head", async () => {
    const scope: Scope = { kind: 'customer', partnerId: demo, customerId: acme };
    const rows = await asApp(scope, (trx) => trx.selectFrom('auditEvents').select(['partnerId', 'customerId']).distinct().execute());
    expect(rows).toEqual([{ partnerId: demo, customerId: acme }]);
    expect(await asApp(scope, (trx) => trx.selectFrom('auditChainHeads').select('chainKey').execute())).toEqual([]);
  });

  it("partner A's staff listing never shows partner B's events, even when passing B's customer id", async () => {
    const withAcme = await api(t, northwindAdmin, 'GET', `/api/v1/audit-events?customerId=${acme}`);
    expect(withAcme.statusCode).toBe(200);
    expect(withAcme.json()).toEqual({ data: [], nextCursor: null });
    const all = await api(t, northwindAdmin, 'GET', '/api/v1/audit-events?limit=200');
    const ids = all.json<{ data: Array<{ id: string }> }>().data.map((e) => e.id);
    const own = await t.db.owner.db.selectFrom('auditEvents').select('id').where('partnerId', '=', northwind).orderBy('seq', 'desc').execute();
    expect(ids).toEqual(own.map((e) => e.id));
    const csv = await api(t, northwindAdmin, 'GET', `/api/v1/audit-events?format=csv&customerId=${acme}`);
    expect(csv.body.trim().split('\r\n')).toHaveLength(1);
  });
});
