import { execFile } from 'node:child_process';
import { systemClock } from '../platform/clock.ts';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { api, createTestApp, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import type { Ctx } from '../platform/context.ts';
import type { Db } from '../platform/database.ts';
import { PLATFORM_CHAIN, verifyAuditChain, type ChainReport } from './verify-chain.ts';

const run = promisify(execFile);

/** The verifier as `npm run audit:verify` runs it: system principal, owner connection. */
function ownerCtx(t: TestApp): Ctx {
  return { db: t.db.owner.db, config: t.config, log: t.app.log, principal: { kind: 'system', job: 'audit-verify' }, requestId: null, ip: null, userAgent: null, clock: systemClock };
}

function chainOf(reports: ChainReport[], chain: string): ChainReport {
  const found = reports.find((r) => r.chain === chain);
  if (!found) throw new Error(`no report for chain ${chain}`);
  return found;
}

async function eventAt(db: Db, chain: string, seq: number): Promise<{ id: string; seq: string }> {
  return db
    .selectFrom('auditEvents')
    .select(['id', 'seq'])
    .where(sql<boolean>`coalesce(partner_id, 'platform') = ${chain}`)
    .where('seq', '=', String(seq) as never)
    .executeTakeFirstOrThrow();
}

async function lastSeqOf(db: Db, chain: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`select max(seq)::int as n from audit_events where coalesce(partner_id, 'platform') = ${chain}`.execute(db);
  return rows[0]!.n;
}

/** `npm run audit:verify` against the test database. */
async function verifyCli(t: TestApp): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['src/audit/verify-cli.ts'], { env: { ...process.env, DATABASE_URL: t.db.url, LOG_LEVEL: 'silent' } });
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout + e.stderr };
  }
}

describe('an intact trail', () => {
  let t: TestApp;
  let admin: Session;
  let demo: string;
  beforeAll(async () => {
    t = await createTestApp();
    demo = await partnerIdOf(t.db, 'demo-telecom');
    admin = await signIn(t, 'admin@demo.test');
    await signIn(t, 'operator@folio.test');
  });
  afterAll(async () => t.close());

  it('verifies every chain, in batches of any size', async () => {
    for (const batchSize of [1000, 2]) {
      const result = await verifyAuditChain(ownerCtx(t), { batchSize });
      expect(result.ok).toBe(true);
      expect(result.chains.map((c) => c.chain)[0]).toBe(PLATFORM_CHAIN);
      expect(result.chains).toHaveLength(3);
      const total = await t.db.owner.db.selectFrom('auditEvents').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
      expect(result.checked).toBe(total.n);
      expect(result.chains.every((c) => c.ok && c.firstProblem === null)).toBe(true);
    }
  });

  it("lets the Audit app verify its own partner's chain through the app role", async () => {
    const res = await api(t, admin, 'GET', '/api/v1/audit-events/verify');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true, checked: await lastSeqOf(t.db.owner.db, demo), firstProblem: null });
  });

  it('says so on the command line, exit code 0', async () => {
    const { code, stdout } = await verifyCli(t);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ok {7}platform: \d+ events?, chain intact$/m);
    expect(stdout).toContain(`ok       ${demo} (Demo Telecom): `);
    expect(stdout).toMatch(/audit trail intact: \d+ events in 3 chains/);
  });

  it('needs the Audit app, and takes no parameters', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    const res = await api(t, finance, 'GET', '/api/v1/audit-events/verify');
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('app_not_granted');
    expect((await api(t, null, 'GET', '/api/v1/audit-events/verify')).statusCode).toBe(401);
    const extra = await api(t, admin, 'GET', '/api/v1/audit-events/verify?chain=platform');
    expect(extra.statusCode).toBe(400);
    expect(extra.json().errors.map((e: { path: string }) => e.path)).toEqual(['chain']);
  });
});

describe('a tampered trail (changed and deleted by the database owner)', () => {
  let t: TestApp;
  let demoAdmin: Session;
  let northwindAdmin: Session;
  let demo: string;
  let northwind: string;
  let altered: { id: string; seq: string };
  let deleted: { id: string; seq: string };
  let afterDeleted: { id: string; seq: string };
  beforeAll(async () => {
    t = await createTestApp();
    [demo, northwind] = await Promise.all([partnerIdOf(t.db, 'demo-telecom'), partnerIdOf(t.db, 'northwind')]);
    demoAdmin = await signIn(t, 'admin@demo.test');
    northwindAdmin = await signIn(t, 'admin@northwind.test');
    const owner = t.db.owner.db;
    altered = await eventAt(owner, demo, 3);
    deleted = await eventAt(owner, northwind, 2);
    afterDeleted = await eventAt(owner, northwind, 3);
    await sql`update audit_events set changes = '{"name": {"after": "Someone else"}}' where id = ${altered.id}`.execute(owner);
    await sql`delete from audit_events where id = ${deleted.id}`.execute(owner);
  });
  afterAll(async () => t.close());

  it('names exactly the altered event and the missing one, each in its own chain', async () => {
    const result = await verifyAuditChain(ownerCtx(t));
    expect(result.ok).toBe(false);
    expect(chainOf(result.chains, demo)).toMatchObject({ ok: false, checked: 3, firstProblem: { kind: 'altered', eventId: altered.id, seq: 3 } });
    expect(chainOf(result.chains, northwind)).toMatchObject({
      ok: false, checked: 2, firstProblem: { kind: 'missing', seq: Number(deleted.seq), eventId: afterDeleted.id },
    });
    expect(chainOf(result.chains, northwind).firstProblem!.detail).toBe(`event 2 is missing before ${afterDeleted.id}`);
    expect(chainOf(result.chains, PLATFORM_CHAIN)).toMatchObject({ ok: true, firstProblem: null });
  });

  it("reports each partner's own first problem through the API", async () => {
    const demoRes = await api(t, demoAdmin, 'GET', '/api/v1/audit-events/verify');
    expect(demoRes.json()).toEqual({ ok: false, checked: 3, firstProblem: { eventId: altered.id, seq: 3, kind: 'altered', detail: expect.any(String) } });
    const nwRes = await api(t, northwindAdmin, 'GET', '/api/v1/audit-events/verify');
    expect(nwRes.json()).toMatchObject({ ok: false, firstProblem: { eventId: afterDeleted.id, seq: 2, kind: 'missing' } });
  });

  it('fails on the command line, naming the first bad event, exit code 1', async () => {
    const { code, stdout } = await verifyCli(t);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^ok {7}platform: /m);
    expect(stdout).toContain(`PROBLEM  ${demo} (Demo Telecom): altered at seq 3 (event ${altered.id})`);
    expect(stdout).toContain(`PROBLEM  ${northwind} (Northwind Comms): missing at seq 2 (event ${afterDeleted.id})`);
    const firstBad = [demo, northwind].sort()[0] === demo ? altered.id : afterDeleted.id;
    expect(stdout).toMatch(new RegExp(`^FIRST BAD EVENT: ${firstBad} `, 'm'));
  });
});

describe('other kinds of damage', () => {
  let t: TestApp;
  let demo: string;
  let northwind: string;
  beforeAll(async () => {
    t = await createTestApp();
    [demo, northwind] = await Promise.all([partnerIdOf(t.db, 'demo-telecom'), partnerIdOf(t.db, 'northwind')]);
    await signIn(t, 'operator@folio.test');
  });
  afterAll(async () => t.close());

  it('events removed at the end: the head does not match the last event (missing)', async () => {
    const owner = t.db.owner.db;
    const last = await lastSeqOf(owner, PLATFORM_CHAIN);
    const victim = await eventAt(owner, PLATFORM_CHAIN, last);
    const before = await eventAt(owner, PLATFORM_CHAIN, last - 1);
    await sql`delete from audit_events where id = ${victim.id}`.execute(owner);
    const report = (await verifyAuditChain(ownerCtx(t), { chain: PLATFORM_CHAIN })).chains[0]!;
    expect(report.firstProblem).toMatchObject({ kind: 'missing', seq: last, eventId: before.id });
    expect(report.firstProblem!.detail).toMatch(/missing at the end of the chain/);
  });

  it('an event moved back in time and re-hashed to hide it (out_of_order)', async () => {
    const owner = t.db.owner.db;
    const moved = await eventAt(owner, demo, 4);
    await sql`update audit_events set occurred_at = occurred_at - interval '1 day' where id = ${moved.id}`.execute(owner);
    await sql`update audit_events a set hash = audit_event_hash(a) where id = ${moved.id}`.execute(owner);
    const report = (await verifyAuditChain(ownerCtx(t), { chain: demo })).chains[0]!;
    expect(report.firstProblem).toMatchObject({ kind: 'out_of_order', seq: 4, eventId: moved.id });
  });

  it('a replaced link (the next event no longer points at the previous one) and a deleted head (missing)', async () => {
    const owner = t.db.owner.db;
    const second = await eventAt(owner, northwind, 2);
    await sql`update audit_events a set prev_hash = repeat('f', 64) where id = ${second.id}`.execute(owner);
    await sql`update audit_events a set hash = audit_event_hash(a) where id = ${second.id}`.execute(owner);
    const report = (await verifyAuditChain(ownerCtx(t), { chain: northwind })).chains[0]!;
    expect(report.firstProblem).toMatchObject({ kind: 'missing', seq: 2, eventId: second.id });
  });

  it('a deleted chain head is reported as missing', async () => {
    const owner = t.db.owner.db;
    await sql`delete from audit_chain_heads where chain_key = ${PLATFORM_CHAIN}`.execute(owner);
    const result = await verifyAuditChain(ownerCtx(t));
    const report = chainOf(result.chains, PLATFORM_CHAIN);
    expect(report.firstProblem).toMatchObject({ kind: 'missing' });
    expect(report.firstProblem!.detail).toMatch(/head record is missing/);
  });
});
