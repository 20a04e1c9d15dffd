import { sql } from 'kysely';
import pino from 'pino';
import type { Config } from '../../platform/config.ts';
import { systemClock } from '../../platform/clock.ts';
import type { Db, Trx } from '../../platform/database.ts';
import { newId, newSecret } from '../../platform/ids.ts';
import { sha256Hex } from '../../platform/crypto.ts';
import { recordAudit } from '../../audit/record-audit.ts';
import { API_KEY_PREFIX_LENGTH } from '../../access/create-api-key.ts';
import { ingestCalls } from '../../usage/ingest-calls.ts';
import type { CallRecord } from '../../usage/call-record.ts';
import { adjustPoints } from '../../finance/points-adjustment.ts';
import { generateMonthlyStatements, type StatementRunResult } from './generate-monthly-statements.ts';
import { monthJustEnded, monthPeriod } from './statement-summary.ts';

const SEED_ACTOR = { principal: { kind: 'system' as const, job: 'seed' }, requestId: null, ip: null, userAgent: null };

/**
 * Demo Telecom's switch: the API key its call records come in with (issue 3 §5). Its token is made and forgotten here
 * (only its hash is kept, as for every key): the demo's calls were sent with it, and staff who want to send calls
 * themselves create a key of their own in Access Control.
 */
export async function addDemoSwitchKey(trx: Trx, ids: { partnerId: string; createdBy: string }): Promise<string> {
  const id = newId('key');
  const token = `fk_${newSecret()}`;
  await trx.insertInto('apiKeys').values({
    id, partnerId: ids.partnerId, name: 'Demo switch', tokenPrefix: token.slice(0, API_KEY_PREFIX_LENGTH), tokenHash: sha256Hex(token),
    apps: ['customer'], createdBy: ids.createdBy, lastUsedAt: null, revokedAt: null,
  }).execute();
  await recordAudit(trx, SEED_ACTOR, {
    partnerId: ids.partnerId, app: 'access', action: 'api_key.created', targetType: 'api_key', targetId: id,
    changes: { name: { after: 'Demo switch' }, apps: { after: ['customer'] } },
  });
  return id;
}

/** Acme's calls of the demo month: day of the month, hour (UTC), number called, seconds. Every demo rate is used. */
const DEMO_CALLS: ReadonlyArray<readonly [day: number, hour: number, to: string, seconds: number]> = [
  [3, 1, '+6591234567', 185], [3, 6, '+6562223333', 42], [5, 2, '+14155550123', 610], [7, 3, '+6581234567', 95],
  [9, 7, '+442071234567', 324], [11, 1, '+6591234567', 61], [12, 8, '+6562223333', 1210], [14, 2, '+6581234567', 28],
  [17, 4, '+14155550123', 75], [19, 5, '+6591234567', 430], [21, 2, '+442071234567', 59], [24, 6, '+6562223333', 300],
  [26, 3, '+6581234567', 145], [27, 9, '+6591234567', 12],
];

/**
 * The month before the seed's, on Acme's points, for a first run with activity: 50.00 of points issued by Demo Telecom's
 * Finance (a welcome credit) on the 2nd, calls through the month from its switch, and the Monthly statement the job makes
 * on the 1st (src/invoices/statements), so that the portal's and the Invoice app's Monthly statement, with its usage by
 * category, has something to show.
 *
 * The history is made now, through the use cases that make it in production (`adjustPoints` as Finance staff, the calls
 * rated and charged by `ingestCalls` with the switch's key, one call per request, so the statement reads real entries and
 * calls), and then dated into that month: each journal entry, with every one of its postings, and the calls' rows move to
 * the time each happened (dateIntoMonth), on the owner's connection with the append-only trigger skipped for that
 * transaction only, as the statements' test fixtures do. Amounts, balances and entries stay as the use cases wrote them. The audit trail keeps the
 * real time: its events (the points issued, the calls ingested, the statements generated) say they were made when the
 * seed ran. Runs after the seed's transaction (the use cases run transactions of their own), before anything else is
 * made on Acme's points, so that the points history reads in time order.
 *
 * Skipping the trigger takes a superuser (the embedded server's owner is one). An owner that is not one (a server named
 * by DATABASE_URL with FOLIO_SEED_DEMO=true) keeps the points and calls at the seed's time and gets no statement
 * (null): the job on the 1st states them.
 */
export async function seedStatementDemo(
  owner: Db,
  input: { partnerId: string; acmeId: string; financeUserId: string; switchKeyId: string; config: Config; now?: Date },
): Promise<StatementRunResult | null> {
  const now = input.now ?? new Date();
  const month = monthJustEnded(now);
  const period = monthPeriod(month)!;
  const at = (day: number, hour: number, minute = 0) => new Date(Date.UTC(period.start.getUTCFullYear(), period.start.getUTCMonth(), day, hour, minute));
  const base = { db: owner, config: input.config, log: pino({ level: 'silent' }), requestId: null, ip: null, userAgent: null, clock: systemClock };

  const finance = {
    ...base,
    principal: {
      kind: 'staff' as const, userId: input.financeUserId, partnerId: input.partnerId, email: 'finance@demo.test', name: 'Fiona Finance',
      apps: new Set(['finance', 'invoice', 'customer'] as const), sessionId: 'seed',
    },
  };
  const credit = await adjustPoints(finance, 'issue', { customerId: input.acmeId, amount: '50.00', reason: 'Welcome credit for a new customer (demo)' });

  const switchCtx = {
    ...base,
    principal: { kind: 'api_key' as const, keyId: input.switchKeyId, partnerId: input.partnerId, name: 'Demo switch', apps: new Set(['customer'] as const) },
  };
  const records: CallRecord[] = DEMO_CALLS.map(([day, hour, to, seconds], i) => ({
    callId: `demo-${month}-${String(i + 1).padStart(3, '0')}`, customerId: input.acmeId, from: '+6560001234', to,
    startedAt: at(day, hour, (i * 7) % 60).toISOString(), durationSeconds: seconds, direction: 'outbound',
  }));
  // One request per call, as a switch sends them when each call ends: each call is then one journal entry (a batch is
  // one entry for all its calls, ADR 0011), which can be dated to that call's end as a whole (dateIntoMonth).
  for (const record of records) {
    const ingested = await ingestCalls(switchCtx, { records: [record] });
    if (ingested.summary.charged !== 1) throw new Error(`demo call ${record.callId}: ${JSON.stringify(ingested.summary)}`);
  }

  try {
    await dateIntoMonth(owner, { ...input, month, creditEntryId: credit.entryId, creditAt: at(2, 1, 30) });
  } catch (err) {
    if ((err as { code?: unknown }).code === INSUFFICIENT_PRIVILEGE) return null;
    throw err;
  }

  // Issued when the job would have made it: 00:30 UTC on the 1st (its crontab), or now if the seed runs before that.
  const jobRanAt = new Date(Math.min(now.getTime(), Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1, 0, 30)));
  return generateMonthlyStatements({ db: owner, log: base.log, clock: { now: () => jobRanAt } }, { month, partnerId: input.partnerId });
}

const INSUFFICIENT_PRIVILEGE = '42501';

/**
 * The demo month's points and calls moved to when they happened (see seedStatementDemo). A journal entry happens at one
 * instant: EVERY posting of an entry, and the entry itself, carry the same `posted_at` (the trial balance at a past day
 * sums postings by `posted_at`, so an entry split across days would not balance then). A call's entry is dated at the
 * call's end (the latest end, should an entry ever hold several calls); the points issued, on the 2nd.
 */
async function dateIntoMonth(owner: Db, input: { partnerId: string; acmeId: string; month: string; creditEntryId: string; creditAt: Date }): Promise<void> {
  const month = input.month;
  await owner.transaction().execute(async (trx) => {
    await sql`set local session_replication_role = replica`.execute(trx);
    await sql`update usage_calls c set created_at = c.started_at + make_interval(secs => c.duration_seconds)
              where c.partner_id = ${input.partnerId} and c.customer_id = ${input.acmeId} and c.call_id like ${`demo-${month}-%`}`.execute(trx);
    await sql`with dated as (
                select c.entry_id, max(c.created_at) as at from usage_calls c
                 where c.partner_id = ${input.partnerId} and c.call_id like ${`demo-${month}-%`} and c.entry_id is not null
                 group by c.entry_id
                union all
                select ${input.creditEntryId}::text, ${input.creditAt}::timestamptz
              ), entries as (
                update journal_entries j set posted_at = dated.at from dated where j.id = dated.entry_id returning j.id
              )
              update postings p set posted_at = dated.at from dated where p.entry_id = dated.entry_id`.execute(trx);
    // What the trial balance at a past day relies on: no entry of the partner's is split across instants.
    const split = await sql<{ id: string }>`
      select j.id from journal_entries j join postings p on p.entry_id = j.id
       where j.partner_id = ${input.partnerId} group by j.id having count(distinct p.posted_at) > 1 or min(p.posted_at) <> min(j.posted_at) limit 1`.execute(trx);
    if (split.rows.length > 0) throw new Error(`demo month: entry ${split.rows[0]!.id} has postings at different times`);
  });
}
