import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTestApp, customerIdOf, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { readWallet } from '../wallet/wallets.repo.ts';
import { checkLedger } from './check-ledger.ts';

/**
 * Random issue / take-back requests over HTTP, each with its own Idempotency-Key, eight at a time, with every request
 * sent again (at the same moment or later): the points move once per key, replays answer exactly as the first time
 * (or 409 while the twin still runs), and the books stay sound.
 */
let t: TestApp;
let finance: Session;
let partnerId: string;
let customers: string[];

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
  partnerId = await partnerIdOf(t.db, 'demo-telecom');
  customers = [await customerIdOf(t.db, 'Initech Pte Ltd'), await customerIdOf(t.db, 'Acme Pte Ltd')];
});
afterAll(async () => t.close());

const points = async (customerId: string) =>
  (await inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => readWallet(trx, { partnerId, customerId, currency: 'SGD' })))?.pointsMicros ?? 0n;

let keySeq = 0;
const op = fc.record({
  action: fc.constantFrom('issue' as const, 'take-back' as const),
  customer: fc.nat(1),
  cents: fc.integer({ min: 1, max: 5_000 }),
  replayTogether: fc.boolean(),
});

describe('idempotent replays under concurrency', () => {
  it('a replayed money request changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 8, maxLength: 24 }), async (ops) => {
        const before = await Promise.all(customers.map(points));
        const expected = [...before];
        const queue = ops.map((o) => ({ ...o, key: `prop-${keySeq++}` }));
        await Promise.all(Array.from({ length: 8 }, async () => {
          for (let o = queue.shift(); o; o = queue.shift()) {
            const amount = `${Math.floor(o.cents / 100)}.${String(o.cents % 100).padStart(2, '0')}`;
            const send = () => t.app.inject({
              method: 'POST', url: `/api/v1/customers/${customers[o.customer]!}/points/${o.action}`,
              headers: { ...finance.headers, 'idempotency-key': o.key }, payload: { amount, reason: 'property test' },
            });
            const [first, twin] = o.replayTogether ? await Promise.all([send(), send()]) : [await send(), null];
            const later = await send();
            const winner = [first, twin].find((r) => r && r.statusCode !== 409) ?? first;
            expect([200, 422]).toContain(winner.statusCode);
            expect(later.statusCode).toBe(winner.statusCode);
            expect(later.body).toBe(winner.body);
            expect(later.headers['idempotent-replayed']).toBe('true');
            if (winner.statusCode === 200) expected[o.customer]! += (o.action === 'issue' ? 1n : -1n) * BigInt(o.cents) * 10_000n;
          }
        }));
        expect(await Promise.all(customers.map(points))).toEqual(expected);
        expect(await checkLedger(t.db.owner.db)).toEqual([]);
      }),
      { numRuns: 6 },
    );
  }, 180_000);
});
