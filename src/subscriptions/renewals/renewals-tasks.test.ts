import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCrontab, type JobHelpers } from 'graphile-worker';
import pino from 'pino';
import { createTestAppWithGateway, partnerIdOf, type TestAppWithGateway } from '../../test/harness.ts';
import { TestClock } from '../../platform/clock.ts';
import { RENEWALS_CRONTAB, RENEWALS_TASK, renewalTasks } from './renewals-tasks.ts';
import { createCustomer, createPrice, createSubscription, givePoints, monthlyPeriodEndingAt, utcMidnight } from './renewals.fixtures.ts';

let t: TestAppWithGateway;
beforeAll(async () => {
  t = await createTestAppWithGateway();
});
afterAll(async () => t.close());

describe('the renewal cron task', () => {
  it('is registered hourly, one at a time (its own queue), and renews with the clock it is given', async () => {
    const [item] = parseCrontab(RENEWALS_CRONTAB);
    expect(item).toMatchObject({ task: RENEWALS_TASK, options: { maxAttempts: 1, queueName: RENEWALS_TASK } });
    expect(RENEWALS_CRONTAB.startsWith('5 * * * * ')).toBe(true);

    const owner = t.db.owner.db;
    const demo = await partnerIdOf(t.db, 'demo-telecom');
    const price = await createPrice(owner, { partnerId: demo, priceMicros: 10_000_000n, costMicros: 1_000_000n });
    const c = await createCustomer(owner, { partnerId: demo });
    await givePoints(t.db.app.db, { partnerId: demo, customerId: c.customerId, micros: 50_000_000n });
    const end = utcMidnight('2041-06-15');
    const id = await createSubscription(owner, { partnerId: demo, customerId: c.customerId, price, ...monthlyPeriodEndingAt(end), periodEnd: end });
    const clock = new TestClock();
    clock.set('2041-06-08T00:05:00Z');
    const tasks = renewalTasks({ db: t.db.app.db, gateway: t.gateway, log: pino({ level: 'silent' }), clock });
    await tasks[RENEWALS_TASK]!({}, {} as JobHelpers);
    const sub = await owner.selectFrom('subscriptions').select('currentPeriodEnd').where('id', '=', id).executeTakeFirstOrThrow();
    expect(sub.currentPeriodEnd).toEqual(utcMidnight('2041-07-15'));
  });
});
