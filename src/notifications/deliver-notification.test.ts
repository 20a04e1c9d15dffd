import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestApp, runJobsOnce, startSmtpPeer, type SmtpPeer, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { enqueueNotification, NOTIFICATION_MAX_ATTEMPTS } from './enqueue-notification.ts';
import { deliverNotification } from './deliver-notification.ts';
import { createMailTransport, type MailTransport, type OutgoingEmail } from './transport.ts';

let t: TestApp;
let peer: SmtpPeer;
let smtp: MailTransport;
beforeAll(async () => {
  t = await createTestApp();
  peer = await startSmtpPeer();
  smtp = createMailTransport(peer.url, 'Folio <no-reply@folio.test>');
});
afterAll(async () => {
  await peer.close();
  await t.close();
});

let counter = 0;
/** A notification written through the app role, in its own committed transaction, as a use case would. */
async function enqueue(subject = 'Your invoice is ready'): Promise<{ id: string; to: string }> {
  counter += 1;
  const to = `person${counter}@acme.test`;
  const id = await inScope(t.db.app.db, { kind: 'system' }, (trx) =>
    enqueueNotification(trx, { partnerId: null, customerId: null, userId: null, toEmail: to, kind: 'invoice_issued', subject, bodyText: `Hello ${to}` }),
  );
  return { id, to };
}

async function stateOf(id: string) {
  const n = await t.db.owner.db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const history = await t.db.owner.db
    .selectFrom('notificationStatusHistory').select(['status', 'detail']).where('notificationId', '=', id).orderBy('at').orderBy('id').execute();
  return { ...n, history };
}

/** A transport that records what it is asked to send, failing with `failWith` when set. */
function spyTransport(failWith: string | null = null): MailTransport & { sent: OutgoingEmail[] } {
  const sent: OutgoingEmail[] = [];
  return {
    name: 'smtp',
    sent,
    send: async (mail) => {
      if (failWith) throw new Error(failWith);
      sent.push(mail);
    },
  };
}

describe('delivery over SMTP', () => {
  it('delivers to a real SMTP server with the right recipient, sender and subject, and records it', async () => {
    const n = await enqueue('Invoice INV-0042 is ready');
    expect(await deliverNotification({ db: t.db.app.db, transport: smtp }, n.id)).toBe('sent');

    const mail = peer.received.find((m) => m.to.includes(n.to));
    expect(mail).toBeDefined();
    expect(mail!.to).toEqual([n.to]);
    expect(mail!.from).toBe('no-reply@folio.test');
    expect(mail!.subject).toBe('Invoice INV-0042 is ready');
    expect(mail!.raw).toContain(`<${n.id}@folio>`);
    expect(mail!.raw).toContain(`Hello ${n.to}`);

    const state = await stateOf(n.id);
    expect(state).toMatchObject({ status: 'sent', attempts: 1, transport: 'smtp', lastError: null });
    expect(state.sentAt).toBeInstanceOf(Date);
    expect(state.history.map((h) => h.status)).toEqual(['queued', 'sent']);
  });

  it('never sends a notification twice: a second run, or two at once, deliver it exactly once', async () => {
    const n = await enqueue();
    expect(await deliverNotification({ db: t.db.app.db, transport: smtp }, n.id)).toBe('sent');
    expect(await deliverNotification({ db: t.db.app.db, transport: smtp }, n.id)).toBe('skipped');
    expect(peer.received.filter((m) => m.to.includes(n.to))).toHaveLength(1);

    const m = await enqueue();
    const outcomes = await Promise.all([
      deliverNotification({ db: t.db.app.db, transport: smtp }, m.id),
      deliverNotification({ db: t.db.app.db, transport: smtp }, m.id),
    ]);
    expect(outcomes.sort()).toEqual(['sent', 'skipped']);
    expect(peer.received.filter((r) => r.to.includes(m.to))).toHaveLength(1);
    expect((await stateOf(m.id)).history.map((h) => h.status)).toEqual(['queued', 'sent']);
  });

  it('a temporary refusal (451) leaves it queued, with a `retrying` entry giving the reason', async () => {
    const n = await enqueue();
    peer.refuseRecipients(451);
    try {
      await expect(deliverNotification({ db: t.db.app.db, transport: smtp }, n.id)).rejects.toThrow(/451/);
    } finally {
      peer.refuseRecipients(null);
    }
    const state = await stateOf(n.id);
    expect(state).toMatchObject({ status: 'queued', attempts: 1, transport: 'smtp' });
    expect(state.lastError).toMatch(/451 try again later/);
    expect(state.history).toEqual([
      { status: 'queued', detail: null },
      { status: 'retrying', detail: expect.stringMatching(/451 try again later/) },
    ]);
    // The retry goes through once the server takes mail again.
    expect(await deliverNotification({ db: t.db.app.db, transport: smtp }, n.id)).toBe('sent');
    expect((await stateOf(n.id)).history.map((h) => h.status)).toEqual(['queued', 'retrying', 'sent']);
  });

  it('a permanent refusal of the address (550) fails at once: retrying cannot help', async () => {
    const n = await enqueue();
    peer.refuseRecipients(550);
    try {
      expect(await deliverNotification({ db: t.db.app.db, transport: smtp }, n.id)).toBe('failed');
    } finally {
      peer.refuseRecipients(null);
    }
    const state = await stateOf(n.id);
    expect(state).toMatchObject({ status: 'failed', attempts: 1 });
    expect(state.history.map((h) => h.status)).toEqual(['queued', 'failed']);
    expect(state.history[1]!.detail).toMatch(/550 mailbox unavailable/);
  });

  it('an unreachable server is retried with the connection error as the reason', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const n = await enqueue();
    const nowhere = createMailTransport(`smtp://127.0.0.1:${port}`, 'Folio <no-reply@folio.test>');
    await expect(deliverNotification({ db: t.db.app.db, transport: nowhere }, n.id)).rejects.toThrow(/ECONNREFUSED/);
    const state = await stateOf(n.id);
    expect(state.status).toBe('queued');
    expect(state.history.at(-1)).toEqual({ status: 'retrying', detail: expect.stringMatching(/ECONNREFUSED/) });
  });
});

describe('retries and the last attempt', () => {
  it(`retries ${NOTIFICATION_MAX_ATTEMPTS - 1} times with the reason, then fails for good at the last attempt`, async () => {
    const n = await enqueue();
    const failing = spyTransport('connection reset by peer');
    for (let i = 1; i < NOTIFICATION_MAX_ATTEMPTS; i++) {
      await expect(deliverNotification({ db: t.db.app.db, transport: failing }, n.id)).rejects.toThrow('connection reset by peer');
    }
    expect(await deliverNotification({ db: t.db.app.db, transport: failing }, n.id)).toBe('failed');
    const state = await stateOf(n.id);
    expect(state).toMatchObject({ status: 'failed', attempts: NOTIFICATION_MAX_ATTEMPTS, lastError: 'connection reset by peer' });
    expect(state.history.map((h) => h.status)).toEqual(['queued', ...Array(NOTIFICATION_MAX_ATTEMPTS - 1).fill('retrying'), 'failed']);
    expect(state.history.at(-1)!.detail).toBe('connection reset by peer');
    // Failed is final: nothing is sent afterwards.
    const working = spyTransport();
    expect(await deliverNotification({ db: t.db.app.db, transport: working }, n.id)).toBe('skipped');
    expect(working.sent).toHaveLength(0);
  });

  it("the queue's last attempt marks it failed even when our own counter is behind", async () => {
    const n = await enqueue();
    const outcome = await deliverNotification({ db: t.db.app.db, transport: spyTransport('timeout') }, n.id, { attempt: 3, maxAttempts: 3 });
    expect(outcome).toBe('failed');
    expect(await stateOf(n.id)).toMatchObject({ status: 'failed', attempts: 1, lastError: 'timeout' });
  });

  it('skips an unknown notification', async () => {
    expect(await deliverNotification({ db: t.db.app.db, transport: spyTransport() }, 'ntf_00000000000000000000000000')).toBe('skipped');
  });
});

describe('through the job queue (graphile-worker runOnce)', () => {
  type Job = { attempts: number; maxAttempts: number; lastError: string | null; lockedAt: Date | null };
  const jobFor = async (notificationId: string): Promise<Job | undefined> => {
    const { rows } = await sql<Job>`
      select attempts, max_attempts, last_error, locked_at from graphile_worker._private_jobs where key = ${notificationId}`.execute(t.db.owner.db);
    return rows[0];
  };
  /**
   * graphile-worker records a job's completion or failure without waiting for it, so `runOnce` can return just before
   * the queue row is updated: wait (briefly) until the job is settled — gone, or unlocked again.
   */
  const settledJobFor = async (notificationId: string): Promise<Job | undefined> => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const job = await jobFor(notificationId);
      if (!job || job.lockedAt === null || Date.now() > deadline) return job;
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('never delivers a notification whose transaction rolled back; delivers the committed one', async () => {
    const rolledBackTo = 'rolled-back@acme.test';
    await expect(
      inScope(t.db.app.db, { kind: 'system' }, async (trx) => {
        await enqueueNotification(trx, { partnerId: null, customerId: null, userId: null, toEmail: rolledBackTo, kind: 'invoice_issued', subject: 'Never', bodyText: 'Never sent' });
        throw new Error('the business change failed');
      }),
    ).rejects.toThrow('the business change failed');
    const committed = await enqueue('Committed');
    expect(await jobFor(committed.id)).toMatchObject({ attempts: 0, lockedAt: null });

    const transport = spyTransport();
    await runJobsOnce(t, transport);

    expect(transport.sent.filter((m) => m.to === rolledBackTo)).toEqual([]);
    expect(await t.db.owner.db.selectFrom('notifications').select('id').where('toEmail', '=', rolledBackTo).execute()).toEqual([]);
    expect(transport.sent.filter((m) => m.to === committed.to)).toEqual([expect.objectContaining({ messageId: committed.id, subject: 'Committed' })]);
    expect(await stateOf(committed.id)).toMatchObject({ status: 'sent' });
    expect(await settledJobFor(committed.id)).toBeUndefined(); // done: the queue forgets it

    // Running the queue again sends nothing new.
    const again = spyTransport();
    await runJobsOnce(t, again);
    expect(again.sent).toEqual([]);
  });

  it('a failing job is recorded as retrying and rescheduled by the queue; its last queue attempt marks it failed', async () => {
    const n = await enqueue();
    await runJobsOnce(t, spyTransport('smtp server down'));
    const state = await stateOf(n.id);
    expect(state).toMatchObject({ status: 'queued', attempts: 1, lastError: 'smtp server down' });
    expect(state.history.at(-1)).toEqual({ status: 'retrying', detail: 'smtp server down' });
    expect(await settledJobFor(n.id)).toMatchObject({ attempts: 1, maxAttempts: NOTIFICATION_MAX_ATTEMPTS, lastError: expect.stringContaining('smtp server down') });

    // Fast-forward the queue to its last attempt, due now.
    await sql`update graphile_worker._private_jobs set attempts = max_attempts - 1, run_at = now() where key = ${n.id}`.execute(t.db.owner.db);
    await runJobsOnce(t, spyTransport('smtp server still down'));
    const final = await stateOf(n.id);
    expect(final).toMatchObject({ status: 'failed', attempts: 2, lastError: 'smtp server still down' });
    expect(final.history.map((h) => h.status)).toEqual(['queued', 'retrying', 'failed']);
    expect(await settledJobFor(n.id)).toBeUndefined(); // the last attempt ends the job: nothing left to retry
  });
});
