import type { TestAppWithGateway } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { givePoints } from '../subscriptions/renewals/renewals.fixtures.ts';
import { chargeWallet } from '../wallet/charge-wallet.ts';
import { issueInvoice } from './issue-invoice.ts';

/**
 * Fixtures of the tests of portal card payments whose answer is lost (pay-invoice-stuck.test.ts,
 * settle-stale-pay-attempts.test.ts): one customer's SGD invoices and points, on a test app with its gateway.
 */
export function payAttemptFixtures(app: () => TestAppWithGateway, who: () => { partnerId: string; customerId: string }) {
  /** An issued Purchase invoice of `micros` (no tax), posted Dr receivable / Cr revenue. */
  async function invoice(micros: bigint) {
    const t = app();
    const { partnerId, customerId } = who();
    return inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => issueInvoice(trx, {
      partnerId, customerId, type: 'purchase', currency: 'SGD', issuedAt: t.clock.now(),
      lines: [{ kind: 'product', description: 'Wallboard licence', amountMicros: micros, taxMicros: 0n, revenueCode: 'revenue:one_time' }],
      entry: { kind: 'invoice_issued', causeType: 'invoice', causeId: 'test', description: 'Test invoice', auditEventId: null },
    }));
  }

  /** The customer's SGD points and what of them is held. */
  async function wallet() {
    const { customerId } = who();
    const row = await app().db.owner.db.selectFrom('wallets as w').innerJoin('ledgerAccounts as a', 'a.id', 'w.pointsAccountId')
      .select(['a.balanceMicros', 'w.reservedMicros']).where('w.customerId', '=', customerId).where('w.currency', '=', 'SGD').executeTakeFirstOrThrow();
    return { points: -BigInt(row.balanceMicros), reserved: BigInt(row.reservedMicros) };
  }

  /** Points of exactly `micros` (through the ledger). */
  async function setPoints(micros: bigint) {
    const t = app();
    const { partnerId, customerId } = who();
    const now = (await t.db.owner.db.selectFrom('wallets').select('customerId').where('customerId', '=', customerId).executeTakeFirst()) ? (await wallet()).points : 0n;
    if (micros > now) await givePoints(t.db.app.db, { partnerId, customerId, micros: micros - now });
    if (micros < now) {
      await inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => chargeWallet(trx, {
        wallet: { partnerId, customerId, currency: 'SGD' }, amountMicros: now - micros, useCreditLimit: false,
        entry: { kind: 'points_taken', causeType: 'test', causeId: `t${Date.now()}`, description: 'Fixture', auditEventId: null },
        counterPostings: [{ code: 'bank', amountMicros: micros - now }],
      }));
    }
  }

  return { invoice, wallet, setPoints };
}
