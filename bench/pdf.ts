// Invoice PDF benchmark (issue 5 §5): invoices rendered per second on one core (target >= 100/s for a 20-line invoice).
//
//   npm run bench:pdf            (standalone; also the last step of `npm run bench`)
//
// What it does (no database, no network; one thread):
//  1. Builds realistic invoice details in memory with the invoice arithmetic (src/invoices/invoice-totals.ts): 20 lines
//     (awkward quantities, six-decimal prices, discounts, 9% tax, two payments), and a 200-line one.
//  2. Warms up, then renders BENCH_PDF_COUNT (500) 20-line invoices one after another in a single-threaded loop, timing each
//     render (p50/p99 ms) and the whole loop (invoices/s of wall time, and per CPU-second of this process: the figure "per
//     core", which other programs on the machine do not lower, and the one the target is judged on; on an idle machine the two
//     agree); the same with a PNG logo; then the 200-line invoice.
//  3. Reads one PDF of each kind back (src/invoices/pdf/pdf-text.ts) and checks its total and page count, so a fast but wrong
//     PDF fails the bench.
//  4. Prints a table (target 100/s: pass/miss) and writes bench/pdf-results.json.
//
// Env: BENCH_PDF_COUNT (500) BENCH_PDF_WARMUP (100) BENCH_PDF_LONG_COUNT (50: renders of the 200-line invoice)
//      BENCH_OUT (bench/pdf-results.json)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { formatDecimal, parseDecimal } from '../src/money/money.ts';
import { computeInvoiceTotals } from '../src/invoices/invoice-totals.ts';
import type { InvoiceDetail, InvoiceLogo } from '../src/invoices/invoice-view-types.ts';
import { pdfText } from '../src/invoices/pdf/pdf-text.ts';
import { renderInvoicePdf } from '../src/invoices/pdf/render-invoice-pdf.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const TARGET_PER_SECOND = 100;

interface PdfBenchOptions {
  count: number;
  warmup: number;
  longCount: number;
  out: string;
}

function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): PdfBenchOptions {
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
  return {
    count: int('BENCH_PDF_COUNT', 500, 10, 100_000),
    warmup: int('BENCH_PDF_WARMUP', 100, 0, 10_000),
    longCount: int('BENCH_PDF_LONG_COUNT', 50, 1, 10_000),
    out: env.BENCH_OUT ?? path.join(REPO, 'bench', 'pdf-results.json'),
  };
}

const QUANTITIES = ['1.5', '0.333', '2', '7', '0.25', '12', '3.125', '1'];
const PRICES = ['12.345', '10', '0.205445', '49.90', '199', '0.015', '1234.5', '7.777777'];

function benchDetail(lineCount: number): InvoiceDetail {
  const currency = 'SGD';
  const micros = (s: string) => parseDecimal(s, currency, 6)!;
  const specs = Array.from({ length: lineCount }, (_, i) => ({
    description: i % 6 === 0 ? `Cloud PBX seat licence (monthly) for the support team at site ${i + 1}, with call recording and wallboard access`
      : `Virtual number +65 6${String(1000000 + i * 37)}`,
    quantity: QUANTITIES[i % QUANTITIES.length]!,
    unitPrice: PRICES[i % PRICES.length]!,
    // A discount on some lines whose gross is well above it.
    discount: i % 5 === 1 && [1, 3, 4, 6].includes(i % 8) ? '0.50' : '0',
  }));
  const totals = computeInvoiceTotals(currency, specs.map((s) => ({
    quantity: s.quantity, unitAmountMicros: micros(s.unitPrice), discountMicros: micros(s.discount), taxCategory: 'standard' as const,
  })), 900);
  const show = (m: bigint) => formatDecimal(m, currency);
  const paid = 30_000_000n + 20_000_000n;
  return {
    id: 'inv_bench0001', number: 'INV-2026-004217', type: 'purchase', status: 'partially_paid', overdue: false, informational: false,
    customer: { id: 'cus_bench0001', name: 'Acme Pte Ltd' }, currency,
    subtotal: show(totals.subtotalMicros), discount: show(totals.discountMicros), tax: show(totals.taxMicros), total: show(totals.totalMicros),
    amountPaid: show(paid), amountCredited: '0.00', amountRefunded: '0.00', amountCreditedToPoints: '0.00', amountDue: show(totals.totalMicros - paid),
    issuedAt: '2026-11-02T03:00:00Z', dueAt: '2026-11-16T03:00:00Z', paidAt: null, voidedAt: null, createdAt: '2026-11-01T10:00:00Z',
    periodStart: null, periodEnd: null,
    lines: totals.lines.map((l, i) => ({
      position: i + 1, kind: 'product', description: specs[i]!.description, productId: null, variantId: null, quantity: l.quantity,
      unitPrice: formatDecimal(l.unitAmountMicros, currency), gross: show(l.grossMicros), discount: show(l.discountMicros), amount: show(l.amountMicros),
      taxCategory: l.taxCategory, taxRateBps: l.taxRateBps, tax: show(l.taxMicros),
    })),
    payments: [
      { id: 'ipy_bench01', source: 'points', amount: '30.00', paidAt: '2026-11-05T08:30:00Z', reference: null, paymentId: null },
      { id: 'ipy_bench02', source: 'card', amount: '20.00', paidAt: '2026-11-05T08:30:02Z', reference: 'ch_sandbox_4f9a2c', paymentId: null },
    ],
    billTo: { name: 'Acme Pte Ltd', email: 'accounts@acme.test', phone: '+65 6123 4567', address: '1 Raffles Place\n#20-01 One Raffles Place\nSingapore 048616' },
    notes: 'Thank you for your business.', voidReason: null, createdBy: null,
    seller: {
      name: 'Demo Telecom', legalName: 'Demo Telecom Pte Ltd', address: '10 Anson Road\n#05-01 International Plaza\nSingapore 079903',
      taxId: 'M2-1234567-8', email: 'billing@demo-telecom.test', paymentInstructions: 'Bank transfer to DBS 012-345678-9, quoting the invoice number.', hasLogo: true,
    },
    statement: null,
  };
}

/** A 240 x 100 RGB PNG (a gradient), the size of a typical small logo. */
function benchLogo(): InvoiceLogo {
  const width = 240;
  const height = 100;
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = x & 0xff;
      raw[row + 2 + x * 3] = (y * 2) & 0xff;
      raw[row + 3 + x * 3] = 160;
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const data = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
  return { data, type: 'image/png' };
}

interface RunResult {
  what: string;
  lines: number;
  renders: number;
  perSecondWall: number;
  perCpuSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  bytes: number;
  pages: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function measure(what: string, detail: InvoiceDetail, logo: InvoiceLogo | null, renders: number, warmup: number): Promise<RunResult> {
  const generatedAt = new Date('2026-11-30T12:00:00Z');
  for (let i = 0; i < warmup; i++) await renderInvoicePdf(detail, { logo, generatedAt });
  const times: number[] = [];
  let bytes = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < renders; i++) {
    const s = performance.now();
    const pdf = await renderInvoicePdf(detail, { logo, generatedAt });
    times.push(performance.now() - s);
    bytes = pdf.length;
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  // Read one back: the right total, the expected pages.
  const pdf = await renderInvoicePdf(detail, { logo, generatedAt });
  const read = await pdfText(pdf);
  const expected = `Total ${detail.currency} ${detail.total.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}`;
  if (!read.text.split('\n').includes(expected)) throw new Error(`${what}: the PDF read back lacks "${expected}"`);
  if (!read.text.includes(`Page ${read.pages} of ${read.pages}`)) throw new Error(`${what}: no "Page ${read.pages} of ${read.pages}" in the PDF`);
  times.sort((a, b) => a - b);
  return {
    what, lines: detail.lines.length, renders,
    perSecondWall: Math.round(renders / wallSeconds),
    perCpuSecond: Math.round(renders / cpuSeconds),
    p50Ms: Number(percentile(times, 50).toFixed(2)),
    p99Ms: Number(percentile(times, 99).toFixed(2)),
    maxMs: Number(times.at(-1)!.toFixed(2)),
    bytes, pages: read.pages,
  };
}

function renderTable(rows: RunResult[]): string {
  const cells = [
    ['invoice', 'renders', 'invoices/s (wall)', 'invoices/CPU-s', 'p50 ms', 'p99 ms', 'size', 'pages', `target ${TARGET_PER_SECOND}/s per core`],
    ...rows.map((r) => [
      r.what, String(r.renders), String(r.perSecondWall), String(r.perCpuSecond), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2),
      `${(r.bytes / 1024).toFixed(1)} KiB`, String(r.pages), r.lines === 20 ? (r.perCpuSecond >= TARGET_PER_SECOND ? 'PASS' : 'MISS') : '—',
    ]),
  ];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(cells[0]!), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.slice(1).map(line)].join('\n');
}

export async function runPdfBench(o: PdfBenchOptions = optionsFromEnv(), log: (l: string) => void = (l) => console.log(l)): Promise<Record<string, unknown>> {
  const loadBefore = os.loadavg()[0]!;
  log(`pdf bench: ${o.count} renders of a 20-line invoice (after ${o.warmup} warm-up), one thread; ${os.availableParallelism()} cores (nproc), `
    + `load average ${loadBefore.toFixed(1)}; Node ${process.version}`);
  const twenty = benchDetail(20);
  const long = benchDetail(200);
  const rows = [
    await measure('20 lines', twenty, null, o.count, o.warmup),
    await measure('20 lines + logo', twenty, benchLogo(), o.count, Math.min(o.warmup, 50)),
    await measure('200 lines', long, null, o.longCount, Math.min(o.warmup, 10)),
  ];
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  const loadAfter = os.loadavg()[0]!;
  const main = rows[0]!;
  log('');
  log(renderTable(rows));
  log('');
  log(`peak RSS ${peakRssMb} MB; machine load average ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)} on ${os.availableParallelism()} cores `
    + '(invoices/CPU-s counts only this process\'s CPU time: the per-core figure when the machine is shared)');
  const summary = {
    measuredAt: new Date().toISOString(),
    cores: os.availableParallelism(),
    node: process.version,
    loadAverage1m: { before: Number(loadBefore.toFixed(2)), after: Number(loadAfter.toFixed(2)) },
    targetPerSecond: TARGET_PER_SECOND,
    target: main.perCpuSecond >= TARGET_PER_SECOND ? 'pass' : 'miss',
    targetJudgedOn: 'invoices per CPU-second of this one-threaded process (per core)',
    peakRssMb,
    runs: rows,
  };
  fs.writeFileSync(o.out, `${JSON.stringify(summary, null, 2)}\n`);
  log(`written: ${path.relative(REPO, o.out)}`);
  return summary;
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  try {
    await runPdfBench();
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  }
}
