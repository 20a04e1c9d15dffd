import assert from 'node:assert/strict';
import { sql, type CompiledQuery, type RawBuilder } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { ANY_ARRAY_SIZE_MARK, inScope, type Db, type Trx } from '../platform/database.ts';
import { partnerIdOf } from '../platform/context.ts';
import { newId } from '../platform/ids.ts';
import { readCallRecord, type CallRecord } from './call-record.ts';
import { pgArray, type PgArray } from '../platform/pg-array.ts';
import { isUniqueViolation } from '../access/pg-errors.ts';
import { formatDecimal, isCurrency, type Currency } from '../money/money.ts';
import { recordAudits, takeRecordedAuditInsert } from '../audit/record-audit.ts';
import { entryWrites, type EntryInput, type PostingInput } from '../ledger/post-entry.ts';
import { accountKey } from '../ledger/accounts.ts';
import type { AccountCode } from '../platform/db-types.ts';
import { customerWalletsLock, customerWalletsOf, ensureWallets, type CustomerWallet, type CustomerWalletsColumns } from '../wallet/wallets.repo.ts';
import { callTaxMicros, callTaxRateBps, normaliseNumber, PrefixTable, rateCall, type RatePlan } from './rating.ts';

export const MAX_CALLS_PER_BATCH = 10_000;

export type CallResult =
  | { index: number; callId: string; status: 'charged'; callRef: string; amount: string; tax: string; taxCategory: 'standard' | 'zero_rated'; currency: string; billedSeconds: number }
  | { index: number; callId: string | null; status: 'duplicate'; detail: string }
  | { index: number; callId: string | null; status: 'rejected'; code: string; detail: string; errors?: Array<{ path: string; message: string }> };

export interface IngestResult {
  results: CallResult[];
  summary: { received: number; charged: number; duplicates: number; rejected: number };
}

interface LoadedPlan {
  plan: RatePlan;
  table: PrefixTable;
  useCreditLimit: boolean;
}

/**
 * Rated tables by rate plan id, kept while the plan's `rates_version` is unchanged (every change of a plan's rates
 * bumps it, in the same transaction: src/products/replace-rates.ts). The plan row itself is read in every transaction.
 */
const rateTables = new Map<string, { version: number; table: PrefixTable; rates: RatePlan['rates'] }>();
const MAX_CACHED_PLANS = 200;

/** A default rate plan's row, as `lockAndRead` reads it. */
interface PlanRow {
  id: string;
  currency: string;
  ratesVersion: number;
  firstIncrementSeconds: number;
  nextIncrementSeconds: number;
  minimumChargeMicros: string;
  whenInsufficient: 'reject' | 'use_credit_limit';
}

/** The partner's own accounts a call charge posts to (besides each customer's points). */
const PARTNER_ACCOUNTS = ['revenue:usage', 'tax_payable', 'cost:usage', 'platform_payable'] as const;

/**
 * One round trip: lock the wallets of the batch's customers (in customer order, as every multi-wallet lock) and read
 * the partner's default rate plans in their currencies, which of these call ids were charged before, and the ids of the
 * partner's accounts a charge posts to (none yet: the ledger opens them). The reads see the statement's snapshot, taken
 * before any wait for the wallet locks: a concurrent transaction charging the same call ids may commit meanwhile
 * unseen, and then the calls' unique key stops this transaction (ConcurrentDuplicateError: it starts over and sees them).
 */
async function lockAndRead(trx: Trx, partnerId: string, customerIds: readonly string[], callIds: readonly string[]) {
  const locking = customerWalletsLock(partnerId, customerIds);
  const { rows } = await sql<CustomerWalletsColumns & { plans: PlanRow[]; charged: string[]; accounts: Array<{ id: string; code: string; currency: string }>; taxRateBps: number | null }>`${sql.raw(ANY_ARRAY_SIZE_MARK)}
    with ${locking.ctes}
    select ${locking.columns},
           (select s.tax_rate_bps from partner_settings s where s.partner_id = ${partnerId}) as tax_rate_bps,
           coalesce((select json_agg(json_build_object(
                      'id', p.id, 'currency', p.currency, 'ratesVersion', p.rates_version,
                      'firstIncrementSeconds', p.first_increment_seconds, 'nextIncrementSeconds', p.next_increment_seconds,
                      'minimumChargeMicros', p.minimum_charge_micros::text, 'whenInsufficient', p.when_insufficient))
                       from rate_plans p
                      where p.partner_id = ${partnerId} and p.is_default and p.currency in (select currency from known_customers)), '[]') as plans,
           coalesce((select array_agg(c.call_id) from usage_calls c
                      where c.partner_id = ${partnerId} and c.call_id = any(${pgArray(callIds)}::text[])), '{}') as charged,
           coalesce((select json_agg(json_build_object('id', a.id, 'code', a.code, 'currency', a.currency))
                       from ledger_accounts a
                      where a.partner_id = ${partnerId} and a.customer_id is null and a.currency in (select currency from known_customers)
                        and a.code = any(${[...PARTNER_ACCOUNTS]}::text[])), '[]') as accounts`.execute(trx);
  const row = rows[0]!;
  return { customers: customerWalletsOf(partnerId, row), plans: row.plans, charged: row.charged, accounts: row.accounts, taxRateBps: row.taxRateBps ?? 0 };
}

async function loadPlans(trx: Trx, partnerId: string, rows: readonly PlanRow[]): Promise<Map<string, LoadedPlan>> {
  const plans = new Map<string, LoadedPlan>();
  for (const p of rows) {
    let cached = rateTables.get(p.id);
    if (!cached || cached.version !== p.ratesVersion) {
      const rates = (await trx.selectFrom('rates').select(['prefix', 'pricePerMinuteMicros', 'costPerMinuteMicros', 'taxCategory']).where('partnerId', '=', partnerId).where('ratePlanId', '=', p.id).execute())
        .map((r) => ({ prefix: r.prefix, pricePerMinuteMicros: BigInt(r.pricePerMinuteMicros), costPerMinuteMicros: BigInt(r.costPerMinuteMicros), zeroRated: r.taxCategory === 'zero_rated' }));
      cached = { version: p.ratesVersion, table: new PrefixTable(rates), rates };
      if (rateTables.size >= MAX_CACHED_PLANS) rateTables.delete(rateTables.keys().next().value!);
      rateTables.set(p.id, cached);
    }
    plans.set(p.currency, loadedPlan(p, cached));
  }
  return plans;
}

/** The plans with their rate tables as cached here, without a query; null when one of them is not cached at its version. */
function cachedPlans(rows: readonly PlanRow[]): Map<string, LoadedPlan> | null {
  const plans = new Map<string, LoadedPlan>();
  for (const p of rows) {
    const cached = rateTables.get(p.id);
    if (!cached || cached.version !== p.ratesVersion) return null;
    plans.set(p.currency, loadedPlan(p, cached));
  }
  return plans;
}

function loadedPlan(p: PlanRow, cached: { table: PrefixTable; rates: RatePlan['rates'] }): LoadedPlan {
  const plan: RatePlan = {
    firstIncrementSeconds: p.firstIncrementSeconds,
    nextIncrementSeconds: p.nextIncrementSeconds,
    minimumChargeMicros: BigInt(p.minimumChargeMicros),
    rates: cached.rates,
  };
  return { plan, table: cached.table, useCreditLimit: p.whenInsufficient === 'use_credit_limit' };
}

/**
 * What a partner's last charging transaction read under the wallets' lock, kept to build the next charge while its own
 * lock and reads run (`chargeJobs`): the partner's tax rate, default plans and accounts, and its customers' currency,
 * status and points account (in one map per database handle, all partners together, by `customerKey`). Only ever an
 * assumption: every field the charge was built from is compared with the transaction's own read before its statement is sent.
 */
interface PartnerReads {
  taxRateBps: number;
  plans: PlanRow[];
  accounts: Array<{ id: string; code: string; currency: string }>;
  customers: Map<string, { currency: string; status: string; pointsAccountId: string }>;
}
const partnerReads = new WeakMap<Db, { partners: Map<string, PartnerReads>; customers: PartnerReads['customers'] }>();
/** Customers remembered per database handle, all partners together (~150 bytes each); forgotten all at once when full. */
const MAX_REMEMBERED_CUSTOMERS = 100_000;
const customerKey = (partnerId: string, customerId: string) => `${partnerId} ${customerId}`;

function partnerReadsOf(db: Db, partnerId: string): PartnerReads {
  let forDb = partnerReads.get(db);
  if (!forDb) partnerReads.set(db, (forDb = { partners: new Map(), customers: new Map() }));
  let reads = forDb.partners.get(partnerId);
  if (!reads) forDb.partners.set(partnerId, (reads = { taxRateBps: 0, plans: [], accounts: [], customers: forDb.customers }));
  return reads;
}

interface ValidRecord {
  index: number;
  record: CallRecord;
  destination: string;
}

/** One request's share of a charging transaction. */
export interface Job {
  ctx: Ctx;
  received: number;
  valid: ValidRecord[];
  results: CallResult[];
  done: (err?: unknown) => void;
  /** Set when a large request is charged in parts at once (chargeInParts): which part this is. */
  part?: { index: number; of: number };
}

/** Records charged in one transaction at most (a request of 10,000 runs alone). */
const MAX_RECORDS_PER_TRANSACTION = 10_000;

/**
 * Group commit: requests of one partner queue here while that partner's charging transaction runs, and the next
 * transaction charges all of them at once (each keeps its own results, audit event and journal entry). An idle
 * server adds no wait; a busy one commits many small requests per transaction instead of one each. Charges of one
 * partner serialise on its revenue and cost accounts anyway (now only while each commits: migration 0041); two at a
 * time per partner measured no faster on 2 cores (ADR 0018, sixth amendment).
 */
export interface PartnerQueue {
  jobs: Job[];
  running: boolean;
  /** Set while the runner waits for the callers it just answered (`awaitReturningCallers`): told of each arrival. */
  arrived?: () => void;
}
const queues = new WeakMap<Db, Map<string, PartnerQueue>>();

function enqueue(db: Db, partnerId: string, job: Job): void {
  let byPartner = queues.get(db);
  if (!byPartner) queues.set(db, (byPartner = new Map()));
  let queue = byPartner.get(partnerId);
  if (!queue) byPartner.set(partnerId, (queue = { jobs: [], running: false }));
  queue.jobs.push(job);
  queue.arrived?.();
  if (!queue.running) run(db, partnerId, queue);
}

function run(db: Db, partnerId: string, queue: PartnerQueue): void {
  queue.running = true;
  void drain(db, partnerId, queue).finally(() => {
    queue.running = false;
    if (queue.jobs.length > 0) run(db, partnerId, queue);
  });
}

/**
 * After a transaction that charged several requests (the server is busy), the next one waits for the callers it just
 * answered: they send their next request meanwhile, and join it instead of forming a second, smaller group that pays a
 * whole transaction's fixed cost for one or two records (ADR 0018, amendment of 2026-12-04, later). It goes as soon as
 * that many more requests are queued, when none has arrived for RETURN_GAP_MS (the callers are not coming back: an
 * idle partner or a burst), or after RETURN_WAIT_MAX_MS in all. A transaction that charged one request never waits, so
 * a lone caller's charge starts at once.
 */
export const RETURN_GAP_MS = 2;
export const RETURN_WAIT_MAX_MS = 10;

export function awaitReturningCallers(queue: PartnerQueue, answered: number): Promise<void> {
  const expected = queue.jobs.length + answered;
  return new Promise((resolve) => {
    let gapTimer: NodeJS.Timeout | undefined;
    const go = () => {
      clearTimeout(gapTimer);
      clearTimeout(maxTimer);
      queue.arrived = undefined;
      resolve();
    };
    const maxTimer = setTimeout(go, RETURN_WAIT_MAX_MS);
    const waitForNext = () => {
      clearTimeout(gapTimer);
      gapTimer = setTimeout(go, RETURN_GAP_MS);
    };
    queue.arrived = () => (queue.jobs.length >= expected ? go() : waitForNext());
    waitForNext();
  });
}

async function drain(db: Db, partnerId: string, queue: PartnerQueue): Promise<void> {
  for (let previous = 0; ; ) {
    if (previous > 1) await awaitReturningCallers(queue, previous);
    if (queue.jobs.length === 0) return;
    const group: Job[] = [queue.jobs.shift()!];
    let records = group[0]!.valid.length;
    while (queue.jobs.length > 0 && records + queue.jobs[0]!.valid.length <= MAX_RECORDS_PER_TRANSACTION) {
      const next = queue.jobs.shift()!;
      records += next.valid.length;
      group.push(next);
    }
    previous = group.length;
    try {
      if (group.length === 1 && records >= PARTS_MIN_RECORDS) await chargeInParts(db, partnerId, group[0]!);
      else await chargeWithRetry(db, partnerId, group);
      for (const job of group) job.done();
    } catch (err) {
      if (group.length === 1) {
        group[0]!.done(err);
        continue;
      }
      // One request's failure must not sink the others: charge each on its own.
      for (const job of group) {
        try {
          await chargeWithRetry(db, partnerId, [job]);
          job.done();
        } catch (own) {
          job.done(own);
        }
      }
    }
  }
}

/**
 * A request of at least this many valid records is charged in CHARGE_PARTS transactions at once (ADR 0021). Smaller
 * requests, and groups of small requests, stay one transaction: a part's fixed cost (its entry, audit event, commit)
 * would outweigh the overlap.
 */
export const PARTS_MIN_RECORDS = 1_000;
/** The longest call id a rejected record's answer repeats (a call id is at most 100 characters). */
const MAX_ECHOED_CALL_ID = 100;
/** Transactions charging one large request at once: one per core of the 2-core machine the targets are set for. */
const CHARGE_PARTS = 2;

/**
 * The records of one request in `of` parts with no customer in common, as even in records as whole customers allow
 * (largest customer first, each to the lightest part). Parts lock disjoint wallets, so they never wait for each other
 * before commit. The first part carries the request's records rejected before charging, so the parts' record counts
 * add up to what the request received. Fewer parts when there are fewer customers.
 */
function splitByCustomer(job: Job, of: number): Job[] {
  const counts = new Map<string, number>();
  for (const v of job.valid) counts.set(v.record.customerId, (counts.get(v.record.customerId) ?? 0) + 1);
  const customers = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const sizes = new Array<number>(Math.min(of, customers.length)).fill(0);
  const partOf = new Map<string, number>();
  for (const [customerId, records] of customers) {
    let lightest = 0;
    for (let i = 1; i < sizes.length; i++) if (sizes[i]! < sizes[lightest]!) lightest = i;
    sizes[lightest]! += records;
    partOf.set(customerId, lightest);
  }
  // Each part keeps the records in the order the request listed them (results keep their own index anyway).
  const parts = sizes.map(() => [] as ValidRecord[]);
  for (const v of job.valid) parts[partOf.get(v.record.customerId)!]!.push(v);
  const unchargeable = job.received - job.valid.length;
  return parts.map((valid, index) => ({
    ...job, valid, received: valid.length + (index === 0 ? unchargeable : 0), done: () => {}, part: { index: index + 1, of: parts.length },
  }));
}

/**
 * One large request, charged in parts at once, each its own transaction on its own connection (ADR 0021): the
 * PostgreSQL work of one charging transaction runs on one core, and a batch of 10,000 spends ~80% of its time there.
 * Each part has its own journal entry and audit event (naming the request and which part it is). The answer waits for
 * every part. When a part fails after its retries, the request fails, and parts that committed stay charged: a retry of
 * the request finds their call ids charged before (duplicates), as after any answer lost on the way.
 */
async function chargeInParts(db: Db, partnerId: string, job: Job): Promise<void> {
  const parts = splitByCustomer(job, CHARGE_PARTS);
  if (parts.length === 1) return chargeWithRetry(db, partnerId, [job]);
  const settled = await Promise.allSettled(parts.map((part) => chargeWithRetry(db, partnerId, [part])));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * A transaction charging at most this many records runs every statement on its generic plan (ADR 0018, seventh
 * amendment): its arrays are small (these calls, and their postings plus three per caller), so its statements are
 * prepared, and one that is not (over 100 postings from many callers at once) is a small insert whose generic plan is
 * as good. Larger groups (batches) are planned for their values, as every statement with a large array is.
 */
const GENERIC_PLANS_MAX_RECORDS = 50;

async function chargeWithRetry(db: Db, partnerId: string, group: readonly Job[]): Promise<void> {
  const records = group.reduce((n, job) => n + job.valid.length, 0);
  for (let attempt = 1; ; attempt++) {
    try {
      await inScope(db, { kind: 'partner', partnerId }, (trx) => chargeJobs(trx, partnerId, group, partnerReadsOf(db, partnerId)), { genericPlans: records <= GENERIC_PLANS_MAX_RECORDS });
      return;
    } catch (err) {
      if (err instanceof MissingWalletsError) {
        // Open the wallets in their own transaction (idempotent), then charge with every wallet locked in order.
        await inScope(db, { kind: 'partner', partnerId }, (trx) => ensureWallets(trx, partnerId, err.wallets));
      } else if (!(err instanceof ConcurrentDuplicateError) || attempt >= 3) {
        throw err;
      }
      if (attempt >= 4) throw err;
    }
  }
}

/**
 * Rate and charge a batch of call records against customers' points: every accepted call is posted to the
 * customer's wallet at once (its own points posting, with its description and balance after), price to revenue and
 * cost to the platform, in one journal entry per request and currency. Each record gets its own result: charged,
 * duplicate (a replayed call id changes nothing), or rejected with a code naming what is wrong.
 */
export async function ingestCalls(ctx: Ctx, input: { records: readonly unknown[] }): Promise<IngestResult> {
  const partnerId = partnerIdOf(ctx.principal);
  const results: CallResult[] = new Array<CallResult>(input.records.length);
  const valid: ValidRecord[] = [];
  const seen = new Set<string>();
  // A call cannot start after now; a switch's clock may run ahead a little, so up to a day ahead is taken as it is.
  const latestStartMs = ctx.clock.now().getTime() + FUTURE_START_TOLERANCE_MS;
  input.records.forEach((raw, index) => {
    const parsed = readCallRecord(raw);
    // The call id as sent, to match the answer to the record; one longer than any call id (100) is not echoed back.
    const sentId = (raw as { callId?: unknown } | null)?.callId;
    const callId = typeof sentId === 'string' && sentId.length <= MAX_ECHOED_CALL_ID ? sentId : null;
    if (!parsed.ok) {
      const { errors } = parsed;
      // An error of the record itself (not an object) has the empty path: the record is named by its index.
      results[index] = { index, callId, status: 'rejected', code: 'validation_failed', detail: errors.map((e) => (e.path === '' ? `the record: ${e.message}` : `${e.path}: ${e.message}`)).join('; '), errors };
      return;
    }
    const startMs = Date.parse(parsed.record.startedAt);
    if (startMs > latestStartMs) {
      results[index] = { index, callId, status: 'rejected', code: 'rule_violation', detail: 'startedAt: in the future', errors: [{ path: 'startedAt', message: 'in the future (more than a day after now)' }] };
      return;
    }
    if (startMs < EARLIEST_CALL_START_MS) {
      results[index] = { index, callId, status: 'rejected', code: 'rule_violation', detail: `startedAt: before ${EARLIEST_CALL_START}`, errors: [{ path: 'startedAt', message: `before ${EARLIEST_CALL_START}: a switch clock fault?` }] };
      return;
    }
    const destination = normaliseNumber(parsed.record.direction === 'outbound' ? parsed.record.to : parsed.record.from);
    if (!destination || !normaliseNumber(parsed.record.direction === 'outbound' ? parsed.record.from : parsed.record.to)) {
      results[index] = { index, callId, status: 'rejected', code: 'validation_failed', detail: 'from and to must be phone numbers', errors: [{ path: normaliseNumber(parsed.record.from) ? 'to' : 'from', message: 'not a phone number' }] };
      return;
    }
    if (seen.has(parsed.record.callId)) {
      results[index] = { index, callId, status: 'duplicate', detail: 'The same call id appears earlier in this batch' };
      return;
    }
    seen.add(parsed.record.callId);
    valid.push({ index, record: parsed.record, destination });
  });

  await new Promise<void>((resolve, reject) => {
    enqueue(ctx.db, partnerId, { ctx, received: input.records.length, valid, results, done: (err) => (err === undefined ? resolve() : reject(err instanceof Error ? err : new Error('charging failed', { cause: err }))) });
  });
  const summary = { received: input.records.length, charged: 0, duplicates: 0, rejected: 0 };
  for (const r of results) {
    if (r.status === 'charged') summary.charged++;
    else if (r.status === 'duplicate') summary.duplicates++;
    else summary.rejected++;
  }
  return { results, summary };
}

/** How far after now a call record's start may be (switch clocks drift); later is rejected as in the future. */
export const FUTURE_START_TOLERANCE_MS = 86_400_000;
/**
 * No call starts before this day: a record that says so comes from a switch whose clock was reset (year 1, 1900, 1970),
 * and would be charged into this month's books as if it were real. Rejected on its own, the field named. A fixed day,
 * not "a year ago": late records (a switch's backlog sent again) are charged whenever they come.
 */
export const EARLIEST_CALL_START = '2000-01-01';
export const EARLIEST_CALL_START_MS = Date.parse(`${EARLIEST_CALL_START}T00:00:00Z`);

/**
 * Request ids listed in one audit event at most. The trail's search text holds the first 2,000 characters of an event's
 * changes (migration 0034), and the request ids come last there: 40 of ours (~34 characters each in the JSON) stay
 * findable by search. A transaction charging more requests of one caller writes an event (and journal entry) per 40.
 */
export const MAX_REQUEST_IDS_PER_EVENT = 40;

function principalKey(ctx: Ctx): string {
  const p = ctx.principal;
  return p.kind === 'api_key' ? `key:${p.keyId}` : p.kind === 'staff' || p.kind === 'customer' || p.kind === 'operator' ? `user:${p.userId}` : `system:${p.job}`;
}

/** Rows per call, column by column, for one `unnest` insert. */
function callColumns() {
  return {
    id: [] as string[], customerId: [] as string[], callId: [] as string[], fromNumber: [] as string[], toNumber: [] as string[],
    direction: [] as string[], startedAt: [] as string[], durationSeconds: [] as number[], billedSeconds: [] as number[],
    prefix: [] as Array<string | null>, currency: [] as Currency[], priceMicros: [] as bigint[], costMicros: [] as bigint[], taxMicros: [] as bigint[],
    taxRateBps: [] as number[], zeroRated: [] as Array<'t' | 'f'>, entryId: [] as Array<string | null>,
  };
}

/**
 * Charges built while their wallets' lock ran (`built`), and of those the ones sent as built (`sent`); the others were
 * built again from the read. Counted for tests and for a look from a debugger; nothing reads them to decide.
 */
export const earlyCharges = { built: 0, sent: 0 };

/** What a charge is built from: read under the wallets' lock, or assumed from the partner's last read while it runs. */
interface ChargeView {
  customers: ReadonlyMap<string, CustomerWallet>;
  plans: ReadonlyMap<string, LoadedPlan>;
  charged: ReadonlySet<string>;
  accounts: ReadonlyArray<{ id: string; code: string; currency: string }>;
  taxRateBps: number;
}

/** A charge built and not yet sent: its statement, and what must be checked or filled in when the wallets are read. */
interface BuiltCharge {
  /** The one statement, compiled (with the balances after counted from zero); null when no call is charged. */
  statement: CompiledQuery<{ n: string }> | null;
  calls: number;
  /** Per currency: the postings' balances after, counted from zero (the locked balances are added by `writeCharge`). */
  balancesAfter: Array<{ param: PgArray; accountIds: readonly string[]; values: ReadonlyArray<bigint | null> }>;
  /** Per customer charged: the highest its charges reach, in the order they are taken (what its points must cover). */
  peakMicros: Map<string, bigint>;
}

/** Points a wallet is assumed to hold while a charge is built before its read: every charge fits until that read says. */
const UNBOUNDED_MICROS = 1n << 62n;

/** The inputs `assumedView` took from the partner's last read, to compare with this transaction's own. */
interface Assumed {
  view: ChargeView;
  planRows: readonly PlanRow[];
  accounts: ReadonlyArray<{ id: string; code: string; currency: string }>;
  taxRateBps: number;
  customers: Map<string, { currency: string; status: string; pointsAccountId: string }>;
}

/** A charge's inputs as the partner's last read left them; null when one is not known (a customer not seen, a plan's table not cached). */
function assumedView(partnerId: string, reads: PartnerReads, customerIds: readonly string[]): Assumed | null {
  if (reads.plans.length === 0) return null;
  const plans = cachedPlans(reads.plans);
  if (!plans) return null;
  const customers = new Map<string, CustomerWallet>();
  const assumed = new Map<string, { currency: string; status: string; pointsAccountId: string }>();
  for (const customerId of customerIds) {
    if (assumed.has(customerId)) continue;
    const c = reads.customers.get(customerKey(partnerId, customerId));
    if (!c) return null;
    assumed.set(customerId, c);
    customers.set(customerId, {
      customerId, currency: c.currency, status: c.status,
      wallet: {
        partnerId, customerId, currency: c.currency, pointsAccountId: c.pointsAccountId, pointsMicros: UNBOUNDED_MICROS, reservedMicros: 0n,
        creditLimitMicros: 0n, creditLimitExpiresAt: null, usableMicros: UNBOUNDED_MICROS,
      },
    });
  }
  return {
    view: { customers, plans, charged: new Set(), accounts: reads.accounts, taxRateBps: reads.taxRateBps },
    planRows: reads.plans, accounts: reads.accounts, taxRateBps: reads.taxRateBps, customers: assumed,
  };
}

const planRowsKey = (rows: readonly PlanRow[]) => JSON.stringify([...rows].sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0)));
const accountsKey = (rows: ReadonlyArray<{ id: string; code: string; currency: string }>) => rows.map((a) => `${a.id}|${a.code}|${a.currency}`).sort().join(',');

/**
 * Whether a charge built from `assumed` is the one this read would build: the same plans, tax rate and partner accounts,
 * no call charged before, every customer with the same currency, status and points account (and a wallet), and every
 * customer's charges within its usable points at every step (the build assumed they were).
 */
function readAsAssumed(assumed: Assumed, read: Awaited<ReturnType<typeof lockAndRead>>, built: BuiltCharge): boolean {
  if (read.taxRateBps !== assumed.taxRateBps || read.charged.length > 0) return false;
  if (planRowsKey(read.plans) !== planRowsKey(assumed.planRows) || accountsKey(read.accounts) !== accountsKey(assumed.accounts)) return false;
  for (const [customerId, c] of assumed.customers) {
    const real = read.customers.get(customerId);
    if (!real?.wallet || real.status !== c.status || real.currency !== c.currency || real.wallet.pointsAccountId !== c.pointsAccountId) return false;
  }
  for (const [customerId, peak] of built.peakMicros) {
    const wallet = read.customers.get(customerId)!.wallet!;
    const usable = assumed.view.plans.get(wallet.currency)?.useCreditLimit ? wallet.usableMicros : wallet.pointsMicros - wallet.reservedMicros;
    if (peak > usable) return false;
  }
  return true;
}

/** Keep what this read says of the partner and its customers, for the next charge to be built while its lock runs. */
function remember(partnerId: string, reads: PartnerReads, read: Awaited<ReturnType<typeof lockAndRead>>): void {
  reads.taxRateBps = read.taxRateBps;
  reads.plans = read.plans;
  reads.accounts = read.accounts;
  const remembered = reads.customers;
  if (remembered.size + read.customers.size > MAX_REMEMBERED_CUSTOMERS) remembered.clear();
  for (const c of read.customers.values()) {
    const key = customerKey(partnerId, c.customerId);
    if (c.wallet) remembered.set(key, { currency: c.currency, status: c.status, pointsAccountId: c.wallet.pointsAccountId });
    else remembered.delete(key);
  }
}

/**
 * Charge a group of requests in the caller's transaction. Its first statement locks the wallets and reads what the
 * charge needs (`lockAndRead`). While PostgreSQL runs it, this server builds the charge from what the partner's last
 * transaction read (`PartnerReads`): rated, every row and the statement made, each charge assumed to fit. When the read
 * comes back, that charge is sent only if the read is as assumed (`readAsAssumed`); otherwise it is built again from
 * the read, as before. Both ways the balances after are filled in from the locked balances (`writeCharge`), so the
 * statement is the same whichever way it was built (ADR 0018, amendment of 2026-12-05, late). PostgreSQL runs one
 * statement on one core: building meanwhile uses the other, idle while a partner's transactions run one at a time. The
 * parts of a large request are built after their reads, as before: their two reads already keep both cores busy.
 */
async function chargeJobs(trx: Trx, partnerId: string, jobs: readonly Job[], reads: PartnerReads): Promise<void> {
  const allValid = jobs.flatMap((j) => j.valid);
  const customerIds = allValid.map((v) => v.record.customerId);
  // 1. Every wallet of the transaction, locked in customer order, with the duplicates' lookup in the same statement: a
  //    call charged concurrently may be missed there, and the calls' unique key stops it at the insert (step 3).
  const reading = lockAndRead(trx, partnerId, customerIds, allValid.map((v) => v.record.callId));
  // Not for the parts of a large request: the two parts' reads keep both cores busy, and building meanwhile only takes
  // CPU from them (measured: each part's read took as much longer as its build took).
  const assumed = jobs.some((j) => j.part) ? null : assumedView(partnerId, reads, customerIds);
  let early: BuiltCharge | null = null;
  if (assumed) {
    void reading.catch(() => undefined); // its failure is met below, where it is awaited
    // The statement goes out through a few promise steps: let them run, then build while PostgreSQL works.
    await new Promise<void>((resolve) => setImmediate(resolve));
    early = await buildCharge(trx, partnerId, jobs, assumed.view, true);
    if (early) earlyCharges.built++;
  }
  const read = await reading;
  remember(partnerId, reads, read);
  const customers = read.customers;
  if (early && assumed && readAsAssumed(assumed, read, early)) {
    earlyCharges.sent++;
    await writeCharge(trx, early, customers);
    return;
  }
  const missing = [...customers.values()].filter((c) => c.status === 'active' && c.wallet === null && isCurrency(c.currency));
  if (missing.length > 0) throw new MissingWalletsError(missing.map((c) => ({ customerId: c.customerId, currency: c.currency })));
  const plans = await loadPlans(trx, partnerId, read.plans);
  const built = await buildCharge(trx, partnerId, jobs, { customers, plans, charged: new Set(read.charged), accounts: read.accounts, taxRateBps: read.taxRateBps }, false);
  assert(built !== null, 'a charge built from its read needs no account it does not know');
  await writeCharge(trx, built, customers);
}

/**
 * 2. Rate in memory and build the charge: each record's result, the calls, one journal entry per caller and currency,
 *    the audit events, and the one statement writing them. Reads nothing: with `beforeRead`, it must not query at all
 *    (it runs while the wallets' lock is on the connection), and answers null when an account would have to be opened
 *    or when no call would be charged.
 */
async function buildCharge(trx: Trx, partnerId: string, jobs: readonly Job[], view: ChargeView, beforeRead: boolean): Promise<BuiltCharge | null> {
  const customers = view.customers;
  const plans = view.plans;
  const already = new Set(view.charged);
  // Account ids by currency, as the ledger keys them: the partner's, and each customer's points (from its wallet).
  const accountIds = new Map<string, Map<string, string>>();
  const accountsIn = (currency: string) => accountIds.get(currency) ?? accountIds.set(currency, new Map()).get(currency)!;
  for (const a of view.accounts) accountsIn(a.currency).set(accountKey({ code: a.code as AccountCode }), a.id);
  for (const c of customers.values()) if (c.wallet) accountsIn(c.currency).set(accountKey({ code: 'points', customerId: c.customerId }), c.wallet.pointsAccountId);

  // Points left per customer as the records are taken in order; balances after are counted from zero here.
  const usable = new Map<string, bigint>();
  const fromZero = new Map<string, bigint>();
  for (const c of customers.values()) {
    if (!c.wallet) continue;
    const plan = plans.get(c.currency);
    usable.set(c.customerId, plan?.useCreditLimit ? c.wallet.usableMicros : c.wallet.pointsMicros - c.wallet.reservedMicros);
    fromZero.set(c.wallet.pointsAccountId, 0n);
  }
  const peakMicros = new Map<string, bigint>();
  const spent = new Map<string, bigint>();
  const calls = callColumns();
  const entries: EntryInput[] = [];
  // One audit event and one journal entry per caller (API key) and currency in the transaction, or per
  // MAX_REQUEST_IDS_PER_EVENT requests of that caller: every request it sent is named in an event (request ids and
  // record counts), and every call keeps its own points posting.
  type ChargeSet = { ctx: Ctx; id: string; batchId: string; requestIds: string[]; requests: number; records: number; part: Job['part']; byCurrency: Map<string, { entryId: string; postings: PostingInput[]; priceMicros: bigint; taxMicros: bigint; costMicros: bigint; calls: number }> };
  const sets: ChargeSet[] = [];
  const filling = new Map<string, ChargeSet>();
  const setOf = new Map<Job, ChargeSet>();
  for (const job of jobs) {
    const key = principalKey(job.ctx);
    let set = filling.get(key);
    if (!set || (job.ctx.requestId && set.requestIds.length >= MAX_REQUEST_IDS_PER_EVENT)) {
      set = { ctx: job.ctx, id: newId('evt'), batchId: newId('cbt'), requestIds: [], requests: 0, records: 0, part: job.part, byCurrency: new Map() };
      sets.push(set);
      filling.set(key, set);
    }
    if (job.ctx.requestId) set.requestIds.push(job.ctx.requestId);
    set.records += job.received;
    set.requests++;
    setOf.set(job, set);
  }
  jobs.forEach((job) => {
    const set = setOf.get(job)!;
    const byCurrency = set.byCurrency;
    for (const { index, record, destination } of job.valid) {
      const callId = record.callId;
      if (already.has(callId)) {
        job.results[index] = { index, callId, status: 'duplicate', detail: 'This call id was charged before; nothing changed' };
        continue;
      }
      const customer = customers.get(record.customerId);
      if (!customer) {
        job.results[index] = { index, callId, status: 'rejected', code: 'customer_not_found', detail: 'Customer not found', errors: [{ path: 'customerId', message: 'no such customer' }] };
        continue;
      }
      if (customer.status !== 'active' || !isCurrency(customer.currency)) {
        job.results[index] = { index, callId, status: 'rejected', code: 'state_conflict', detail: `Customer is ${customer.status}`, errors: [{ path: 'customerId', message: `customer is ${customer.status}` }] };
        continue;
      }
      const plan = plans.get(customer.currency);
      if (!plan) {
        job.results[index] = { index, callId, status: 'rejected', code: 'rule_violation', detail: `No rate plan in ${customer.currency}`, errors: [{ path: 'customerId', message: `no rate plan in the customer's currency, ${customer.currency}` }] };
        continue;
      }
      const rated = record.direction === 'inbound'
        ? { prefix: null, billedSeconds: 0, priceMicros: 0n, costMicros: 0n, zeroRated: false }
        : rateCall(plan.plan, plan.table, destination, record.durationSeconds);
      if (!rated) {
        job.results[index] = { index, callId, status: 'rejected', code: 'rule_violation', detail: `No rate for destination ${record.to}`, errors: [{ path: 'to', message: 'no rate for this destination' }] };
        continue;
      }
      // What the points pay: the price and its tax, at the partner's rate or 0 for a zero-rated destination (ADR 0032).
      const taxRateBps = callTaxRateBps(rated, view.taxRateBps);
      const taxMicros = callTaxMicros(rated.priceMicros, taxRateBps);
      const chargeMicros = rated.priceMicros + taxMicros;
      const left = usable.get(customer.customerId)!;
      if (chargeMicros > left) {
        job.results[index] = { index, callId, status: 'rejected', code: 'insufficient_points', detail: 'Not enough points for this call' };
        continue;
      }
      usable.set(customer.customerId, left - chargeMicros);
      const spentNow = (spent.get(customer.customerId) ?? 0n) + chargeMicros;
      spent.set(customer.customerId, spentNow);
      if (spentNow > (peakMicros.get(customer.customerId) ?? 0n)) peakMicros.set(customer.customerId, spentNow);
      already.add(callId);
      const callRef = newId('cal');
      let entryId: string | null = null;
      if (rated.priceMicros > 0n || rated.costMicros > 0n) {
        let group = byCurrency.get(customer.currency);
        if (!group) byCurrency.set(customer.currency, (group = { entryId: newId('je'), postings: [], priceMicros: 0n, taxMicros: 0n, costMicros: 0n, calls: 0 }));
        entryId = group.entryId;
        group.calls++;
        group.priceMicros += rated.priceMicros;
        group.taxMicros += taxMicros;
        group.costMicros += rated.costMicros;
        if (chargeMicros > 0n) {
          group.postings.push({
            code: 'points', customerId: customer.customerId, amountMicros: chargeMicros,
            feed: { description: `Call to ${record.to}, ${rated.billedSeconds} s`, causeType: 'call', causeId: callRef },
          });
        }
      }
      calls.id.push(callRef);
      calls.customerId.push(customer.customerId);
      calls.callId.push(callId);
      calls.fromNumber.push(record.from);
      calls.toNumber.push(record.to);
      calls.direction.push(record.direction);
      calls.startedAt.push(record.startedAt);
      calls.durationSeconds.push(record.durationSeconds);
      calls.billedSeconds.push(rated.billedSeconds);
      calls.prefix.push(rated.prefix);
      calls.currency.push(customer.currency);
      calls.priceMicros.push(rated.priceMicros);
      calls.costMicros.push(rated.costMicros);
      calls.taxMicros.push(taxMicros);
      calls.taxRateBps.push(taxRateBps);
      calls.zeroRated.push(rated.zeroRated ? 't' : 'f');
      calls.entryId.push(entryId);
      job.results[index] = {
        index, callId, status: 'charged', callRef, amount: formatDecimal(chargeMicros, customer.currency, 6), tax: formatDecimal(taxMicros, customer.currency, 6),
        taxCategory: rated.zeroRated ? 'zero_rated' : 'standard', currency: customer.currency, billedSeconds: rated.billedSeconds,
      };
    }
  });
  const audits = sets.map((set) => ({
    ctx: set.ctx, id: set.id,
    input: {
      app: 'usage', action: 'usage.calls_ingested', targetType: 'call_batch', targetId: set.batchId,
      changes: {
        records: { after: set.records }, requests: { after: set.requests }, requestIds: { after: set.requestIds },
        ...(set.part ? { part: { after: `${set.part.index} of ${set.part.of}` } } : {}),
      },
    },
  }));
  // The partner's side, summed per caller and currency: revenue for the price, the tax owed, the platform's cost.
  for (const set of sets) {
    for (const [currency, group] of set.byCurrency) {
      const postings = group.postings;
      if (group.priceMicros > 0n) postings.push({ code: 'revenue:usage', amountMicros: -group.priceMicros });
      if (group.taxMicros > 0n) postings.push({ code: 'tax_payable', amountMicros: -group.taxMicros });
      if (group.costMicros > 0n) postings.push({ code: 'cost:usage', amountMicros: group.costMicros }, { code: 'platform_payable', amountMicros: -group.costMicros });
      const customerIds = new Set(postings.filter((p) => p.customerId).map((p) => p.customerId));
      entries.push({
        entryId: group.entryId, partnerId, currency, customerId: customerIds.size === 1 ? [...customerIds][0]! : null,
        kind: 'call_charge', causeType: 'call_batch', causeId: set.batchId,
        description: group.calls === 1 ? (postings[0]?.feed?.description ?? 'Call') : `${group.calls} calls`, auditEventId: set.id, postings,
      });
    }
  }

  // 3. The statement, in one piece: the calls (their unique call ids are the last word on duplicates) and the ledger's
  //    entries and postings (the postings' statement trigger checks them and moves the balances when the whole
  //    statement is done), and the audit events, queued to join the chain at commit (takeRecordedAuditInsert).
  const byCurrency = new Map<string, EntryInput[]>();
  for (const e of entries) byCurrency.set(e.currency, [...(byCurrency.get(e.currency) ?? []), e]);
  if (beforeRead) {
    // Every account must be known: opening one is a query, and the connection is busy with the wallets' lock.
    for (const [currency, group] of byCurrency) {
      const known = accountIds.get(currency);
      for (const e of group) for (const p of e.postings) if (!known?.has(accountKey(p.customerId ? { code: p.code, customerId: p.customerId } : { code: p.code }))) return null;
    }
  }
  const ledgerWrites: Array<RawBuilder<unknown>> = [];
  const balancesAfter: BuiltCharge['balancesAfter'] = [];
  for (const [currency, group] of byCurrency) {
    const written = await entryWrites(trx, group, { lockedBalances: fromZero, accountIds: accountIds.get(currency), balancesAfter: false });
    const after = written.balancesAfter;
    assert(after.values.every((v, i) => v === null || fromZero.has(after.accountIds[i]!)), 'every balance after is counted from zero');
    balancesAfter.push(after);
    const n = ledgerWrites.length / 2;
    ledgerWrites.push(sql`${sql.id(`entries_${n}`)} as (${written.entries})`, sql`${sql.id(`postings_${n}`)} as (${written.postings})`);
  }
  // A charge of no call has nothing to send early; and its events, written at commit from the queue, must be recorded
  // once: by the build after the read.
  if (beforeRead && calls.id.length === 0) return null;
  await recordAudits(trx, audits);
  if (calls.id.length === 0) {
    assert(ledgerWrites.length === 0, 'no entry without a charged call');
    return { statement: null, calls: 0, balancesAfter, peakMicros };
  }
  // The audit events ride on the same statement (queued, they join the chain at commit).
  const auditInsert = takeRecordedAuditInsert(trx);
  if (auditInsert) ledgerWrites.push(sql`audit_queued as (${auditInsert})`);
  const insert = sql<{ n: string }>`
    with inserted as (
      insert into usage_calls (id, partner_id, customer_id, call_id, from_number, to_number, direction, started_at, duration_seconds,
                               billed_seconds, prefix, currency, price_micros, cost_micros, tax_micros, tax_rate_bps, zero_rated, entry_id)
      select id, ${partnerId}, customer_id, call_id, from_number, to_number, direction, started_at, duration_seconds,
             billed_seconds, prefix, currency, price_micros, cost_micros, tax_micros, tax_rate_bps, zero_rated, entry_id
        from unnest(${pgArray(calls.id)}::text[], ${pgArray(calls.customerId)}::text[], ${pgArray(calls.callId)}::text[], ${pgArray(calls.fromNumber)}::text[],
                    ${pgArray(calls.toNumber)}::text[], ${pgArray(calls.direction)}::text[], ${pgArray(calls.startedAt)}::timestamptz[], ${pgArray(calls.durationSeconds)}::int[],
                    ${pgArray(calls.billedSeconds)}::int[], ${pgArray(calls.prefix)}::text[], ${pgArray(calls.currency)}::text[], ${pgArray(calls.priceMicros)}::bigint[],
                    ${pgArray(calls.costMicros)}::bigint[], ${pgArray(calls.taxMicros)}::bigint[], ${pgArray(calls.taxRateBps)}::int[],
                    ${pgArray(calls.zeroRated)}::boolean[], ${pgArray(calls.entryId)}::text[])
          as c(id, customer_id, call_id, from_number, to_number, direction, started_at, duration_seconds, billed_seconds, prefix,
               currency, price_micros, cost_micros, tax_micros, tax_rate_bps, zero_rated, entry_id)
       -- One order of call ids for every transaction: two that insert the same ids (two servers, replays) then
       -- wait for each other in turn, never in a circle (a deadlock). A plain insert, not "on conflict do nothing":
       -- duplicates were found before, and a speculative insertion per row cost batches ~10% of their time.
       -- Byte order ("C"): the same for every transaction whatever the database's locale, and no strcoll per comparison.
       order by c.call_id collate "C"
      returning 1)${ledgerWrites.length > 0 ? sql`, ${sql.join(ledgerWrites)}` : sql``}
    select count(*)::text as n from inserted`;
  return { statement: insert.compile(trx), calls: calls.id.length, balancesAfter, peakMicros };
}

/**
 * Send a built charge: each posting's balance after is the locked balance of its account plus what the postings before
 * it in this transaction moved (counted from zero by the build). Answers nothing; every call must be inserted.
 */
async function writeCharge(trx: Trx, built: BuiltCharge, customers: ReadonlyMap<string, CustomerWallet>): Promise<void> {
  const compiled = built.statement;
  if (!compiled) return;
  const locked = new Map<string, bigint>();
  for (const c of customers.values()) if (c.wallet) locked.set(c.wallet.pointsAccountId, -c.wallet.pointsMicros);
  const parameters = [...compiled.parameters];
  for (const b of built.balancesAfter) {
    const at = parameters.indexOf(b.param);
    assert(at >= 0, "the balances after are one of the statement's parameters");
    parameters[at] = pgArray(b.values.map((v, i) => {
      if (v === null) return null;
      const balance = locked.get(b.accountIds[i]!);
      assert(balance !== undefined, 'every customer account posted to is locked');
      return balance + v;
    }));
  }
  let inserted: number;
  try {
    inserted = Number((await trx.executeQuery<{ n: string }>({ ...compiled, parameters })).rows[0]!.n);
  } catch (err) {
    // Another process charged one of these call ids meanwhile (its insert committed first): start over, and the retry
    // sees it as a duplicate; the rollback takes back the entries written beside them.
    if (isUniqueViolation(err) && (err as { constraint?: unknown }).constraint === CALL_ID_KEY) throw new ConcurrentDuplicateError();
    throw err;
  }
  assert(inserted === built.calls, 'every call charged is inserted');
}

/** Customers charged for the first time have no wallet yet: opened, then the charge is tried again. */
class MissingWalletsError extends Error {
  readonly wallets: Array<{ customerId: string; currency: string }>;
  constructor(wallets: Array<{ customerId: string; currency: string }>) {
    super('wallets to open first');
    this.wallets = wallets;
  }
}

/** The calls' unique key (partner, call id): the last word on duplicates. */
export const CALL_ID_KEY = 'usage_calls_partner_id_call_id_key';

export class ConcurrentDuplicateError extends Error {
  constructor() {
    super('a call id of this batch was charged concurrently');
  }
}
