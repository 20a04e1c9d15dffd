import pg from 'pg';
import { e2ePgPort } from './prepare.ts';

/**
 * The one step of a journey that no person and no route can take today: time passing. The e2e server's embedded
 * PostgreSQL (its own data dir, made for this run: playwright.config.ts) is reached as its owner, as the API tests' harness
 * does (src/test/harness.ts), to leave a subscription as the renewal job leaves one at its expiry. Everything before and
 * after is done through the real pages and API.
 */
async function withOwner<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ host: '127.0.0.1', port: e2ePgPort(), user: 'postgres', password: 'folio-local', database: 'postgres' });
  await client.connect();
  try {
    await client.query(`set timezone = 'UTC'`);
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * An active subscription expired at the end of its paid period, unrenewed, as `expireSubscriptions`
 * (src/subscriptions/renewals/run-renewals.ts) writes it when that day comes, and as the API tests' `expire` does
 * (src/subscriptions/lifecycle.test.ts). The server's clock is not moved: its expiry day is the period's real end (a
 * day still to come), and a reactivation's new period runs from it. Its period is not moved back either: the period it
 * was bought for is charged once (subscription_charges), and a reactivation charges the next one.
 */
export async function expireAtPeriodEnd(subscriptionId: string): Promise<void> {
  await withOwner(async (client) => {
    const { rowCount } = await client.query(
      `update subscriptions set status = 'expired', expired_at = current_period_end, updated_at = now() where id = $1 and status = 'active'`,
      [subscriptionId],
    );
    if (rowCount !== 1) throw new Error(`${subscriptionId} is not an active subscription`);
  });
}
