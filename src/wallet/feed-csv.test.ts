import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inScope } from '../platform/database.ts';
import { createTestApp, customerIdOf, partnerIdOf, signIn, type TestApp } from '../test/harness.ts';
import { chargeWallet, creditWallet } from './charge-wallet.ts';

// The CSV export pages through the whole history on the server, 500 transactions at a time (wallet.routes.ts): every
// transaction once, newest first, with the ids the JSON pages give them.

const CHARGES = 1_050;
let t: TestApp;
let globex: string;

beforeAll(async () => {
  t = await createTestApp();
  const partnerId = await partnerIdOf(t.db, 'demo-telecom');
  globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
  const wallet = { partnerId, customerId: globex, currency: 'MYR' };
  await inScope(t.db.app.db, { kind: 'partner', partnerId }, async (trx) => {
    await creditWallet(trx, {
      wallet, amountMicros: 10_000_000_000n,
      entry: { kind: 'top_up', causeType: 'top_up', causeId: 'top_csv', description: 'Card top-up', auditEventId: null },
      counterPostings: [{ code: 'card_clearing', amountMicros: 10_000_000_000n }],
    });
    for (let i = 1; i <= CHARGES; i++) {
      await chargeWallet(trx, {
        wallet, amountMicros: BigInt(i) * 1_000n, useCreditLimit: false,
        entry: { kind: 'call_charge', causeType: 'test', causeId: `cal_csv_${i}`, description: `Call ${i}`, auditEventId: null },
        counterPostings: [{ code: 'revenue:usage', amountMicros: -BigInt(i) * 1_000n }],
      });
    }
  });
}, 120_000);
afterAll(async () => t.close());

describe('the transactions CSV', () => {
  it('holds every transaction once, newest first, past its 500-row batches, with the ids of the JSON pages', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    const csv = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${globex}/transactions?format=csv`, headers: admin.headers });
    expect(csv.statusCode).toBe(200);
    const rows = csv.body.trim().split('\r\n').slice(1).map((line) => line.split(','));
    expect(rows).toHaveLength(CHARGES + 1);
    expect(rows.slice(0, CHARGES).map((r) => r[3])).toEqual(Array.from({ length: CHARGES }, (_, i) => `Call ${CHARGES - i}`));
    expect(rows.at(-1)![3]).toBe('Card top-up');

    const jsonIds: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/customers/${globex}/transactions?limit=200${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await t.app.inject({ method: 'GET', url, headers: admin.headers })).json<{ data: Array<{ id: string }>; nextCursor: string | null }>();
      jsonIds.push(...page.data.map((d) => d.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(rows.map((r) => r[0])).toEqual(jsonIds);
    expect(new Set(jsonIds).size).toBe(CHARGES + 1);
  });
});
