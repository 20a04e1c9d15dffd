// Bank statement import benchmark (issue 6 §7): upload, parse and match a BENCH_BANK_LINES-line statement (10,000) against
// BENCH_BANK_INVOICES open invoices (50,000) of BENCH_BANK_CUSTOMERS customers (5,000), through the use case the API calls
// (the app role under row-level security, partner scope): total time against the 10 s target; then "accept all confident
// suggestions" (each line its own transaction: record the payment, allocate it) for up to BENCH_BANK_ACCEPT_SECONDS, as a rate.
//
//   npm run bench:bank        (or: npm exec -- node bench/bank-import.ts)
//   BENCH_SCALE=0.05 npm run bench:bank     (a small run: 2,500 invoices, 250 customers, 500 lines)
//
// 1. An embedded PostgreSQL in a fresh temp dir under /tmp (port BENCH_BANK_PG_PORT, 54399), migrated and demo-seeded.
// 2. Bulk SQL: the customers, their open Purchase invoices (numbers BB-2026-nnnnnn, amounts 1000.00 + n cents: all distinct),
//    customer k owning invoices k, k + C, k + 2C ... (oldest first), and one issue entry per customer (Dr receivable:{c} ·
//    Cr revenue:one_time, the sum of its invoices) so the books hold (checked before and after). Triggers are skipped for the
//    load (session_replication_role = replica) and their work done by hand (account balances).
// 3. The statement (CSV, header line): 40 % references naming an invoice (paid in full), 25 % exact amounts of one invoice
//    (no reference), 10 % the sum of a customer's two oldest invoices, 20 % unmatched amounts, 5 % debits.
// 4. uploadStatement: parse + duplicate check + insert + match, timed (BENCH_BANK_RUNS uploads of fresh statements: a
//    repeat of the same file would be all duplicates), p50 against the target; then acceptConfident batches on the last one.
// Results in bench/bank-import-results.json.
//
// Env: BENCH_SCALE (1: multiplies the three sizes) BENCH_BANK_INVOICES (50000) BENCH_BANK_CUSTOMERS (5000) BENCH_BANK_LINES (10000)
//      BENCH_BANK_PG_PORT (54399) BENCH_BANK_RUNS (3) BENCH_BANK_ACCEPT_SECONDS (60) BENCH_MAX_MINUTES (10: hard stop)
//      BENCH_BANK_OUT (bench/bank-import-results.json)
import { guardRun, removeLeftovers } from './bench-kit.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { resolveAccounts } from '../src/ledger/accounts.ts';
import { checkLedger } from '../src/ledger/check-ledger.ts';
import { openDatabase, type DatabaseHandle, type Db } from '../src/platform/database.ts';
import { startEmbeddedPostgres, stopServerOnDataDir, type EmbeddedDatabase } from '../src/platform/embedded-postgres.ts';
import { migrateToLatest } from '../src/platform/migrate.ts';
import { seedDemo } from '../src/platform/seed.ts';
import { loadConfig } from '../src/platform/config.ts';
import { systemClock } from '../src/platform/clock.ts';
import type { Ctx } from '../src/platform/context.ts';
import { addDays, utcDay } from '../src/topup/dates.ts';
import { uploadStatement } from '../src/bank-statements/upload-statement.ts';
import { acceptConfident } from '../src/bank-statements/decide-line.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const TMP_PREFIX = 'folio-bank-bench-';
const TARGET_MS = 10_000;

function envNumber(name: string, fallback: number, min: number, max: number, integer = true): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw.replaceAll('_', ''));
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}, got "${raw}"`);
  return v;
}

const scale = envNumber('BENCH_SCALE', 1, 0.001, 10, false);
const o = {
  invoices: envNumber('BENCH_BANK_INVOICES', Math.max(20, Math.round(50_000 * scale)), 20, 10_000_000),
  customers: envNumber('BENCH_BANK_CUSTOMERS', Math.max(5, Math.round(5_000 * scale)), 5, 1_000_000),
  lines: envNumber('BENCH_BANK_LINES', Math.max(20, Math.round(10_000 * scale)), 20, 20_000),
  pgPort: envNumber('BENCH_BANK_PG_PORT', 54399, 1024, 65535),
  runs: envNumber('BENCH_BANK_RUNS', 3, 1, 20),
  acceptSeconds: envNumber('BENCH_BANK_ACCEPT_SECONDS', 60, 1, 3600),
  maxMinutes: envNumber('BENCH_MAX_MINUTES', 10, 1, 240),
  out: process.env.BENCH_BANK_OUT ?? path.join(REPO, 'bench', 'bank-import-results.json'),
};
const log = (line: string) => console.log(line);
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Invoice n (1..I): its number and amount (1000.00 + n cents, so every amount due is distinct). */
const invoiceNumber = (n: number) => `BB-2026-${String(n).padStart(6, '0')}`;
const invoiceCents = (n: number) => 100_000 + n;
const decimal = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

/** Customers, open invoices and their receivables, in bulk (see the header). */
async function load(owner: Db, partnerId: string): Promise<void> {
  const C = o.customers;
  const I = o.invoices;
  const oneTime = (await owner.transaction().execute((trx) => resolveAccounts(trx, partnerId, 'SGD', [{ code: 'revenue:one_time' }]))).get('revenue:one_time|')!;
  await owner.transaction().execute(async (trx) => {
    await sql`set local session_replication_role = replica`.execute(trx);
    await sql`insert into customers (id, partner_id, name, currency)
      select 'cus_bbench' || lpad(k::text, 10, '0'), ${partnerId}, 'Bank Bench Customer ' || lpad(k::text, 6, '0'), 'SGD' from generate_series(1, ${C}::int) k`.execute(trx);
    await sql`insert into invoices (id, partner_id, customer_id, type, status, number, currency, subtotal_micros, tax_micros, total_micros,
        amount_due_micros, issued_at, due_at, created_at, updated_at)
      select 'inv_bbench' || lpad(n::text, 12, '0'), ${partnerId}, 'cus_bbench' || lpad(((n - 1) % ${C}::int + 1)::text, 10, '0'), 'purchase',
        'awaiting_payment', 'BB-2026-' || lpad(n::text, 6, '0'), 'SGD', (100000 + n)::bigint * 10000, 0, (100000 + n)::bigint * 10000,
        (100000 + n)::bigint * 10000, ts, ts + interval '30 days', ts, ts
      from (select n, now() - interval '90 days' + (n / ${C}::int) * interval '1 day' as ts from generate_series(1, ${I}::int) n) x`.execute(trx);
    await sql`insert into ledger_accounts (id, partner_id, currency, code, customer_id, kind, created_at)
      select 'acc_bbreceivable' || lpad(k::text, 10, '0'), ${partnerId}, 'SGD', 'receivable', 'cus_bbench' || lpad(k::text, 10, '0'), 'asset', now() - interval '100 days'
      from generate_series(1, ${C}::int) k`.execute(trx);
    const due = sql`select customer_id, sum(amount_due_micros) as total from invoices where partner_id = ${partnerId} and id like 'inv_bbench%' group by customer_id`;
    await sql`insert into journal_entries (id, partner_id, currency, customer_id, kind, cause_type, cause_id, description, audit_event_id, posted_at)
      select 'je_bbench' || substr(customer_id, 11), ${partnerId}, 'SGD', customer_id, 'invoice_issued', 'bench', 'bench', 'Bench invoices', null, now() - interval '90 days'
      from (${due}) d`.execute(trx);
    await sql`insert into postings (entry_id, partner_id, currency, account_id, customer_id, amount_micros, posted_at)
      select 'je_bbench' || substr(d.customer_id, 11), ${partnerId}, 'SGD', case j when 1 then 'acc_bbreceivable' || substr(d.customer_id, 11) else ${oneTime} end,
        case j when 1 then d.customer_id end, case j when 1 then d.total else -d.total end, now() - interval '90 days'
      from (${due}) d cross join generate_series(1, 2) j`.execute(trx);
    // What the skipped trigger does: each posting's balance after it, and the accounts' balances.
    await sql`update postings p set balance_after_micros = x.after
      from (select id, sum(amount_micros) over (partition by account_id order by id) as after from postings where partner_id = ${partnerId}) x
      where p.id = x.id and p.partner_id = ${partnerId}`.execute(trx);
    await sql`update ledger_accounts a set balance_micros = s.total
      from (select account_id, sum(amount_micros) as total from postings where partner_id = ${partnerId} group by account_id) s
      where a.id = s.account_id and a.partner_id = ${partnerId}`.execute(trx);
  });
}

type Kind = 'reference' | 'amount' | 'combination' | 'unmatched' | 'debit';

/** A statement of o.lines lines (see the header); `run` varies references and amounts so that every run is new lines. */
function statement(run: number, today: string): { csv: string; kinds: Record<Kind, number> } {
  const C = o.customers;
  const I = o.invoices;
  const kinds: Record<Kind, number> = { reference: 0, amount: 0, combination: 0, unmatched: 0, debit: 0 };
  const out = ['Date,Description,Amount,Payer'];
  for (let i = 0; i < o.lines; i++) {
    const slot = i % 20;
    const day = addDays(today, -(i % 28));
    const r = i + run * o.lines;
    if (slot < 8) {
      const n = ((r * 7919) % I) + 1;
      out.push(`${day},"Payment ${invoiceNumber(n)} ref ${r}",${decimal(invoiceCents(n))},Payer ${r}`);
      kinds.reference += 1;
    } else if (slot < 13) {
      const n = ((r * 104_729 + 17) % I) + 1;
      out.push(`${day},"TRF ${r} GIRO",${decimal(invoiceCents(n))},Payer ${r}`);
      kinds.amount += 1;
    } else if (slot < 15 && I >= 2 * C) {
      const k = ((r * 31) % C) + 1;
      out.push(`${day},"Settlement ${r}","${decimal(invoiceCents(k) + invoiceCents(k + C)).replace(/\B(?=(\d{3})+(?!\d))/, ',')}",Payer ${r}`);
      kinds.combination += 1;
    } else if (slot < 19) {
      out.push(`${day},"Misc ${r}",${decimal(700 + (r % 90_000))},Payer ${r}`);
      kinds.unmatched += 1;
    } else {
      out.push(`${day},"Card fee ${r}",-50.00,`);
      kinds.debit += 1;
    }
  }
  return { csv: `${out.join('\n')}\n`, kinds };
}

async function main(): Promise<void> {
  let embedded: EmbeddedDatabase | null = null;
  let owner: DatabaseHandle | null = null;
  let app: DatabaseHandle | null = null;
  let dir: string | null = null;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    if (embedded) await Promise.race([embedded.stop(), sleep(20_000)]).catch(() => {});
    await Promise.race([Promise.all([app?.close(), owner?.close()]), sleep(5_000)]).catch(() => {});
    if (dir) {
      await stopServerOnDataDir(path.join(dir, 'pg'), log);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  // Hard bound on the whole run, and a clean stop on Ctrl-C.
  const release = guardRun('bank import bench', o.maxMinutes, cleanup, log);

  const t0 = Date.now();
  try {
    log(`bank import bench: ${fmtInt(o.lines)}-line statements against ${fmtInt(o.invoices)} open invoices of ${fmtInt(o.customers)} customers, ${os.availableParallelism()} cores, PostgreSQL port ${o.pgPort}`);
    await removeLeftovers(TMP_PREFIX, o.pgPort, log);
    dir = fs.mkdtempSync(path.join('/tmp', TMP_PREFIX));
    fs.chmodSync(dir, 0o755);
    embedded = await startEmbeddedPostgres({ dataDir: dir, port: o.pgPort, log: () => {} });
    owner = openDatabase(embedded.url, { appRole: false, max: 3 });
    await migrateToLatest(owner);
    await seedDemo(owner.db, 'folio-demo-2026', { activity: false });
    const partnerId = (await owner.db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
    const financeId = (await owner.db.selectFrom('users').select('id').where('email', '=', 'finance@demo.test').executeTakeFirstOrThrow()).id;
    await load(owner.db, partnerId);
    await sql`vacuum (analyze) invoices, customers, ledger_accounts`.execute(owner.db);
    const problemsBefore = await checkLedger(owner.db, partnerId);
    if (problemsBefore.length > 0) throw new Error(`the loaded books do not hold: ${JSON.stringify(problemsBefore.slice(0, 5))}`);
    log(`loaded in ${((Date.now() - t0) / 1000).toFixed(0)} s; the books check out`);

    app = openDatabase(embedded.url, { appRole: true, max: 4 });
    const ctx: Ctx = {
      db: app.db, config: loadConfig({ FOLIO_PUBLIC_URL: 'http://localhost:3000' }), log: pino({ level: 'warn' }), clock: systemClock,
      principal: { kind: 'staff', userId: financeId, partnerId, email: 'finance@demo.test', name: 'Fiona Finance', apps: new Set(['finance']), sessionId: 'ses_bench' },
      requestId: null, ip: null, userAgent: null,
    };
    const today = utcDay(new Date());
    const results: Record<string, unknown> = {};
    const writeOut = () => fs.writeFileSync(o.out, `${JSON.stringify({
      when: new Date().toISOString(), cores: os.availableParallelism(),
      size: { lines: o.lines, openInvoices: o.invoices, customers: o.customers, scale }, targetMs: TARGET_MS, ...results,
    }, null, 2)}\n`);

    const samples: number[] = [];
    let lastId = '';
    for (let run = 0; run < o.runs; run++) {
      const { csv, kinds } = statement(run, today);
      const s = performance.now();
      const view = await uploadStatement(ctx, { fileName: `bench-${run}.csv`, csv });
      const ms = performance.now() - s;
      samples.push(ms);
      lastId = view.id;
      const byKind = (await owner.db.selectFrom('bankStatementLines').select(['matchKind', 'confidence', sql<number>`count(*)::int`.as('n')])
        .where('statementId', '=', view.id).groupBy(['matchKind', 'confidence']).orderBy('matchKind').orderBy('confidence').execute())
        .map((r) => `${r.matchKind ?? 'none'}/${r.confidence}: ${r.n}`).join(', ');
      log(`  upload + parse + match #${run + 1}: ${fmtInt(ms)} ms  ${ms < TARGET_MS ? 'PASS' : 'MISS'}  (${(csv.length / 1024).toFixed(0)} KiB; written ${JSON.stringify(kinds)}; counts ${JSON.stringify(view.counts)}; matched ${byKind})`);
      results.upload = { runs: samples.length, samplesMs: samples.map((x) => round(x)), lastCounts: view.counts, written: kinds, matched: byKind };
      writeOut();
    }
    const sorted = [...samples].sort((a, b) => a - b);
    const p50 = round(sorted[Math.ceil(sorted.length / 2) - 1]!);
    log(`  upload + parse + match p50 ${fmtInt(p50)} ms (target ${fmtInt(TARGET_MS)} ms): ${p50 < TARGET_MS ? 'PASS' : 'MISS'}`);
    results.upload = { ...(results.upload as object), p50Ms: p50, pass: p50 < TARGET_MS };
    writeOut();

    // Accept the confident suggestions of the last statement, in server batches, for up to acceptSeconds.
    const a0 = performance.now();
    let accepted = 0;
    let failed = 0;
    let remaining = 0;
    for (;;) {
      const r = await acceptConfident(ctx, lastId, { limit: 100 });
      accepted += r.accepted;
      failed += r.failed.length;
      remaining = r.remaining;
      if (r.accepted === 0 || remaining === 0 || (performance.now() - a0) / 1000 > o.acceptSeconds) break;
    }
    const seconds = (performance.now() - a0) / 1000;
    const rate = accepted / seconds;
    log(`  accept confident: ${fmtInt(accepted)} lines accepted (each: payment recorded + allocated) in ${seconds.toFixed(1)} s = ${rate.toFixed(1)} lines/s; ${failed} failed, ${fmtInt(remaining)} still waiting`);
    const problems = await checkLedger(owner.db, partnerId);
    const payments = (await owner.db.selectFrom('payments').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
    log(`  books after: ${problems.length === 0 ? 'check out' : `${problems.length} problem(s): ${JSON.stringify(problems.slice(0, 3))}`}; ${fmtInt(payments)} payments`);
    results.acceptConfident = { accepted, failed, remaining, seconds: round(seconds), linesPerSecond: round(rate), ledgerProblems: problems.length };
    writeOut();
    if (problems.length > 0) process.exitCode = 1;
    log(`\nwritten ${path.relative(REPO, o.out)}; total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    release();
    await cleanup();
  }
}

await main();
