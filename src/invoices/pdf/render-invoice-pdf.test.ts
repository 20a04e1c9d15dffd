import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { formatDecimal, parseDecimal, type Currency } from '../../money/money.ts';
import { computeInvoiceTotals, type TotalsLineInput } from '../invoice-totals.ts';
import type { InvoiceDetail, InvoiceLogo, InvoicePaymentView, StatementView } from '../invoice-view-types.ts';
import { pdfText } from './pdf-text.ts';
import { groupDigits, pdfSafe } from './pdf-layout.ts';
import { ratePercent, renderInvoicePdf, taxLabel } from './render-invoice-pdf.ts';

// ---------------------------------------------------------------------------------------------------------------------------
// Realistic details: the figures come from the invoice arithmetic (invoice-totals.ts), as the screen's do.

interface LineSpec {
  description: string;
  quantity: string;
  unitPrice: string;
  discount?: string;
  taxCategory?: TotalsLineInput['taxCategory'];
}

interface DetailSpec {
  currency?: Currency;
  type?: InvoiceDetail['type'];
  status?: InvoiceDetail['status'];
  number?: string | null;
  taxRateBps?: number;
  lines: LineSpec[];
  payments?: InvoicePaymentView[];
  amountCredited?: string;
  amountRefunded?: string;
  amountCreditedToPoints?: string;
  overdue?: boolean;
  informational?: boolean;
  statement?: StatementView | null;
  voidReason?: string | null;
  notes?: string | null;
  billToName?: string;
  seller?: Partial<InvoiceDetail['seller']>;
}

function buildDetail(spec: DetailSpec): InvoiceDetail {
  const currency = spec.currency ?? 'SGD';
  const rate = spec.type === 'top_up' ? 0 : (spec.taxRateBps ?? 900);
  const micros = (s: string) => parseDecimal(s, currency, 6)!;
  const totals = computeInvoiceTotals(currency, spec.lines.map((l) => ({
    quantity: l.quantity,
    unitAmountMicros: micros(l.unitPrice),
    discountMicros: micros(l.discount ?? '0'),
    taxCategory: spec.type === 'top_up' ? 'exempt' : (l.taxCategory ?? 'standard'),
  })), rate);
  const show = (m: bigint) => formatDecimal(m, currency);
  const paid = (spec.payments ?? []).reduce((sum, p) => sum + micros(p.amount), 0n);
  const credited = micros(spec.amountCredited ?? '0');
  const due = spec.status === 'void' || spec.informational ? 0n : totals.totalMicros - paid - credited;
  const number = spec.number === undefined ? 'INV-2026-000123' : spec.number;
  return {
    id: 'inv_test0001',
    number,
    type: spec.type ?? 'purchase',
    status: spec.status ?? 'awaiting_payment',
    overdue: spec.overdue ?? false,
    informational: spec.informational ?? false,
    customer: { id: 'cus_acme0001', name: spec.billToName ?? 'Acme Pte Ltd' },
    currency,
    subtotal: show(totals.subtotalMicros),
    discount: show(totals.discountMicros),
    tax: show(totals.taxMicros),
    total: show(totals.totalMicros),
    amountPaid: show(paid),
    amountCredited: show(credited),
    amountRefunded: show(micros(spec.amountRefunded ?? '0')),
    amountCreditedToPoints: show(micros(spec.amountCreditedToPoints ?? '0')),
    amountDue: show(due),
    issuedAt: number === null ? null : '2026-11-02T03:00:00Z',
    dueAt: number === null ? null : '2026-11-16T03:00:00Z',
    paidAt: spec.status === 'paid' ? '2026-11-05T08:30:00Z' : null,
    voidedAt: spec.status === 'void' ? '2026-11-03T09:00:00Z' : null,
    createdAt: '2026-11-01T10:00:00Z',
    periodStart: spec.statement?.periodStart ?? null,
    periodEnd: spec.statement?.periodEnd ?? null,
    lines: totals.lines.map((l, i) => ({
      position: i + 1,
      kind: 'text',
      description: spec.lines[i]!.description,
      productId: null,
      variantId: null,
      quantity: l.quantity,
      unitPrice: formatDecimal(l.unitAmountMicros, currency),
      gross: show(l.grossMicros),
      discount: show(l.discountMicros),
      amount: show(l.amountMicros),
      taxCategory: l.taxCategory,
      taxRateBps: l.taxRateBps,
      tax: show(l.taxMicros),
    })),
    payments: spec.payments ?? [],
    billTo: { name: spec.billToName ?? 'Acme Pte Ltd', email: 'accounts@acme.test', phone: '+65 6123 4567', address: '1 Raffles Place\n#20-01 One Raffles Place\nSingapore 048616' },
    notes: spec.notes ?? null,
    voidReason: spec.voidReason ?? null,
    createdBy: 'usr_clerk0001',
    seller: {
      name: 'Demo Telecom',
      legalName: 'Demo Telecom Pte Ltd',
      address: '10 Anson Road\n#05-01 International Plaza\nSingapore 079903',
      taxId: 'M2-1234567-8',
      email: 'billing@demo-telecom.test',
      paymentInstructions: 'Bank transfer to DBS 012-345678-9, quoting the invoice number.',
      hasLogo: false,
      ...spec.seller,
    },
    statement: spec.statement ?? null,
  };
}

const QUANTITIES = ['1.5', '0.333', '2', '7', '0.25', '12', '3.125', '1'];
const PRICES = ['12.345', '10', '0.205445', '49.90', '199', '0.015', '1234.5', '7.777777'];
const twentyLines = (): LineSpec[] => Array.from({ length: 20 }, (_, i) => ({
  description: i % 6 === 0 ? `Cloud PBX seat licence (monthly) for the support team at site ${i + 1}, with call recording and wallboard access` : `Virtual number +65 6${String(1000000 + i * 37)}`,
  quantity: QUANTITIES[i % QUANTITIES.length]!,
  unitPrice: PRICES[i % PRICES.length]!,
  discount: i % 5 === 1 ? '0.50' : '0',
}));

const GENERATED_AT = new Date('2026-11-30T12:00:00Z');
const render = (detail: InvoiceDetail, logo: InvoiceLogo | null = null) => renderInvoicePdf(detail, { logo, generatedAt: GENERATED_AT });

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The figure on the line that reads `label figure` (totals, statement figures: alone on their line). */
function figure(text: string, label: string): string | null {
  const m = new RegExp(`^${esc(label)} (.+)$`, 'm').exec(text);
  return m ? m[1]! : null;
}
/** A fact of the title block (`Invoice no. INV-...`): the right-most text of its line, which it may share with the seller block. */
function fact(text: string, label: string): string | null {
  const m = new RegExp(`(?:^| )${esc(label)} (.+)$`, 'm').exec(text);
  return m ? m[1]! : null;
}
/** Each line of the table, as a regex: position, description start, then quantity, unit price, discount, amount, tax. */
function rowPattern(detail: InvoiceDetail, index: number): RegExp {
  const l = detail.lines[index]!;
  const discount = l.discount.replace(/[.0]/g, '') === '' ? '\u2013' : `-${groupDigits(l.discount)}`;
  const firstWords = esc(pdfSafe(l.description).split(' ').slice(0, 2).join(' '));
  return new RegExp(`^${l.position} ${firstWords}.* ${esc(l.quantity)} ${esc(groupDigits(l.unitPrice))} ${esc(discount)} ${esc(groupDigits(l.amount))} ${esc(groupDigits(l.tax))}$`, 'm');
}

/** A tiny valid PNG (RGB or RGBA), built here with node:zlib. */
function tinyPng(width: number, height: number, alpha: boolean): Buffer {
  const channels = alpha ? 4 : 3;
  const raw = Buffer.alloc((width * channels + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * channels + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const p = row + 1 + x * channels;
      raw[p] = 20 + x * 5;
      raw[p + 1] = 90;
      raw[p + 2] = 200 - y * 4;
      if (alpha) raw[p + 3] = x < width / 2 ? 255 : 128;
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = alpha ? 6 : 2; // colour type: RGBA or RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const imageCount = (pdf: Buffer) => pdf.toString('latin1').split('/Subtype /Image').length - 1;

// ---------------------------------------------------------------------------------------------------------------------------

describe('renderInvoicePdf: a 20-line Purchase invoice read back', () => {
  const detail = buildDetail({ lines: twentyLines(), overdue: true, notes: 'Thank you for your business.' });

  it('shows every line amount, the totals, the seller and the customer, on A4 with page numbers', async () => {
    const pdf = await render(detail);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.toString('latin1')).toContain('/MediaBox [0 0 595.28 841.89]');
    const { pages, text, pageTexts } = await pdfText(pdf);

    expect(text).toContain('Tax invoice');
    expect(fact(text, 'Invoice no.')).toBe('INV-2026-000123');
    expect(text).toContain('Demo Telecom Pte Ltd');
    expect(text).toContain('Tax ID: M2-1234567-8');
    expect(text).toContain('Singapore 079903');
    expect(text).toContain('billing@demo-telecom.test');
    expect(text).toContain('Acme Pte Ltd');
    expect(text).toContain('accounts@acme.test');
    expect(text).toContain('Customer ID: cus_acme0001');
    expect(text).toContain('OVERDUE');
    expect(fact(text, 'Issue date')).toBe('2 Nov 2026');
    expect(fact(text, 'Due date')).toBe('16 Nov 2026');

    for (let i = 0; i < detail.lines.length; i++) expect(text).toMatch(rowPattern(detail, i));
    // Awkward quantities shown as the screen shows them, figures from the invoice arithmetic.
    expect(detail.lines[0]).toMatchObject({ quantity: '1.5', unitPrice: '12.345', amount: '18.52' });
    expect(detail.lines[1]).toMatchObject({ quantity: '0.333', unitPrice: '10.00', discount: '0.50', amount: '2.83' });

    expect(detail.discount).not.toBe('0.00');
    expect(figure(text, 'Discount')).toBe(`SGD -${groupDigits(detail.discount)}`);
    expect(figure(text, 'Subtotal (excl. tax)')).toBe(`SGD ${groupDigits(detail.subtotal)}`);
    expect(figure(text, 'Tax 9%')).toBe(`SGD ${groupDigits(detail.tax)}`);
    expect(figure(text, 'Total')).toBe(`SGD ${groupDigits(detail.total)}`);
    expect(figure(text, 'Amount paid')).toBe('SGD 0.00');
    expect(figure(text, 'Amount due')).toBe(`SGD ${groupDigits(detail.amountDue)}`);
    expect(text).toContain('Bank transfer to DBS 012-345678-9, quoting the invoice number.');
    expect(text).toContain('Thank you for your business.');

    expect(pages).toBe(pageTexts.length);
    expect(pages).toBeGreaterThanOrEqual(1);
    for (let p = 1; p <= pages; p++) expect(pageTexts[p - 1]).toContain(`Page ${p} of ${pages}`);
    expect(text).toContain('Generated 30 Nov 2026 12:00 UTC');
  });

  it('a different total is not where the total is expected', async () => {
    const { text } = await pdfText(await render(detail));
    const total = parseDecimal(detail.total, 'SGD')!;
    const offByACent = `SGD ${groupDigits(formatDecimal(total + 10_000n, 'SGD'))}`;
    expect(figure(text, 'Total')).not.toBe(offByACent);
    expect(text).not.toContain(`Total ${offByACent}`);
    // And the check bites: the same invoice with its total changed reads differently.
    const tampered = { ...detail, total: formatDecimal(total + 10_000n, 'SGD') };
    const read = await pdfText(await render(tampered));
    expect(figure(read.text, 'Total')).toBe(offByACent);
    expect(figure(read.text, 'Total')).not.toBe(`SGD ${groupDigits(detail.total)}`);
  });

  it('is the same bytes for the same detail and time (cacheable), compressed and small', async () => {
    const a = await render(detail);
    const b = await render(detail);
    expect(a.equals(b)).toBe(true);
    expect(a.toString('latin1')).toContain('/FlateDecode');
    expect(a.length).toBeLessThan(20_000);
  });
});

describe('renderInvoicePdf: pages', () => {
  it('lays a 200-line invoice over pages, the table header on each, every row once and in order', async () => {
    const lines: LineSpec[] = Array.from({ length: 200 }, (_, i) => ({
      description: i % 10 === 0 ? `Wallboard licence for team ${i + 1}, billed monthly in advance with the usual reporting add-ons` : `Call bundle ${i + 1}`,
      quantity: QUANTITIES[i % QUANTITIES.length]!,
      unitPrice: PRICES[(i * 3) % PRICES.length]!,
      discount: i % 7 === 3 ? '0.01' : '0',
    }));
    const detail = buildDetail({ lines });
    const { pages, text, pageTexts } = await pdfText(await render(detail));
    expect(pages).toBeGreaterThanOrEqual(5);
    for (let p = 1; p <= pages; p++) {
      expect(pageTexts[p - 1]).toContain(`Page ${p} of ${pages}`);
      if (p > 1 && /^\d+ (Wallboard|Call bundle)/m.test(pageTexts[p - 1]!)) {
        expect(pageTexts[p - 1]).toContain('Tax invoice INV-2026-000123, continued');
        expect(pageTexts[p - 1]).toMatch(/^# Description Qty Unit price Discount Amount SGD Tax$/m);
      }
    }
    let last = -1;
    for (let i = 0; i < 200; i++) {
      const m = rowPattern(detail, i).exec(text);
      expect(m, `row ${i + 1}`).not.toBeNull();
      expect(m!.index).toBeGreaterThan(last);
      last = m!.index;
      expect(text.match(new RegExp(`^${i + 1} (Wallboard|Call bundle)`, 'gm'))).toHaveLength(1);
    }
    expect(figure(text, 'Total')).toBe(`SGD ${groupDigits(detail.total)}`);
    expect(figure(text, 'Amount due')).toBe(`SGD ${groupDigits(detail.amountDue)}`);
    // The totals come after the last row.
    expect(text.indexOf('Subtotal (excl. tax)')).toBeGreaterThan(last);
  });

  it('wraps a long description, cuts an unbroken word, and splits a row taller than a page across pages', async () => {
    const longWord = `https://portal.demo-telecom.test/usage/${'x1y2z3'.repeat(30)}`;
    const words = Array.from({ length: 700 }, (_, i) => `word${i}`).join(' ');
    const detail = buildDetail({
      lines: [
        { description: `START-OF-LONG ${words.slice(0, 400)} ${longWord} ${words} END-OF-LONG`, quantity: '1', unitPrice: '99.99' },
        { description: 'Short line after it', quantity: '2', unitPrice: '5' },
      ],
    });
    const { pages, text } = await pdfText(await render(detail));
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/^1 START-OF-LONG .* 1 99\.99 \u2013 99\.99 9\.00$/m);
    expect(text).toContain('END-OF-LONG');
    expect(text.replace(/\s+/g, '')).toContain(longWord);
    for (const n of [0, 350, 699]) expect(text).toContain(`word${n}`);
    expect(text).toMatch(rowPattern(detail, 1));
    expect(text.indexOf('END-OF-LONG')).toBeLessThan(text.indexOf('Short line after it'));
    expect(figure(text, 'Total')).toBe(`SGD ${groupDigits(detail.total)}`);
  });
});

describe('renderInvoicePdf: states and types', () => {
  it('a paid invoice shows PAID, the points and card payments with their references, and nothing due', async () => {
    const base = buildDetail({ lines: [{ description: 'Cloud PBX, 5 seats', quantity: '5', unitPrice: '10' }] });
    expect(base.total).toBe('54.50');
    const detail = buildDetail({
      lines: [{ description: 'Cloud PBX, 5 seats', quantity: '5', unitPrice: '10' }],
      status: 'paid',
      payments: [
        { id: 'ipy_points01', source: 'points', amount: '30.00', paidAt: '2026-11-05T08:30:00Z', reference: 'pts_hold_7781', paymentId: null },
        { id: 'ipy_card0001', source: 'card', amount: '24.50', paidAt: '2026-11-05T08:30:02Z', reference: 'ch_sandbox_4f9a2c', paymentId: null },
      ],
    });
    const { text } = await pdfText(await render(detail));
    expect(text).toContain('PAID');
    expect(fact(text, 'Status')).toBe('Paid');
    expect(fact(text, 'Paid on')).toBe('5 Nov 2026');
    expect(text).toContain('Payments and credits applied');
    expect(text).toMatch(/^5 Nov 2026 Points pts_hold_7781 30\.00$/m);
    expect(text).toMatch(/^5 Nov 2026 Card ch_sandbox_4f9a2c 24\.50$/m);
    expect(figure(text, 'Total')).toBe('SGD 54.50');
    expect(figure(text, 'Amount paid')).toBe('SGD 54.50');
    expect(figure(text, 'Amount due')).toBe('SGD 0.00');
    expect(text).toContain('Nothing to pay');
    // Nothing to pay: no payment instructions.
    expect(text).not.toContain('How to pay');
  });

  it('a partly paid, partly credited invoice shows both and the rest due', async () => {
    const detail = buildDetail({
      lines: [{ description: 'Number porting', quantity: '3', unitPrice: '33.333333' }],
      status: 'partially_paid',
      amountCredited: '10.00',
      payments: [{ id: 'ipy_alloc001', source: 'allocation', amount: '20.00', paidAt: '2026-11-04T00:00:00Z', reference: 'RCT-2026-000042', paymentId: 'pay_bank_0042' }],
    });
    expect(detail.total).toBe('109.00');
    const { text } = await pdfText(await render(detail));
    expect(text).toContain('PARTIALLY PAID');
    expect(text).toMatch(/^4 Nov 2026 Payment RCT-2026-000042 20\.00$/m);
    expect(figure(text, 'Amount paid')).toBe('SGD 20.00');
    expect(figure(text, 'Amount credited')).toBe('SGD 10.00');
    expect(figure(text, 'Amount due')).toBe('SGD 79.00');
    expect(text).toContain('How to pay');
  });

  it('a paid invoice that credit notes gave back shows what was refunded and what went to points, under the amount paid', async () => {
    const detail = buildDetail({
      lines: [{ description: 'Cloud PBX, 5 seats', quantity: '5', unitPrice: '10' }],
      status: 'paid',
      payments: [{ id: 'ipy_card0001', source: 'card', amount: '54.50', paidAt: '2026-11-05T08:30:02Z', reference: 'ch_sandbox_4f9a2c', paymentId: null }],
      amountRefunded: '18.15',
      amountCreditedToPoints: '5.00',
    });
    const { text } = await pdfText(await render(detail));
    expect(figure(text, 'Amount paid')).toBe('SGD 54.50');
    expect(figure(text, 'Refunded')).toBe('SGD 18.15');
    expect(figure(text, 'Credited to points')).toBe('SGD 5.00');
    expect(figure(text, 'Amount due')).toBe('SGD 0.00');
    // In the totals, in this order: Amount paid, Refunded, Credited to points, Amount due.
    const at = (label: string) => text.search(new RegExp(`^${esc(label)} SGD`, 'm'));
    const order = ['Amount paid', 'Refunded', 'Credited to points', 'Amount due'].map(at);
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(figure(text, 'Amount credited')).toBeNull();
    // Nothing given back: neither row.
    const plain = (await pdfText(await render(buildDetail({ lines: [{ description: 'Cloud PBX, 5 seats', quantity: '5', unitPrice: '10' }], status: 'paid' })))).text;
    expect(figure(plain, 'Refunded')).toBeNull();
    expect(figure(plain, 'Credited to points')).toBeNull();
  });

  it('a voided draft shows DRAFT for its number, VOID on every page, and the reason', async () => {
    const detail = buildDetail({
      lines: [{ description: 'Setup fee', quantity: '1', unitPrice: '150' }],
      number: null,
      status: 'void',
      voidReason: 'Customer cancelled the order',
    });
    const pdf = await render(detail);
    const { text, pageTexts } = await pdfText(pdf);
    expect(fact(text, 'Invoice no.')).toBe('DRAFT');
    expect(fact(text, 'Issue date')).toBe('Not issued');
    expect(fact(text, 'Status')).toBe('Void');
    expect(text).toContain('This invoice is void: Customer cancelled the order');
    expect(text).toContain('Void reason');
    for (const page of pageTexts) expect(page).toMatch(/VOID/);
    expect(figure(text, 'Total')).toBe('SGD 163.50');
    expect(figure(text, 'Amount due')).toBe('SGD 0.00');
    expect(text).not.toContain('How to pay');
  });

  it('a draft shows DRAFT as its number and as a mark, and no due date yet', async () => {
    const detail = buildDetail({ lines: [{ description: 'Consulting', quantity: '2.5', unitPrice: '120' }], number: null, status: 'draft' });
    const { text } = await pdfText(await render(detail));
    expect(fact(text, 'Invoice no.')).toBe('DRAFT');
    expect(text.match(/DRAFT/g)!.length).toBeGreaterThanOrEqual(3); // number, badge, watermark (and the footer)
    expect(fact(text, 'Due date')).toBe('\u2014');
    expect(figure(text, 'Total')).toBe('SGD 327.00');
  });

  it('a Top-up invoice is a deposit: no tax, labelled as such', async () => {
    const detail = buildDetail({ type: 'top_up', number: 'TOP-2026-000007', lines: [{ description: 'Points top-up', quantity: '1', unitPrice: '500' }] });
    const { text } = await pdfText(await render(detail));
    expect(text).toContain('Top-up invoice');
    expect(text).not.toContain('Tax invoice');
    expect(text).toContain('Deposit for prepaid points: no tax charged');
    expect(fact(text, 'Invoice no.')).toBe('TOP-2026-000007');
    expect(text).toMatch(/^Tax SGD 0\.00$/m);
    expect(figure(text, 'Total')).toBe('SGD 500.00');
  });

  it('an informational Monthly statement: period, points, usage by category, activity, and nothing to pay', async () => {
    const statement: StatementView = {
      periodStart: '2026-10-01',
      periodEnd: '2026-11-01',
      openingPoints: '50.00',
      closingPoints: '41.20',
      usage: [
        { category: 'local', label: 'Local calls', calls: 12, seconds: 3600, amount: '8.80', tax: '0.00' },
        { category: 'idd', label: 'International calls', calls: 3, seconds: 754, amount: '4.02', tax: '0.00' },
      ],
      renewals: { count: 1, amount: '54.50' },
      purchases: { count: 0, amount: '0.00' },
      topUps: { count: 2, amount: '50.00' },
      credits: { count: 0, amount: '0.00' },
      other: { count: 1, amount: '0.52' },
    };
    const detail = buildDetail({
      type: 'monthly',
      number: 'MON-2026-000031',
      status: 'paid',
      informational: true,
      statement,
      lines: [
        { description: 'Usage: local calls', quantity: '1', unitPrice: '8.80' },
        { description: 'Usage: international calls', quantity: '1', unitPrice: '4.02' },
        { description: 'Renewal: Cloud PBX (Oct 2026)', quantity: '1', unitPrice: '50' },
      ],
    });
    const { text } = await pdfText(await render(detail));
    expect(text).toContain('Monthly statement');
    expect(fact(text, 'Statement no.')).toBe('MON-2026-000031');
    expect(fact(text, 'Period')).toBe('1 Oct 2026 \u2013 31 Oct 2026');
    expect(text).toContain('Statement for 1 Oct 2026 \u2013 31 Oct 2026');
    expect(text).toContain('Already paid from your points: nothing to pay.');
    expect(figure(text, 'Opening points')).toBe('SGD 50.00');
    expect(figure(text, 'Closing points')).toBe('SGD 41.20');
    expect(text).toMatch(/^Local calls 12 1 h 8\.80$/m);
    expect(text).toMatch(/^International calls 3 12 min 34 s 4\.02$/m);
    expect(figure(text, 'Renewals (1)')).toBe('SGD 54.50');
    expect(figure(text, 'Top-ups (2)')).toBe('SGD 50.00');
    expect(figure(text, 'Purchases (0)')).toBe('SGD 0.00');
    expect(figure(text, 'Credits (0)')).toBe('SGD 0.00');
    expect(figure(text, 'Other (1)')).toBe('SGD 0.52');
    expect(figure(text, 'Total')).toBe(`SGD ${detail.total}`);
    expect(figure(text, 'Amount due')).toBe('SGD 0.00');
    expect(text).not.toContain('Due date');
    expect(text).not.toContain('How to pay');
    expect(text).not.toContain('Of which tax');
  });

  it('a Monthly statement whose calls carried tax: each usage category with the tax its amount includes, the invoice with subtotal, tax and total', async () => {
    const statement: StatementView = {
      periodStart: '2026-10-01',
      periodEnd: '2026-11-01',
      openingPoints: '50.00',
      closingPoints: '40.4154',
      usage: [
        { category: 'local', label: 'Local calls', calls: 12, seconds: 3600, amount: '9.592', tax: '0.792' },
        { category: 'idd', label: 'International calls', calls: 3, seconds: 754, amount: '0.055469', tax: '0.004579' },
        { category: 'mobile', label: 'Mobile calls', calls: 1, seconds: 60, amount: '0.06', tax: '0.00' },
      ],
      renewals: { count: 0, amount: '0.00' },
      purchases: { count: 0, amount: '0.00' },
      topUps: { count: 0, amount: '0.00' },
      credits: { count: 0, amount: '0.00' },
      other: { count: 0, amount: '0.00' },
    };
    const detail = buildDetail({
      type: 'monthly', number: 'STM-202611-000004', status: 'paid', informational: true, statement,
      lines: [
        { description: 'Local calls: 12 calls, 1 h', quantity: '1', unitPrice: '8.80' },
        { description: 'International calls: 3 calls, 12 min 34 s', quantity: '1', unitPrice: '0.05' },
      ],
    });
    const { text } = await pdfText(await render(detail));
    expect(text).toMatch(/Amount SGD Of which tax$/m);
    expect(text).toMatch(/^Local calls 12 1 h 9\.592 0\.792$/m);
    expect(text).toMatch(/^International calls 3 12 min 34 s 0\.055469 0\.004579$/m);
    expect(text).toMatch(/^Mobile calls 1 1 min 0\.06 0\.00$/m);
    expect(figure(text, 'Subtotal (excl. tax)')).toBe(`SGD ${detail.subtotal}`);
    expect(figure(text, 'Tax 9%')).toBe(`SGD ${detail.tax}`);
    expect(figure(text, 'Total')).toBe(`SGD ${detail.total}`);
    expect(figure(text, 'Amount due')).toBe('SGD 0.00');
  });

  it('a VND invoice: whole dong, grouped digits, Vietnamese names shown in the fonts\u2019 Latin letters', async () => {
    const detail = buildDetail({
      currency: 'VND',
      taxRateBps: 1000,
      billToName: 'Công ty TNHH Đức Nguyễn',
      lines: [
        { description: 'Tổng đài ảo (Cloud PBX), 3 máy nhánh', quantity: '3', unitPrice: '250000' },
        { description: 'Gói cước gọi', quantity: '1.5', unitPrice: '33333', discount: '1000' },
      ],
    });
    expect(detail.total).toBe('878900'); // 750000 + (49999.5 -> 50000, less 1000) = 799000, + 10% tax 79900
    const { text } = await pdfText(await render(detail));
    expect(text).toContain('Công ty TNHH Duc Nguyên');
    expect(text).toMatch(rowPattern(detail, 0));
    expect(text).toMatch(rowPattern(detail, 1));
    expect(figure(text, 'Tax 10%')).toBe(`VND ${groupDigits(detail.tax)}`);
    expect(figure(text, 'Total')).toBe(`VND ${groupDigits(detail.total)}`);
    expect(figure(text, 'Amount due')).toBe(`VND ${groupDigits(detail.amountDue)}`);
    expect(text).not.toMatch(/VND [\d,]+\.\d/);
  });

  it('mixed tax categories: per-line rates in the tax column; the label names the one rate of the taxed lines', async () => {
    const detail = buildDetail({
      lines: [
        { description: 'Cloud PBX', quantity: '1', unitPrice: '100' },
        { description: 'Export service', quantity: '1', unitPrice: '40', taxCategory: 'zero_rated' },
        { description: 'Financial service', quantity: '1', unitPrice: '10', taxCategory: 'exempt' },
      ],
    });
    const { text } = await pdfText(await render(detail));
    expect(figure(text, 'Tax 9%')).toBe('SGD 9.00');
    expect(text).toMatch(/^1 Cloud PBX 1 100\.00 \u2013 100\.00 9\.00$/m);
    expect(text).toMatch(/^9%$/m);
    expect(text).toMatch(/^exempt$/m);
  });
});

describe('renderInvoicePdf: the logo', () => {
  const detail = buildDetail({ lines: twentyLines().slice(0, 3) });

  it('draws a PNG logo (RGB or with alpha) and keeps the text', async () => {
    for (const alpha of [false, true]) {
      const logo: InvoiceLogo = { data: tinyPng(48, 20, alpha), type: 'image/png' };
      const pdf = await render(detail, logo);
      expect(imageCount(pdf)).toBeGreaterThanOrEqual(1);
      const { text } = await pdfText(pdf);
      expect(text).toContain('Demo Telecom Pte Ltd');
      expect(figure(text, 'Total')).toBe(`SGD ${groupDigits(detail.total)}`);
    }
    expect(imageCount(await render(detail))).toBe(0);
  });

  it('embeds the same logo the same way on every invoice (prepared once, replayed)', async () => {
    const logo: InvoiceLogo = { data: tinyPng(64, 32, true), type: 'image/png' };
    const first = await render(detail, logo);
    const again = await render(detail, { ...logo, data: Buffer.from(logo.data) });
    expect(again.equals(first)).toBe(true);
    const other = await render(buildDetail({ lines: twentyLines().slice(0, 1) }), logo);
    expect(imageCount(other)).toBe(2); // the picture and its transparency mask
    expect((await pdfText(other)).text).toContain('Demo Telecom Pte Ltd');
  });

  it('leaves out a logo it cannot read instead of failing the invoice', async () => {
    const good = tinyPng(16, 8, true);
    const idat = good.indexOf('IDAT', 0, 'latin1');
    const corrupt = Buffer.from(good);
    corrupt.fill(0x55, idat + 4, idat + 14); // the compressed pixels, not the chunk lengths
    for (const data of [Buffer.from('not really a png at all'), corrupt, good.subarray(0, 40)]) {
      const pdf = await render(detail, { data, type: 'image/png' });
      expect(imageCount(pdf)).toBe(0);
      const { text } = await pdfText(pdf);
      expect(figure(text, 'Total')).toBe(`SGD ${groupDigits(detail.total)}`);
    }
  });
});

describe('pdfText', () => {
  it('refuses what is not a PDF (an error page saved as .pdf) and reads a Uint8Array as well as a Buffer', async () => {
    await expect(pdfText(Buffer.from('<!doctype html><title>500</title>'))).rejects.toThrow();
    const pdf = await render(buildDetail({ lines: [{ description: 'One thing', quantity: '1', unitPrice: '1' }] }));
    const read = await pdfText(new Uint8Array(pdf));
    expect(read.pages).toBe(1);
    expect(figure(read.text, 'Total')).toBe('SGD 1.09');
    // The caller's buffer is left as it was.
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });
});

describe('helpers', () => {
  it('pdfSafe keeps what the standard fonts show and replaces the rest', () => {
    expect(pdfSafe('Acme Pte Ltd')).toBe('Acme Pte Ltd');
    expect(pdfSafe('Café Zoë, €5 \u2013 “quoted”')).toBe('Café Zoë, €5 \u2013 “quoted”');
    expect(pdfSafe('Công ty TNHH Đức Nguyễn')).toBe('Công ty TNHH Duc Nguyên');
    expect(pdfSafe('Tổng đài ảo')).toBe('Tông dài ao');
    expect(pdfSafe('Line 1\r\nLine 2\tTabbed')).toBe('Line 1\nLine 2 Tabbed');
    expect(pdfSafe('東京 office \u{1F600}')).toBe('?? office ?');
    expect(pdfSafe('bell\u0007')).toBe('bell?');
  });

  it('tax labels and rates', () => {
    expect(ratePercent(900)).toBe('9%');
    expect(ratePercent(825)).toBe('8.25%');
    expect(ratePercent(750)).toBe('7.5%');
    expect(ratePercent(0)).toBe('0%');
    const l = (taxRateBps: number) => ({ taxRateBps }) as InvoiceDetail['lines'][number];
    expect(taxLabel([l(900), l(900), l(0)])).toBe('Tax 9%');
    expect(taxLabel([l(900), l(700)])).toBe('Tax');
    expect(taxLabel([l(0)])).toBe('Tax');
    expect(taxLabel([])).toBe('Tax');
  });

  it('groups digits like the screen', () => {
    expect(groupDigits('1234567.50')).toBe('1,234,567.50');
    expect(groupDigits('-1000')).toBe('-1,000');
    expect(groupDigits('999.999999')).toBe('999.999999');
  });
});
