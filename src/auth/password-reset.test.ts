import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Ctx } from '../platform/context.ts';
import { auditEventsOf, createTestApp, type TestApp } from '../test/harness.ts';
import { PASSWORD_RESET_FLOOR_MS, RESET_EMAILS_PER_HOUR, requestPasswordReset } from './password-reset.ts';
import type { Timing } from './time-floor.ts';

let t: TestApp;
let ctx: Ctx;
beforeAll(async () => {
  t = await createTestApp();
  ctx = { db: t.db.app.db, config: t.config, log: pino({ level: 'silent' }), principal: ANONYMOUS, requestId: null, ip: '203.0.113.9', userAgent: null, clock: t.clock };
});
afterAll(async () => t.close());

const resetMails = (email: string) =>
  t.db.owner.db.selectFrom('notifications').select('id').where('toEmail', '=', email).where('kind', '=', 'password_reset').execute();

/** A clock that stands still, and a sleep that only notes what it was asked to wait. */
function stillTiming(): Timing & { slept: number[] } {
  const slept: number[] = [];
  return { slept, nowMs: () => 1_000, sleep: async (ms) => void slept.push(ms) };
}

describe('asking for a password reset', () => {
  it('takes at least the same floor of time for an address with an account as for one without (which sends nothing)', async () => {
    for (const [email, mails] of [['member@acme.test', 1], ['nobody-here@acme.test', 0], ['NOBODY@example.test', 0]] as const) {
      const timing = stillTiming();
      await requestPasswordReset(ctx, { email }, timing);
      expect(timing.slept, email).toEqual([PASSWORD_RESET_FLOOR_MS]);
      expect(await resetMails(email.toLowerCase()), email).toHaveLength(mails);
    }
  });

  it('waits only what is left of the floor after the work', async () => {
    let now = 0;
    const slept: number[] = [];
    await requestPasswordReset(ctx, { email: 'nobody-else@acme.test' }, { nowMs: () => (now += 100), sleep: async (ms) => void slept.push(ms) });
    expect(slept).toEqual([PASSWORD_RESET_FLOOR_MS - 100]);
  });

  it('answers 202 to both over the API', async () => {
    for (const email of ['owner@acme.test', 'ghost@acme.test']) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { email } });
      expect(res.statusCode, email).toBe(202);
      expect(res.json()).toEqual({ ok: true });
    }
  });
});

describe('asking again and again for one address', () => {
  it(`sends at most ${RESET_EMAILS_PER_HOUR} reset emails an hour; beyond that the same 202, in the same time, and nothing sent`, async () => {
    const email = 'owner@initech.test';
    const ask = () => t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { email } });
    const userId = (await t.db.owner.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id;
    const requested = async () => (await auditEventsOf(t.db, 'auth.password_reset_requested')).filter((e) => e.targetId === userId).length;
    for (let i = 0; i < 15; i++) {
      const res = await ask();
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ ok: true });
    }
    expect(await resetMails(email)).toHaveLength(RESET_EMAILS_PER_HOUR);
    expect(await requested()).toBe(RESET_EMAILS_PER_HOUR);
    // A refused one still waits out the floor, as every other answer does.
    const timing = stillTiming();
    await requestPasswordReset(ctx, { email }, timing);
    expect(timing.slept).toEqual([PASSWORD_RESET_FLOOR_MS]);
    expect(await resetMails(email)).toHaveLength(RESET_EMAILS_PER_HOUR);
    // An hour after them, one more can be sent; other addresses were never held back.
    await t.db.owner.db.updateTable('userTokens').set({ createdAt: sql`created_at - interval '61 minutes'` }).where('userId', '=', userId).execute();
    expect((await ask()).statusCode).toBe(202);
    expect(await resetMails(email)).toHaveLength(RESET_EMAILS_PER_HOUR + 1);
  });
});
