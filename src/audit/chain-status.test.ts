import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { api, createTestApp, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { systemClock } from '../platform/clock.ts';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';
import { recordAudit } from './record-audit.ts';
import { checkAuditChains } from './check-audit-chains.ts';
import { verifyAuditChain } from './verify-chain.ts';
import { appendBackdatedEvents } from './backdated-chain.ts';

/**
 * The scheduled chain check (incremental, with a full pass from the start once a day; alerting once per break) and the
 * Audit app's chain status; the operator's retention cut, which verification accepts as a new start, and which the app
 * role cannot forge or undo.
 */
let t: TestApp;
let admin: Session;
let operator: Session;
let demo: string;
let northwind: string;

const deps = () => ({ db: t.db.app.db, log: t.app.log, config: t.config });
const SYSTEM_ACTOR = { principal: { kind: 'system' as const, job: 'test' }, requestId: null, ip: null, userAgent: null };
const ownerCtx = (): Ctx => ({
  db: t.db.owner.db, config: t.config, log: t.app.log, principal: { kind: 'system', job: 'audit-verify' }, requestId: null, ip: null, userAgent: null, clock: systemClock,
});

async function addEvents(partnerId: string, n: number): Promise<string[]> {
  return inScope(t.db.app.db, { kind: 'partner', partnerId }, async (trx) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(await recordAudit(trx, SYSTEM_ACTOR, { partnerId, customerId: null, app: 'settings', action: 'portal_config.updated', targetType: 'partner_settings', targetId: partnerId, changes: { n: { after: i } } }));
    }
    return ids;
  });
}

async function chainStatus(who: Session = admin) {
  const res = await api(t, who, 'GET', '/api/v1/audit-events/chain-status');
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Move the chain's last full pass back by `hours`, as if that much time had passed since it began. */
async function backdateFullPass(chain: string, hours: number): Promise<void> {
  await sql`update audit_chain_checks set fully_verified_at = fully_verified_at - make_interval(hours => ${hours}) where chain_key = ${chain}`.execute(t.db.owner.db);
}

async function alertsTo(email: string): Promise<number> {
  const rows = await t.db.owner.db.selectFrom('notifications').select('id').where('kind', '=', 'audit_chain_broken').where('toEmail', '=', email).execute();
  return rows.length;
}

beforeAll(async () => {
  t = await createTestApp();
  [demo, northwind] = await Promise.all([partnerIdOf(t.db, 'demo-telecom'), partnerIdOf(t.db, 'northwind')]);
  admin = await signIn(t, 'admin@demo.test');
  operator = await signIn(t, 'operator@folio.test');
});
afterAll(async () => t.close());

describe('the scheduled chain check', () => {
  it('says "not checked yet" before the first run, then "verified up to event N at time T"', async () => {
    expect((await chainStatus()).status).toBe('not_checked_yet');
    const outcomes = await checkAuditChains(deps());
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(outcomes.every((o) => o.full)).toBe(true); // nothing verified before: every chain is walked from its start
    expect(outcomes.map((o) => o.chain)).toEqual(expect.arrayContaining(['platform', demo, northwind]));
    const status = await chainStatus();
    const head = await t.db.owner.db.selectFrom('auditChainHeads').select(['lastSeq']).where('chainKey', '=', demo).executeTakeFirstOrThrow();
    expect(status).toMatchObject({ status: 'verified', headSeq: Number(head.lastSeq), problem: null, retentionYears: 7, cuts: [] });
    expect(status.verifiedUpTo.seq).toBe(Number(head.lastSeq));
    const last = await t.db.owner.db.selectFrom('auditEvents').select(['id', 'occurredAt']).where('partnerId', '=', demo).where('seq', '=', head.lastSeq as never).executeTakeFirstOrThrow();
    expect(status.verifiedUpTo.eventId).toBe(last.id);
    expect(status.verifiedUpTo.occurredAt).toBe(last.occurredAt.toISOString());
    expect(Date.parse(status.checkedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(Date.parse(status.fullyVerifiedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('goes on from where it stopped: only new events are walked', async () => {
    await addEvents(demo, 3);
    const [outcome] = await checkAuditChains(deps(), [demo]);
    expect(outcome).toMatchObject({ chain: demo, ok: true, checked: 3, full: false });
    const again = await checkAuditChains(deps(), [demo]);
    expect(again[0]).toMatchObject({ ok: true, checked: 0, full: false });
  });

  it('finds a tampered event, names it in the app, and alerts the Audit holders once', async () => {
    const northwindAdmin = await signIn(t, 'admin@northwind.test');
    const [good, bad] = await addEvents(northwind, 2);
    await checkAuditChains(deps(), [northwind]);
    // The owner changes an event that has not been verified yet (protection off for the test: the owner bypasses it).
    const more = await addEvents(northwind, 2);
    await sql`update audit_events set changes = '{"n":{"after":999}}' where id = ${more[0]!}`.execute(t.db.owner.db);
    const tampered = await t.db.owner.db.selectFrom('auditEvents').select('seq').where('id', '=', more[0]!).executeTakeFirstOrThrow();
    const [outcome] = await checkAuditChains(deps(), [northwind]);
    expect(outcome).toMatchObject({ ok: false, alerted: true });
    const status = await chainStatus(northwindAdmin);
    expect(status.status).toBe('broken');
    expect(status.problem).toMatchObject({ eventId: more[0], seq: Number(tampered.seq), kind: 'altered' });
    expect(status.problem.detail).toContain(more[0]);
    expect(status.verifiedUpTo.seq).toBe(Number(tampered.seq) - 1);
    expect(await alertsTo('admin@northwind.test')).toBe(1);
    const mail = await t.db.owner.db.selectFrom('notifications').select(['subject', 'bodyText', 'partnerId']).where('kind', '=', 'audit_chain_broken').executeTakeFirstOrThrow();
    expect(mail.partnerId).toBe(northwind);
    expect(mail.bodyText).toContain(more[0]);

    // Checked again: the same break, no second alert; the demo partner is not alerted and its chain is intact.
    const [again] = await checkAuditChains(deps(), [northwind]);
    expect(again).toMatchObject({ ok: false, alerted: false });
    expect(await alertsTo('admin@northwind.test')).toBe(1);
    expect(await alertsTo('admin@demo.test')).toBe(0);
    expect((await chainStatus()).status).toBe('verified');
    expect([good, bad]).toHaveLength(2);
  });
});

describe('the daily full pass', () => {
  it('finds an event altered behind the incremental point on the next run due a full pass, and alerts once', async () => {
    const ids = await addEvents(demo, 3);
    expect((await checkAuditChains(deps(), [demo]))[0]).toMatchObject({ ok: true, full: false, checked: 3 });
    const before = await chainStatus();
    expect(before.status).toBe('verified');
    const head = async () => Number((await t.db.owner.db.selectFrom('auditChainHeads').select('lastSeq').where('chainKey', '=', demo).executeTakeFirstOrThrow()).lastSeq);
    expect(before.verifiedUpTo.seq).toBe(await head());

    // An event already verified is changed in place (the owner bypasses the trail's protection).
    const target = await t.db.owner.db.selectFrom('auditEvents').select(['seq', 'changes']).where('id', '=', ids[1]!).executeTakeFirstOrThrow();
    const seq = Number(target.seq);
    await sql`update audit_events set changes = '{"n":{"after":"forged"}}' where id = ${ids[1]!}`.execute(t.db.owner.db);

    // Not due a full pass: the run stays incremental (nothing new to walk) and cannot see it.
    expect((await checkAuditChains(deps(), [demo]))[0]).toMatchObject({ ok: true, full: false, checked: 0, alerted: false });
    const quiet = await chainStatus();
    expect(quiet).toMatchObject({ status: 'verified', fullyVerifiedAt: before.fullyVerifiedAt });
    expect(await alertsTo('admin@demo.test')).toBe(0);

    // The last full pass began 25 hours ago: this run walks the chain from its start and finds the altered event.
    await backdateFullPass(demo, 25);
    const [found] = await checkAuditChains(deps(), [demo]);
    expect(found).toMatchObject({ ok: false, full: true, alerted: true, checked: seq, verifiedSeq: seq - 1 });
    const broken = await chainStatus();
    expect(broken.status).toBe('broken');
    expect(broken.problem).toMatchObject({ eventId: ids[1], seq, kind: 'altered' });
    expect(broken.verifiedUpTo.seq).toBe(seq - 1);
    expect(Date.parse(broken.fullyVerifiedAt)).toBeGreaterThan(Date.parse(before.fullyVerifiedAt));
    expect(await alertsTo('admin@demo.test')).toBe(1);
    const mail = await t.db.owner.db.selectFrom('notifications').select('bodyText').where('kind', '=', 'audit_chain_broken').where('toEmail', '=', 'admin@demo.test').executeTakeFirstOrThrow();
    expect(mail.bodyText).toContain(ids[1]);

    // The next run is incremental again, from the last intact event: the same break, no second alert.
    expect((await checkAuditChains(deps(), [demo]))[0]).toMatchObject({ ok: false, full: false, checked: 1, alerted: false });
    expect(await alertsTo('admin@demo.test')).toBe(1);

    // Restored: the chain is intact again, verified up to its head.
    await sql`update audit_events set changes = ${JSON.stringify(target.changes)}::jsonb where id = ${ids[1]!}`.execute(t.db.owner.db);
    const [restored] = await checkAuditChains(deps(), [demo]);
    expect(restored).toMatchObject({ ok: true, full: false, verifiedSeq: await head() });
    expect(await chainStatus()).toMatchObject({ status: 'verified', problem: null });
  });

  it('starts full passes oldest-due first within the run\'s event budget, at least one per run', async () => {
    // northwind is still broken from the test above (the same break: found again, never alerted again).
    const run = async (fullPassEventsPerRun?: number) =>
      Object.fromEntries((await checkAuditChains({ ...deps(), ...(fullPassEventsPerRun ? { fullPassEventsPerRun } : {}) }, [demo, northwind])).map((o) => [o.chain, o]));
    await backdateFullPass(demo, 30);
    await backdateFullPass(northwind, 26);
    const first = await run(1);
    expect(first[demo]).toMatchObject({ full: true, ok: true });
    expect(first[northwind]).toMatchObject({ full: false, ok: false, alerted: false });
    const second = await run(1);
    expect(second[demo]).toMatchObject({ full: false, checked: 0 });
    expect(second[northwind]).toMatchObject({ full: true, ok: false, alerted: false });
    const third = await run(1);
    expect([third[demo]!.full, third[northwind]!.full]).toEqual([false, false]);

    // Within the default budget every due chain gets its full pass in the same run.
    await backdateFullPass(demo, 24);
    await backdateFullPass(northwind, 24);
    const both = await run();
    expect([both[demo]!.full, both[northwind]!.full]).toEqual([true, true]);
    expect(await alertsTo('admin@northwind.test')).toBe(1);
  });
});

describe('retention cuts', () => {
  let old: string;
  beforeAll(async () => {
    // A partner whose first 40 events are 9 years old and next 10 are 1 day old (recorded back then, correctly chained).
    old = newId('ptn');
    await t.db.owner.db.insertInto('partners').values({ id: old, name: 'Old Partner', slug: 'old-partner', defaultCurrency: 'SGD', status: 'active' }).execute();
    await t.db.owner.db.insertInto('partnerSettings').values({ partnerId: old, updatedAt: new Date() }).execute();
    const now = Date.now();
    await appendBackdatedEvents(t.db.owner.db, { partnerId: old, count: 40, startAt: new Date(now - 9 * 365 * 86_400_000), stepSeconds: 3600 });
    await appendBackdatedEvents(t.db.owner.db, { partnerId: old, count: 10, startAt: new Date(now - 86_400_000), stepSeconds: 60 });
    expect((await verifyAuditChain(ownerCtx(), { chain: old })).ok).toBe(true);
  });

  it('is the operator\'s alone, and removes only events older than the retention', async () => {
    const url = `/api/v1/operator/partners/${old}/audit-retention/cut`;
    expect((await api(t, admin, 'POST', url, {})).statusCode).toBe(403);
    expect((await api(t, admin, 'PUT', `/api/v1/operator/partners/${old}/audit-retention`, { retentionYears: 1 })).statusCode).toBe(403);
    const bad = await api(t, operator, 'PUT', `/api/v1/operator/partners/${old}/audit-retention`, { retentionYears: 0 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(['retentionYears']);
    expect((await api(t, operator, 'PUT', `/api/v1/operator/partners/ptn_0000000000000000000000000/audit-retention`, { retentionYears: 5 })).statusCode).toBe(404);

    const res = await api(t, operator, 'POST', url, {});
    expect(res.statusCode, res.body).toBe(200);
    const { cut } = res.json();
    expect(cut).toMatchObject({ beforeSeq: 41, removedCount: 40 });
    const anchor = cut.anchorHash as string;
    expect(anchor).toMatch(/^[0-9a-f]{64}$/);
    const left = await t.db.owner.db.selectFrom('auditEvents').select(['seq', 'action']).where('partnerId', '=', old).orderBy('seq').execute();
    expect(left.map((e) => Number(e.seq))).toEqual([...Array.from({ length: 10 }, (_, i) => 41 + i), 51]);
    expect(left[10]!.action).toBe('audit.retention_cut');

    // Nothing more is old enough: no second cut, the request is still on record.
    const again = await api(t, operator, 'POST', url, {});
    expect(again.json()).toEqual({ cut: null });
  });

  it('is accepted by verification as the chain\'s new start, and shown in the chain status', async () => {
    const full = await verifyAuditChain(ownerCtx(), { chain: old });
    expect(full).toMatchObject({ ok: true, checked: 12 });
    const outcomes = await checkAuditChains(deps(), [old]);
    expect(outcomes[0]).toMatchObject({ ok: true, verifiedSeq: 52, full: true });
    // A later full pass starts at the cut too: the 12 events kept, not the 40 removed.
    await backdateFullPass(old, 25);
    expect((await checkAuditChains(deps(), [old]))[0]).toMatchObject({ ok: true, full: true, checked: 12, verifiedSeq: 52 });
    const cuts = await t.db.owner.db.selectFrom('auditCuts').selectAll().where('partnerId', '=', old).execute();
    expect(cuts).toHaveLength(1);
    expect(cuts[0]).toMatchObject({ beforeSeq: '41', removedCount: '40', retentionYears: 7, cutBy: 'operator@folio.test' });
  });

  it('still fails on tampering after the cut', async () => {
    await sql`update audit_events set actor_label = 'someone else' where partner_id = ${old} and seq = 45`.execute(t.db.owner.db);
    const report = await verifyAuditChain(ownerCtx(), { chain: old });
    expect(report.ok).toBe(false);
    expect(report.chains[0]!.firstProblem).toMatchObject({ seq: 45, kind: 'altered' });
    // Removing the first kept event is seen too (the anchor no longer links).
    await sql`update audit_events set actor_label = 'backdated' where partner_id = ${old} and seq = 45`.execute(t.db.owner.db);
    expect((await verifyAuditChain(ownerCtx(), { chain: old })).ok).toBe(true);
    await sql`delete from audit_events where partner_id = ${old} and seq = 41`.execute(t.db.owner.db);
    const missing = await verifyAuditChain(ownerCtx(), { chain: old });
    expect(missing.chains[0]!.firstProblem).toMatchObject({ seq: 41, kind: 'missing' });
  });

  it('cannot be forged or undone by the app role', async () => {
    const asPartner = <T>(fn: Parameters<typeof inScope<T>>[2]) => inScope<T>(t.db.app.db, { kind: 'partner', partnerId: demo }, fn);
    await expect(asPartner((trx) => sql`delete from audit_cuts`.execute(trx))).rejects.toThrow(/permission denied for table audit_cuts/);
    await expect(asPartner((trx) => sql`insert into audit_cuts (chain_key, partner_id, before_seq, anchor_hash, anchor_occurred_at, removed_count, retention_years, cut_by)
      values (${demo}, ${demo}, 5, 'x', now(), 4, 7, 'me')`.execute(trx))).rejects.toThrow(/permission denied for table audit_cuts/);
    await expect(asPartner((trx) => sql`delete from audit_events where partner_id = ${demo}`.execute(trx))).rejects.toThrow(/permission denied for table audit_events/);
    // Only in the operator's (system) scope; and the function decides what is old enough itself: nothing recent goes.
    await expect(asPartner((trx) => sql`select * from audit_cut_chain(${demo}, 'me')`.execute(trx))).rejects.toThrow(/only the platform operator/);
    const before = await t.db.owner.db.selectFrom('auditEvents').select(sql<number>`count(*)::int`.as('n')).where('partnerId', '=', demo).executeTakeFirstOrThrow();
    const { rows } = await inScope(t.db.app.db, { kind: 'system' }, (trx) => sql`select * from audit_cut_chain(${demo}, 'me')`.execute(trx));
    expect(rows).toEqual([]);
    const after = await t.db.owner.db.selectFrom('auditEvents').select(sql<number>`count(*)::int`.as('n')).where('partnerId', '=', demo).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });
});
