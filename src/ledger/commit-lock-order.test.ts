import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { sql } from 'kysely';
import { createTestDb, partnerIdOf, testConfig, type TestDb } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { systemClock } from '../platform/clock.ts';
import { recordAudit, recordAudits, writeRecordedAudit } from '../audit/record-audit.ts';
import { verifyAuditChain } from '../audit/verify-chain.ts';
import { postEntry } from './post-entry.ts';
import { checkLedger } from './check-ledger.ts';
import { ensureWallets } from '../wallet/wallets.repo.ts';

// The partner-wide rows (its own accounts, its audit chain's head) are locked only while a transaction commits, always
// accounts before the head (migration 0041). Three shapes of transaction that reach them in different orders in their
// statements must all commit side by side, with no deadlock, and leave the books and the chain whole.
let db: TestDb;
let partnerId: string;
let customerIds: string[];

beforeAll(async () => {
  db = await createTestDb();
  partnerId = await partnerIdOf(db, 'demo-telecom');
  // The partner's SGD customers (a wallet opens only in its customer's currency).
  customerIds = (await db.owner.db.selectFrom('customers').select('id').where('partnerId', '=', partnerId).where('currency', '=', 'SGD').orderBy('id').limit(6).execute()).map((c) => c.id);
  await inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => ensureWallets(trx, partnerId, customerIds.map((customerId) => ({ customerId, currency: 'SGD' }))));
});
afterAll(async () => db.drop());

const ctx = { principal: { kind: 'system' as const, job: 'test' }, requestId: null, ip: null, userAgent: null };
const event = (targetId: string) => ({ partnerId, app: 'finance', action: 'ledger.tested', targetType: 'entry', targetId });
const topUpEntry = (customerId: string, causeId: string, amountMicros: bigint) => ({
  partnerId, currency: 'SGD', customerId, kind: 'top_up', causeType: 'top_up', causeId, description: 'Lock order', auditEventId: null,
  postings: [{ code: 'card_clearing' as const, amountMicros }, { code: 'points' as const, customerId, amountMicros: -amountMicros }],
});

describe('partner-wide rows at commit', () => {
  it('payments (events first), top-ups (entry first) and bulk jobs (many events, before or after an entry) of one partner commit side by side without deadlock', async () => {
    const cardBalance = async () => BigInt((await db.owner.db.selectFrom('ledgerAccounts').select('balanceMicros').where('partnerId', '=', partnerId)
      .where('code', '=', 'card_clearing').where('currency', '=', 'SGD').executeTakeFirst())?.balanceMicros ?? '0');
    const before = await cardBalance();
    const runs: Promise<unknown>[] = [];
    for (let i = 0; i < 12; i++) {
      const customerId = customerIds[i % customerIds.length]!;
      // A pay: its event written early, its entry on card clearing the last statement.
      runs.push(inScope(db.app.db, { kind: 'partner', partnerId }, async (trx) => {
        await recordAudit(trx, ctx, event(`pay-${i}`));
        await writeRecordedAudit(trx);
        await postEntry(trx, topUpEntry(customerId, `lock_pay_${i}`, 1_000_000n));
      }));
      // A top-up: the entry first, its event queued just before commit.
      runs.push(inScope(db.app.db, { kind: 'partner', partnerId }, async (trx) => {
        await postEntry(trx, topUpEntry(customerId, `lock_top_${i}`, 2_000_000n));
        await recordAudit(trx, ctx, event(`top-${i}`));
      }));
      // A bulk job: an entry, then more events than are queued (straight into the trail before commit).
      if (i % 4 === 0) {
        runs.push(inScope(db.app.db, { kind: 'partner', partnerId }, async (trx) => {
          await postEntry(trx, topUpEntry(customerId, `lock_bulk_${i}`, 3_000_000n));
          await recordAudits(trx, Array.from({ length: 120 }, (_, k) => ({ ctx, input: event(`bulk-${i}-${k}`) })));
        }));
      }
      // Many events written early, then an entry: still queued, so the entry's accounts are locked before the head.
      if (i % 4 === 2) {
        runs.push(inScope(db.app.db, { kind: 'partner', partnerId }, async (trx) => {
          await recordAudits(trx, Array.from({ length: 120 }, (_, k) => ({ ctx, input: event(`early-${i}-${k}`) })));
          await writeRecordedAudit(trx);
          await postEntry(trx, topUpEntry(customerId, `lock_early_${i}`, 4_000_000n));
        }));
      }
    }
    const settled = await Promise.allSettled(runs);
    expect(settled.filter((s) => s.status === 'rejected').map((s) => String((s).reason))).toEqual([]);

    const card = await db.owner.db.selectFrom('ledgerAccounts').select('balanceMicros').where('partnerId', '=', partnerId)
      .where('code', '=', 'card_clearing').where('currency', '=', 'SGD').executeTakeFirstOrThrow();
    const posted = await sql<{ total: string }>`select coalesce(sum(p.amount_micros), 0)::text as total from postings p
      join ledger_accounts a on a.id = p.account_id where a.partner_id = ${partnerId} and a.code = 'card_clearing' and a.currency = 'SGD'`.execute(db.owner.db);
    expect(card.balanceMicros).toBe(posted.rows[0]!.total);
    expect(await cardBalance()).toBe(before + 12n * 1_000_000n + 12n * 2_000_000n + 3n * 3_000_000n + 3n * 4_000_000n);
    expect(await checkLedger(db.owner.db)).toEqual([]);

    const events = await db.owner.db.selectFrom('auditEvents').select(({ fn }) => fn.countAll<string>().as('n'))
      .where('partnerId', '=', partnerId).where('action', '=', 'ledger.tested').executeTakeFirstOrThrow();
    expect(Number(events.n)).toBe(12 + 12 + 3 * 120 + 3 * 120);
    const chain = await verifyAuditChain({
      db: db.owner.db, config: testConfig(), log: pino({ level: 'silent' }), principal: { kind: 'system', job: 'audit-verify' },
      requestId: null, ip: null, userAgent: null, clock: systemClock,
    }, { chain: partnerId });
    expect(chain.ok).toBe(true);
    const left = await sql<{ n: string }>`select ((select count(*) from audit_event_queue) + (select count(*) from ledger_pending_balances))::text as n`.execute(db.owner.db);
    expect(left.rows[0]!.n).toBe('0');
  }, 60_000);
});
