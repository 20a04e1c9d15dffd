import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTestDb, partnerIdOf, testConfig, type TestDb } from '../test/harness.ts';
import { systemClock } from '../platform/clock.ts';
import { inScope } from '../platform/database.ts';
import { sql } from 'kysely';
import { diff, recordAudit, recordAudits, takeRecordedAuditInsert, writeRecordedAudit } from './record-audit.ts';
import { verifyAuditChain } from './verify-chain.ts';
import { postEntry } from '../ledger/post-entry.ts';
import { checkLedger } from '../ledger/check-ledger.ts';

describe('diff', () => {
  it('keeps changed fields only, with before and after', () => {
    expect(diff({ name: 'Acme', currency: 'SGD' }, { name: 'Acme Pte', currency: 'SGD' })).toEqual({ name: { before: 'Acme', after: 'Acme Pte' } });
    expect(diff(null, { name: 'Acme' })).toEqual({ name: { after: 'Acme' } });
    expect(diff({ name: 'Acme' }, null)).toEqual({ name: { before: 'Acme' } });
  });

  it('redacts secrets', () => {
    expect(diff({ passwordHash: 'a' }, { passwordHash: 'b' })).toEqual({ passwordHash: { before: '[redacted]', after: '[redacted]' } });
    expect(diff(null, { token: 'abc' })).toEqual({ token: { after: '[redacted]' } });
  });

  it('compares sets, maps, bigints and dates by content, at any depth, and treats undefined as null', () => {
    expect(diff({ apps: new Set(['a']) }, { apps: new Set(['a', 'b']) })).toEqual({ apps: { before: ['a'], after: ['a', 'b'] } });
    expect(diff({ apps: new Set(['a']) }, { apps: new Set(['a']) })).toEqual({});
    expect(diff({ amount: 10n }, { amount: 12n })).toEqual({ amount: { before: '10', after: '12' } });
    expect(diff({ limits: { max: 5n } }, { limits: { max: 6n } })).toEqual({ limits: { before: { max: '5' }, after: { max: '6' } } });
    expect(diff({ at: new Date('2026-01-01T00:00:00Z') }, { at: new Date('2026-01-02T00:00:00Z') })).toEqual({
      at: { before: '2026-01-01T00:00:00.000Z', after: '2026-01-02T00:00:00.000Z' },
    });
    expect(diff({ note: undefined }, { note: null })).toEqual({});
    expect(diff({ tags: new Map([['k', 1]]) }, { tags: new Map([['k', 2]]) })).toEqual({ tags: { before: { k: 1 }, after: { k: 2 } } });
  });
});

describe('recordAudit', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => db.drop());

  const ctx = { principal: { kind: 'system' as const, job: 'test' }, requestId: 'req_1', ip: '127.0.0.1', userAgent: 'x'.repeat(600) };

  it('commits with the caller’s change, or not at all', async () => {
    const partner = (await db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'northwind').executeTakeFirstOrThrow()).id;
    const kept = await inScope(db.app.db, { kind: 'partner', partnerId: partner }, (trx) =>
      recordAudit(trx, ctx, { partnerId: partner, app: 'customer', action: 'customer.noted', targetType: 'customer', targetId: null, changes: diff(null, { amount: 5n }) }),
    );
    let dropped = '';
    await expect(inScope(db.app.db, { kind: 'partner', partnerId: partner }, async (trx) => {
      dropped = await recordAudit(trx, ctx, { partnerId: partner, app: 'customer', action: 'customer.noted', targetType: 'customer', targetId: null });
      throw new Error('rolled back');
    })).rejects.toThrow('rolled back');

    const rows = await db.owner.db.selectFrom('auditEvents').selectAll().where('id', 'in', [kept, dropped]).execute();
    expect(rows.map((r) => r.id)).toEqual([kept]);
    expect(rows[0]).toMatchObject({ actorType: 'system', actorLabel: 'test', requestId: 'req_1', ip: '127.0.0.1', changes: { amount: { after: '5' } } });
    expect(rows[0]!.userAgent).toHaveLength(500);
  });
});

function verifyChain(db: TestDb, partner: string) {
  return verifyAuditChain({
    db: db.owner.db, config: testConfig(), log: pino({ level: 'silent' }), principal: { kind: 'system', job: 'audit-verify' },
    requestId: null, ip: null, userAgent: null, clock: systemClock,
  }, { chain: partner });
}

describe('recordAudit: events wait for the end of their unit of work', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => db.drop());

  const ctx = { principal: { kind: 'system' as const, job: 'test' }, requestId: 'req_2', ip: null, userAgent: null };
  const noted = (partnerId: string, targetId: string) =>
    ({ partnerId, app: 'customer', action: 'customer.noted', targetType: 'customer', targetId });

  it('a change of one partner does not wait for another change of the same partner that is still working', async () => {
    const partner = await partnerIdOf(db, 'northwind');
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((resolve) => { releaseFirst = resolve; });
    let firstRecorded!: () => void;
    const firstHasRecorded = new Promise<void>((resolve) => { firstRecorded = resolve; });
    const first = inScope(db.app.db, { kind: 'partner', partnerId: partner }, async (trx) => {
      const id = await recordAudit(trx, ctx, noted(partner, 'first'));
      firstRecorded();
      await firstMayFinish; // still working (e.g. the rest of a payment) with its event recorded
      return id;
    });
    await firstHasRecorded;
    // Before: the first event's insert held the partner's chain head until the first transaction committed, so this
    // second change could not commit while the first was open.
    const second = await Promise.race([
      inScope(db.app.db, { kind: 'partner', partnerId: partner }, (trx) => recordAudit(trx, ctx, noted(partner, 'second'))),
      new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 15_000)),
    ]);
    releaseFirst();
    const firstId = await first;
    expect(second).not.toBe('blocked');

    const rows = await db.owner.db.selectFrom('auditEvents').select(['id', 'seq', 'targetId']).where('id', 'in', [firstId, second]).orderBy('seq').execute();
    expect(rows.map((r) => r.targetId)).toEqual(['second', 'first']); // the chain's order is the order of commits
    const chain = await verifyChain(db, partner);
    expect(chain.ok).toBe(true);
    expect(chain.checked).toBeGreaterThanOrEqual(2);
  });

  it("a new partner's first events, committed at once by several transactions, start one chain: one head, no seq twice, verified", async () => {
    const partner = `ptn_firstchain${Date.now().toString(36)}`;
    await db.owner.db.insertInto('partners').values({ id: partner, name: 'First chain', slug: `first-chain-${Date.now().toString(36)}`, defaultCurrency: 'SGD', status: 'active' }).execute();
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) =>
      inScope(db.app.db, { kind: 'partner', partnerId: partner }, (trx) => recordAudit(trx, ctx, noted(partner, `first-${i}`)))));
    const rows = await db.owner.db.selectFrom('auditEvents').select(['id', 'seq']).where('partnerId', '=', partner).orderBy('seq').execute();
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5, 6]);
    const heads = await db.owner.db.selectFrom('auditChainHeads').select(['lastSeq']).where('chainKey', '=', partner).execute();
    expect(heads.map((h) => Number(h.lastSeq))).toEqual([6]);
    const chain = await verifyChain(db, partner);
    expect(chain).toMatchObject({ ok: true, checked: 6 });
  });

  it('keeps the order events were recorded in, across recordAudit and recordAudits, and nothing on rollback', async () => {
    const partner = await partnerIdOf(db, 'northwind');
    const ids = await inScope(db.app.db, { kind: 'partner', partnerId: partner }, async (trx) => {
      const a = await recordAudit(trx, ctx, noted(partner, 'a'));
      const [b, c] = await recordAudits(trx, [{ ctx, input: noted(partner, 'b') }, { ctx, input: noted(partner, 'c') }]);
      const d = await recordAudit(trx, ctx, noted(partner, 'd'));
      // Not written yet: the unit of work is still running.
      const visible = await trx.selectFrom('auditEvents').select('id').where('partnerId', '=', partner).where('id', 'in', [a, b!, c!, d]).execute();
      expect(visible).toEqual([]);
      return [a, b!, c!, d];
    });
    const rows = await db.owner.db.selectFrom('auditEvents').select(['id', 'seq', 'targetId']).where('id', 'in', ids).orderBy('seq').execute();
    expect(rows.map((r) => r.targetId)).toEqual(['a', 'b', 'c', 'd']);
    expect(rows.map((r) => Number(r.seq))).toEqual([0, 1, 2, 3].map((i) => Number(rows[0]!.seq) + i));

    let dropped: string[] = [];
    await expect(inScope(db.app.db, { kind: 'partner', partnerId: partner }, async (trx) => {
      dropped = await recordAudits(trx, [{ ctx, input: noted(partner, 'x') }, { ctx, input: noted(partner, 'y') }]);
      throw new Error('refused');
    })).rejects.toThrow('refused');
    expect(await db.owner.db.selectFrom('auditEvents').select('id').where('id', 'in', dropped).execute()).toEqual([]);
  });

  it('events written before the end still join the chain only at commit: its head stays free until then', async () => {
    const partner = await partnerIdOf(db, 'northwind');
    let release!: () => void;
    const mayCommit = new Promise<void>((resolve) => { release = resolve; });
    let written!: () => void;
    const hasWritten = new Promise<void>((resolve) => { written = resolve; });
    const first = inScope(db.app.db, { kind: 'partner', partnerId: partner }, async (trx) => {
      const id = await recordAudit(trx, ctx, noted(partner, 'early'));
      await writeRecordedAudit(trx);
      await writeRecordedAudit(trx); // nothing left: written once
      written();
      await mayCommit; // the rest of the unit of work (e.g. a payment's journal entry)
      return id;
    });
    await hasWritten;
    const headLockable = await db.owner.db.transaction().execute(async (t) =>
      (await sql`select chain_key from audit_chain_heads where chain_key = ${partner} for update nowait`.execute(t)).rows.length);
    expect(headLockable).toBe(1);
    release();
    const id = await first;
    const rows = await db.owner.db.selectFrom('auditEvents').select(['id', 'targetId']).where('id', '=', id).execute();
    expect(rows).toEqual([{ id, targetId: 'early' }]);
    const queued = await sql<{ n: string }>`select count(*)::text as n from audit_event_queue`.execute(db.owner.db);
    expect(queued.rows[0]!.n).toBe('0');
    const chain = await verifyChain(db, partner);
    expect(chain.ok).toBe(true);
  });

  it("a bulk job's many events go straight into the trail before commit, in order, after its partner balances", async () => {
    const partner = await partnerIdOf(db, 'northwind');
    // Northwind's customer and its currency (a customer's points are only ever in its own: checkLedger).
    const customer = (await db.owner.db.selectFrom('customers').select('id').where('partnerId', '=', partner).where('currency', '=', 'AUD').orderBy('id').executeTakeFirstOrThrow()).id;
    const cardBefore = await db.owner.db.selectFrom('ledgerAccounts').select('balanceMicros').where('partnerId', '=', partner)
      .where('code', '=', 'card_clearing').where('currency', '=', 'AUD').executeTakeFirst();
    const ids = await inScope(db.app.db, { kind: 'partner', partnerId: partner }, async (trx) => {
      await postEntry(trx, {
        partnerId: partner, currency: 'AUD', customerId: customer, kind: 'top_up', causeType: 'top_up', causeId: 'bulk_audit', description: 'Bulk', auditEventId: null,
        postings: [{ code: 'card_clearing', amountMicros: 1_000_000n }, { code: 'points', customerId: customer, amountMicros: -1_000_000n }],
      });
      return recordAudits(trx, Array.from({ length: 150 }, (_, i) => ({ ctx, input: noted(partner, `bulk-${i}`) })));
    });
    const rows = await db.owner.db.selectFrom('auditEvents').select(['targetId', 'seq']).where('id', 'in', ids).orderBy('seq').execute();
    expect(rows.map((r) => r.targetId)).toEqual(Array.from({ length: 150 }, (_, i) => `bulk-${i}`));
    const cardAfter = await db.owner.db.selectFrom('ledgerAccounts').select('balanceMicros').where('partnerId', '=', partner)
      .where('code', '=', 'card_clearing').where('currency', '=', 'AUD').executeTakeFirstOrThrow();
    expect(BigInt(cardAfter.balanceMicros)).toBe(BigInt(cardBefore?.balanceMicros ?? '0') + 1_000_000n);
    expect(await checkLedger(db.owner.db)).toEqual([]);
    const pending = await sql<{ n: string }>`select (select count(*) from audit_event_queue) + (select count(*) from ledger_pending_balances) as n`.execute(db.owner.db);
    expect(Number(pending.rows[0]!.n)).toBe(0);
  });

  it('events carried by another statement (takeRecordedAuditInsert) join the chain at commit, in order, written once', async () => {
    const partner = await partnerIdOf(db, 'northwind');
    const ids = await inScope(db.app.db, { kind: 'partner', partnerId: partner }, async (trx) => {
      const first = await recordAudit(trx, ctx, noted(partner, 'carried-1'));
      const [second] = await recordAudits(trx, [{ ctx, input: noted(partner, 'carried-2') }]);
      const insert = takeRecordedAuditInsert(trx);
      expect(insert).not.toBeNull();
      expect(takeRecordedAuditInsert(trx)).toBeNull(); // taken: nothing left to write
      await sql`with q as (${insert!}) select 1`.execute(trx);
      const third = await recordAudit(trx, ctx, noted(partner, 'after')); // written at the end, as usual
      const visible = await trx.selectFrom('auditEvents').select('id').where('id', 'in', [first, second!]).execute();
      expect(visible).toEqual([]); // queued: they join the chain at commit
      return [first, second!, third];
    });
    const rows = await db.owner.db.selectFrom('auditEvents').select(['id', 'targetId']).where('id', 'in', ids).orderBy('seq').execute();
    expect(rows).toEqual([{ id: ids[0], targetId: 'carried-1' }, { id: ids[1], targetId: 'carried-2' }, { id: ids[2], targetId: 'after' }]);
    expect((await verifyChain(db, partner)).ok).toBe(true);
    const queued = await sql<{ n: string }>`select count(*)::text as n from audit_event_queue`.execute(db.owner.db);
    expect(queued.rows[0]!.n).toBe('0');

    // Nothing to carry: nothing recorded yet, or a bare transaction (its events are written at once).
    await inScope(db.app.db, { kind: 'partner', partnerId: partner }, async (trx) => {
      expect(takeRecordedAuditInsert(trx)).toBeNull();
    });
    await db.owner.db.transaction().execute(async (trx) => {
      await recordAudit(trx, ctx, noted(partner, 'bare'));
      expect(takeRecordedAuditInsert(trx)).toBeNull();
    });
  });

  it('outside a unit of work (a bare transaction) the event is written at once', async () => {
    const partner = await partnerIdOf(db, 'northwind');
    await db.owner.db.transaction().execute(async (trx) => {
      const id = await recordAudit(trx, ctx, noted(partner, 'bare'));
      const row = await trx.selectFrom('auditEvents').select('targetId').where('id', '=', id).executeTakeFirst();
      expect(row?.targetId).toBe('bare');
    });
  });
});
