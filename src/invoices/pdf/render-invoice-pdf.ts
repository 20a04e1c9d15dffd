import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import PDFDocument from 'pdfkit';
import {
  BODY, BOLD, drawPageFooters, formatDay, GREEN, groupDigits, INK, LEFT, MUTED, openPdf, ORANGE,
  BOTTOM, pdfSafe, RED, REGULAR, RIGHT, SMALL, TOP, type Writer,
} from './pdf-layout.ts';
import type { InvoiceDetail, InvoiceLineView, InvoiceLogo, InvoicePaymentView } from '../invoice-view-types.ts';
import { formatBilledTime } from '../../usage/billed-time.ts';
import { taxIncludedOnMonthly } from '../statements/monthly-lines.ts';
import { lastDayOf } from '../period-days.ts';

/**
 * The invoice as a PDF: the same figures as the screen (InvoiceDetail), laid out on A4 with pdfkit's built-in Helvetica (no font
 * files). Pure: no database, no clock unless `generatedAt` is left out. Text is real text (extractable), so tests read it back.
 *
 * Layout: seller block (logo, name, address, tax id, email) and title block (type, number, status, dates) on page 1; bill-to
 * and an "amount due" box; the lines table (header repeated on every page, a row split across pages only when it is taller than a
 * page); totals; payments; the statement of a Monthly invoice; payment instructions, notes and the void reason; a footer with
 * "Page i of N" on every page, and a DRAFT or VOID watermark.
 *
 * Speed (bench/pdf.ts): text is placed at computed coordinates (no pdfkit line wrapping), string widths are cached across calls,
 * and every string goes through `pdfSafe` once, so the standard fonts' WinAnsi encoding never sees a character it cannot show.
 */
export interface RenderInvoicePdfOptions {
  logo: InvoiceLogo | null;
  /** Shown in the footer and as the PDF's creation date; default now. */
  generatedAt?: Date;
  /** Deflate the page contents (default true). Off only to inspect the raw content streams. */
  compress?: boolean;
}

const TABLE = 8.5;
const TABLE_LINE = 10.5;

/** The lines table: x of each column (numbers are right-aligned on `right`). */
const COL = {
  pos: { left: LEFT, right: LEFT + 16 },
  description: { left: LEFT + 22, right: 244 },
  quantity: { right: 290 },
  unitPrice: { right: 358 },
  discount: { right: 419 },
  amount: { right: 491 },
  tax: { right: RIGHT },
} as const;

// Logos: pdfkit reads a PNG byte by byte and, for one with transparency, decodes and re-deflates it on every document (a
// 600 x 250 logo cost 20-50 ms a render). A logo is prepared once per distinct content (SHA-1, a small LRU): pdfkit embeds it
// into a recording stand-in document, and each invoice replays the recorded objects (dictionaries and finished streams)
// through its own `ref()`. pdfkit's `image()` takes such a ready image (an object with width, height, label and embed()).
interface RecordedRef {
  data: Record<string, unknown>;
  chunks: Uint8Array[];
  end(chunk?: Uint8Array): void;
}
interface PreparedLogo {
  width: number;
  height: number;
  orientation: number;
  root: RecordedRef;
}
interface PdfKitImage {
  width: number;
  height: number;
  orientation?: number;
  embed(document: unknown): void;
}
interface PdfKitRef {
  data: Record<string, unknown>;
  end(chunk?: Uint8Array): void;
}

const LOGO_CACHE_LIMIT = 32;
const logoCache = new Map<string, Promise<PreparedLogo | null>>();

/** A PNG pdfkit can decode without throwing from a zlib callback: chunks in bounds, IDAT inflates, rows have valid filters. */
function pngLooksSound(data: Buffer): boolean {
  if (data.length < 33 || data.readUInt32BE(0) !== 0x89504e47 || data.readUInt32BE(4) !== 0x0d0a1a0a) return false;
  let pos = 8;
  let width = 0;
  let height = 0;
  let bitDepth = 0;
  let colorType = 0;
  let interlace = 0;
  const idat: Buffer[] = [];
  while (pos + 8 <= data.length) {
    const length = data.readUInt32BE(pos);
    const type = data.toString('latin1', pos + 4, pos + 8);
    if (pos + 12 + length > data.length) return false;
    const body = data.subarray(pos + 8, pos + 8 + length);
    if (type === 'IHDR') {
      if (length < 13) return false;
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      bitDepth = body[8]!;
      colorType = body[9]!;
      interlace = body[12]!;
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    pos += 12 + length;
  }
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (!width || !height || width * height > 25_000_000 || !channels || ![1, 2, 4, 8, 16].includes(bitDepth) || idat.length === 0) return false;
  let pixels: Buffer;
  try {
    pixels = zlib.inflateSync(Buffer.concat(idat));
  } catch {
    return false;
  }
  if (interlace !== 0) return interlace === 1;
  const rowBytes = Math.ceil((width * channels * bitDepth) / 8) + 1;
  if (pixels.length < rowBytes * height) return false;
  for (let row = 0; row < height; row++) if (pixels[row * rowBytes]! > 4) return false;
  return true;
}

function prepareLogo(logo: InvoiceLogo): Promise<PreparedLogo | null> {
  const key = createHash('sha1').update(logo.data).digest('hex');
  let prepared = logoCache.get(key);
  if (prepared) {
    logoCache.delete(key);
    logoCache.set(key, prepared);
    return prepared;
  }
  prepared = recordLogo(logo.data);
  if (logoCache.size >= LOGO_CACHE_LIMIT) logoCache.delete(logoCache.keys().next().value!);
  logoCache.set(key, prepared);
  return prepared;
}

async function recordLogo(data: Buffer): Promise<PreparedLogo | null> {
  const isPng = data.length >= 8 && data.readUInt32BE(0) === 0x89504e47;
  if (isPng && !pngLooksSound(data)) return null;
  try {
    const opener = new PDFDocument({ autoFirstPage: false }) as unknown as { openImage(src: Buffer): PdfKitImage };
    const image = opener.openImage(data);
    let root: RecordedRef | null = null;
    const finished = new Promise<void>((resolve) => {
      const recorder = {
        ref(dict: Record<string, unknown> = {}): RecordedRef {
          const ref: RecordedRef = {
            data: dict,
            chunks: [],
            end(chunk?: Uint8Array) {
              if (chunk) this.chunks.push(chunk);
              if (this === root) resolve();
            },
          };
          root ??= ref;
          return ref;
        },
      };
      image.embed(recorder);
    });
    await Promise.race([finished, new Promise((_, reject) => setTimeout(() => reject(new Error('logo not embedded')), 5_000).unref())]);
    return { width: image.width, height: image.height, orientation: image.orientation ?? 1, root: root! };
  } catch {
    return null;
  }
}

/** The recorded objects of a logo, made again in `doc` (nested refs first). */
function replayRef(doc: { ref(data: Record<string, unknown>): PdfKitRef }, recorded: RecordedRef, made: Map<RecordedRef, PdfKitRef>): PdfKitRef {
  const done = made.get(recorded);
  if (done) return done;
  const copy = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(copy);
    if (value && typeof value === 'object' && 'chunks' in value && 'end' in value) return replayRef(doc, value as RecordedRef, made);
    return value;
  };
  const dict: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(recorded.data)) if (k !== 'Length') dict[k] = copy(v);
  const ref = doc.ref(dict);
  made.set(recorded, ref);
  if (recorded.chunks.length === 0) ref.end();
  else ref.end(recorded.chunks.length === 1 ? recorded.chunks[0] : Buffer.concat(recorded.chunks));
  return ref;
}

/** What pdfkit's `image()` accepts as an opened image, for one document. */
function logoImage(prepared: PreparedLogo): PdfKitImage & { label: string; obj: PdfKitRef | null } {
  return {
    width: prepared.width,
    height: prepared.height,
    orientation: prepared.orientation,
    label: 'ILogo',
    obj: null,
    embed(document: unknown) {
      this.obj = replayRef(document as { ref(data: Record<string, unknown>): PdfKitRef }, prepared.root, new Map());
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------------------
// Figures

function money(amount: string, currency: string): string {
  return `${currency} ${groupDigits(amount)}`;
}

const MICROS = 1_000_000n;
function toMicros(text: string): bigint | null {
  const m = /^(-)?(\d+)(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!m) return null;
  const v = BigInt(m[2]!) * MICROS + BigInt((m[3] ?? '').padEnd(6, '0'));
  return m[1] ? -v : v;
}
function decimalsOf(text: string): number {
  const i = text.indexOf('.');
  return i < 0 ? 0 : text.length - i - 1;
}
function fromMicros(micros: bigint, decimals: number): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const fraction = (abs % MICROS).toString().padStart(6, '0').slice(0, decimals);
  return `${negative ? '-' : ''}${abs / MICROS}${decimals > 0 ? `.${fraction}` : ''}`;
}
function isZero(amount: string): boolean {
  return toMicros(amount) === 0n;
}
/** a + b, both decimal strings of one currency; shown with the decimals of `a`. */
function addAmounts(a: string, b: string): string {
  const x = toMicros(a);
  const y = toMicros(b);
  if (x === null || y === null) return a;
  return fromMicros(x + y, Math.max(decimalsOf(a), decimalsOf(b)));
}

/** 900 -> "9%", 825 -> "8.25%". */
export function ratePercent(bps: number): string {
  const whole = Math.trunc(bps / 100);
  const rest = Math.abs(bps % 100);
  return rest === 0 ? `${whole}%` : `${whole}.${String(rest).padStart(2, '0').replace(/0$/, '')}%`;
}

/** The tax label of the totals: "Tax 9%" when every taxed line has the same rate, else "Tax". */
export function taxLabel(lines: readonly InvoiceLineView[]): string {
  let rate: number | null = null;
  for (const line of lines) {
    if (line.taxRateBps <= 0) continue;
    if (rate === null) rate = line.taxRateBps;
    else if (rate !== line.taxRateBps) return 'Tax';
  }
  return rate === null ? 'Tax' : `Tax ${ratePercent(rate)}`;
}

/** A statement period is [start, end): shown as its first and last day. */
function formatPeriod(start: string, end: string): string {
  return `${formatDay(start)} \u2013 ${formatDay(lastDayOf(end) ?? end)}`;
}

function titleOf(detail: InvoiceDetail): string {
  switch (detail.type) {
    case 'purchase':
      return 'Tax invoice';
    case 'monthly':
      return 'Monthly statement';
    case 'top_up':
      return 'Top-up invoice';
  }
}

const STATUS_LABEL: Record<InvoiceDetail['status'], string> = {
  draft: 'Draft',
  awaiting_payment: 'Awaiting payment',
  partially_paid: 'Partially paid',
  paid: 'Paid',
  void: 'Void',
};

/** The badge under the title: its words and colour. */
function badgeOf(detail: InvoiceDetail): { text: string; color: string } {
  if (detail.status === 'void') return { text: 'VOID', color: RED };
  if (detail.status === 'draft') return { text: 'DRAFT', color: MUTED };
  if (detail.status === 'paid') return { text: 'PAID', color: GREEN };
  if (detail.overdue) return { text: 'OVERDUE', color: RED };
  return { text: detail.status === 'partially_paid' ? 'PARTIALLY PAID' : 'AWAITING PAYMENT', color: ORANGE };
}

const SOURCE_LABEL: Record<InvoicePaymentView['source'], string> = { points: 'Points', card: 'Card', allocation: 'Payment' };

// ---------------------------------------------------------------------------------------------------------------------------

/**
 * Render an invoice (its detail as the screen shows it) to a PDF. The partner's logo, when given, is scaled to fit 120 x 50 pt;
 * a logo pdfkit cannot read is left out rather than failing the whole PDF.
 */
export async function renderInvoicePdf(detail: InvoiceDetail, options: RenderInvoicePdfOptions): Promise<Buffer> {
  const generatedAt = options.generatedAt ?? new Date();
  const title = titleOf(detail);
  const number = detail.number ?? 'DRAFT';
  const sellerName = pdfSafe(detail.seller.legalName ?? detail.seller.name);
  const logo = options.logo ? await prepareLogo(options.logo) : null;
  const { w, finish } = openPdf({
    compress: options.compress ?? true,
    info: { Title: pdfSafe(`${title} ${number}`), Author: sellerName, Subject: pdfSafe(`${title} ${number} for ${detail.billTo.name}`), CreationDate: generatedAt },
  });
  const currency = pdfSafe(detail.currency);

  drawHeader(w, detail, title, number, sellerName, logo);
  drawLines(w, detail, currency);
  drawTotals(w, detail, currency);
  drawPayments(w, detail, currency);
  if (detail.statement) drawStatement(w, detail, currency);
  drawClosingText(w, detail);
  const mark = detail.status === 'void' ? 'VOID' : detail.status === 'draft' ? 'DRAFT' : null;
  drawPageFooters(w, {
    left: `${sellerName} \u00b7 ${titleOf(detail)} ${number}`, generatedAt,
    watermark: mark ? { text: mark, color: detail.status === 'void' ? RED : MUTED, size: 120, dy: -60 } : null,
  });
  return finish();
}

function drawHeader(w: Writer, detail: InvoiceDetail, title: string, number: string, sellerName: string, logo: PreparedLogo | null): void {
  const doc = w.doc;
  // Seller (left). A logo that could not be read was left out (null): the invoice matters more than the picture.
  let y = TOP;
  if (logo) {
    doc.image(logoImage(logo) as unknown as Buffer, LEFT, TOP, { fit: [120, 50] });
    y += 58;
  }
  const sellerWidth = 250;
  w.use(BOLD, 12);
  for (const line of w.wrap(sellerName, sellerWidth)) {
    w.at(line, LEFT, y);
    y += 15;
  }
  w.use(REGULAR, BODY, MUTED);
  const sellerLines: string[] = [];
  if (detail.seller.legalName && detail.seller.legalName !== detail.seller.name) sellerLines.push(...w.wrap(pdfSafe(`Trading as ${detail.seller.name}`), sellerWidth));
  if (detail.seller.address) sellerLines.push(...w.wrap(pdfSafe(detail.seller.address), sellerWidth));
  if (detail.seller.taxId) sellerLines.push(...w.wrap(pdfSafe(`Tax ID: ${detail.seller.taxId}`), sellerWidth));
  if (detail.seller.email) sellerLines.push(...w.wrap(pdfSafe(detail.seller.email), sellerWidth));
  for (const line of sellerLines) {
    w.at(line, LEFT, y);
    y += 11.5;
  }

  // Title block (right).
  let ry = TOP;
  w.use(BOLD, 18);
  w.right(title, RIGHT, ry);
  ry += 24;
  if (detail.type === 'top_up') {
    w.use(REGULAR, SMALL, MUTED);
    w.right('Deposit for prepaid points: no tax charged', RIGHT, ry);
    ry += 12;
  }
  const badge = badgeOf(detail);
  w.use(BOLD, 10);
  const badgeWidth = w.width(badge.text) + 12;
  doc.save().roundedRect(RIGHT - badgeWidth, ry, badgeWidth, 16, 3).lineWidth(1).strokeColor(badge.color).stroke().restore();
  w.use(BOLD, 10, badge.color);
  w.right(badge.text, RIGHT - 6, ry + 3.5);
  ry += 24;

  const facts: [string, string][] = [[detail.type === 'monthly' ? 'Statement no.' : 'Invoice no.', number]];
  facts.push(['Status', STATUS_LABEL[detail.status] + (detail.overdue ? ' (overdue)' : '')]);
  if (detail.type === 'monthly' && detail.periodStart && detail.periodEnd) facts.push(['Period', formatPeriod(detail.periodStart, detail.periodEnd)]);
  facts.push(['Issue date', detail.issuedAt ? formatDay(detail.issuedAt) : 'Not issued']);
  if (!detail.informational) facts.push(['Due date', formatDay(detail.dueAt)]);
  if (detail.paidAt && detail.status === 'paid') facts.push(['Paid on', formatDay(detail.paidAt)]);
  if (detail.voidedAt) facts.push(['Voided on', formatDay(detail.voidedAt)]);
  facts.push(['Currency', pdfSafe(detail.currency)]);
  const labelRight = RIGHT - 130;
  for (const [label, value] of facts) {
    w.use(REGULAR, BODY, MUTED);
    w.right(label, labelRight, ry);
    w.use(label === 'Invoice no.' || label === 'Statement no.' ? BOLD : REGULAR, BODY, label === 'Status' && detail.overdue ? RED : INK);
    w.right(pdfSafe(value), RIGHT, ry);
    ry += 12.5;
  }

  // Bill to (left) and the amount-due box (right).
  y = Math.max(y, ry) + 16;
  w.rule(LEFT, RIGHT, y - 8);
  let by = y;
  w.use(BOLD, SMALL, MUTED);
  w.at('BILL TO', LEFT, by);
  by += 12;
  w.use(BOLD, 10.5);
  for (const line of w.wrap(pdfSafe(detail.billTo.name), 280)) {
    w.at(line, LEFT, by);
    by += 13;
  }
  w.use(REGULAR, BODY);
  const billLines: string[] = [];
  if (detail.billTo.address) billLines.push(...w.wrap(pdfSafe(detail.billTo.address), 280));
  if (detail.billTo.email) billLines.push(...w.wrap(pdfSafe(detail.billTo.email), 280));
  if (detail.billTo.phone) billLines.push(...w.wrap(pdfSafe(detail.billTo.phone), 280));
  for (const line of billLines) {
    w.at(line, LEFT, by);
    by += 11.5;
  }
  w.use(REGULAR, SMALL, MUTED);
  w.at(pdfSafe(`Customer ID: ${detail.customer.id}`), LEFT, by + 2);
  by += 14;

  const boxWidth = 190;
  const boxX = RIGHT - boxWidth;
  w.band(boxX, y, boxWidth, 58);
  w.use(REGULAR, BODY, MUTED);
  w.at('Amount due', boxX + 10, y + 9);
  w.use(BOLD, 16, detail.status === 'void' ? MUTED : INK);
  w.at(money(detail.amountDue, pdfSafe(detail.currency)), boxX + 10, y + 22);
  w.use(REGULAR, SMALL, MUTED);
  const dueNote = detail.status === 'void' ? 'Void: nothing to pay'
    : detail.informational ? 'Paid from points: nothing to pay'
      : isZero(detail.amountDue) ? 'Nothing to pay'
        : detail.dueAt ? `${detail.overdue ? 'Overdue: was due by' : 'Due by'} ${formatDay(detail.dueAt)}` : 'Due date set when issued';
  w.at(dueNote, boxX + 10, y + 43);

  w.y = Math.max(by, y + 58) + 10;

  if (detail.status === 'void') {
    w.use(BOLD, BODY, RED);
    const reason = detail.voidReason ? `This invoice is void: ${detail.voidReason}` : 'This invoice is void.';
    for (const line of w.wrap(pdfSafe(reason), RIGHT - LEFT)) {
      w.at(line, LEFT, w.y);
      w.y += 12;
    }
    w.y += 4;
  }
}

function drawTableHeader(w: Writer, currency: string, continued: string | null): void {
  if (continued) {
    w.use(REGULAR, SMALL, MUTED);
    w.at(continued, LEFT, w.y);
    w.y += 14;
  }
  const y = w.y;
  w.band(LEFT, y, RIGHT - LEFT, 16);
  w.use(BOLD, SMALL, MUTED);
  const ty = y + 4.5;
  w.right('#', COL.pos.right, ty);
  w.at('Description', COL.description.left, ty);
  w.right('Qty', COL.quantity.right, ty);
  w.right('Unit price', COL.unitPrice.right, ty);
  w.right('Discount', COL.discount.right, ty);
  w.right(`Amount ${currency}`, COL.amount.right, ty);
  w.right('Tax', COL.tax.right, ty);
  w.y = y + 20;
}

function drawLines(w: Writer, detail: InvoiceDetail, currency: string): void {
  w.ensure(60);
  w.use(BOLD, 10.5);
  w.at(detail.type === 'monthly' ? 'Charges' : 'Items', LEFT, w.y);
  w.use(REGULAR, SMALL, MUTED);
  const taxIncluded = (line: InvoiceLineView) => taxIncludedOnMonthly(detail.type, line.kind);
  w.right(detail.lines.some(taxIncluded)
    ? 'Usage excludes tax; other lines are points paid, tax included'
    : 'Unit prices and amounts exclude tax', RIGHT, w.y + 2);
  w.y += 16;
  const continued = pdfSafe(`${titleOf(detail)} ${detail.number ?? 'DRAFT'}, continued`);
  drawTableHeader(w, currency, null);
  w.onNewPage = () => drawTableHeader(w, currency, continued);

  const descWidth = COL.description.right - COL.description.left;
  const mixedRates = new Set(detail.lines.map((l) => (taxIncluded(l) ? 'incl.' : l.taxRateBps))).size > 1;
  if (detail.lines.length === 0) {
    w.use(REGULAR, TABLE, MUTED);
    w.at('No lines.', COL.description.left, w.y);
    w.y += TABLE_LINE + 4;
  }
  for (const line of detail.lines) {
    w.use(REGULAR, TABLE);
    const descLines = w.wrap(pdfSafe(line.description), descWidth);
    if (descLines.length === 0) descLines.push('');
    const taxLines = mixedRates ? 2 : 1;
    // Keep a row whole when it fits on a page; a row taller than a page is split by description lines.
    const rowHeight = Math.max(descLines.length, taxLines) * TABLE_LINE + 5;
    if (w.y + rowHeight > BOTTOM && rowHeight <= BOTTOM - TOP - 60) w.newPage();
    let i = 0;
    let first = true;
    while (i < descLines.length || first) {
      if (w.y + TABLE_LINE + 5 > BOTTOM) w.newPage();
      const top = w.y + 2;
      w.use(REGULAR, TABLE);
      if (first) {
        w.right(String(line.position), COL.pos.right, top);
        w.right(pdfSafe(line.quantity), COL.quantity.right, top);
        w.right(groupDigits(line.unitPrice), COL.unitPrice.right, top);
        w.right(isZero(line.discount) ? '\u2013' : `-${groupDigits(line.discount)}`, COL.discount.right, top);
        w.right(groupDigits(line.amount), COL.amount.right, top);
        w.right(groupDigits(line.tax), COL.tax.right, top);
        if (mixedRates) {
          w.use(REGULAR, SMALL, MUTED);
          w.right(taxIncluded(line) ? 'incl.' : line.taxCategory === 'standard' ? ratePercent(line.taxRateBps) : line.taxCategory === 'exempt' ? 'exempt' : '0%', COL.tax.right, top + TABLE_LINE);
          w.use(REGULAR, TABLE);
        }
      }
      let ly = top;
      const room = Math.max(1, Math.floor((BOTTOM - 5 - top) / TABLE_LINE));
      const end = Math.min(descLines.length, i + room);
      for (; i < end; i++) {
        w.at(descLines[i]!, COL.description.left, ly);
        ly += TABLE_LINE;
      }
      const used = Math.max(ly - top, first ? taxLines * TABLE_LINE : 0);
      w.y = top + used + 3;
      w.rule(LEFT, RIGHT, w.y - 1.5);
      first = false;
    }
  }
  w.onNewPage = null;
  w.y += 6;
}

function drawTotals(w: Writer, detail: InvoiceDetail, currency: string): void {
  const rows: { label: string; value: string; strong?: boolean; color?: string }[] = [];
  if (!isZero(detail.discount)) {
    rows.push({ label: 'Before discounts', value: money(addAmounts(detail.subtotal, detail.discount), currency) });
    rows.push({ label: 'Discount', value: money(`-${detail.discount}`.replace('--', ''), currency) });
  }
  rows.push({ label: 'Subtotal (excl. tax)', value: money(detail.subtotal, currency) });
  rows.push({ label: taxLabel(detail.lines), value: money(detail.tax, currency) });
  rows.push({ label: 'Total', value: money(detail.total, currency), strong: true });
  rows.push({ label: 'Amount paid', value: money(detail.amountPaid, currency) });
  // Of what was paid, given back by credit notes (outcome refund or points); the amount paid stays as it was.
  if (!isZero(detail.amountRefunded)) rows.push({ label: 'Refunded', value: money(detail.amountRefunded, currency) });
  if (!isZero(detail.amountCreditedToPoints)) rows.push({ label: 'Credited to points', value: money(detail.amountCreditedToPoints, currency) });
  if (!isZero(detail.amountCredited)) rows.push({ label: 'Amount credited', value: money(detail.amountCredited, currency) });
  rows.push({ label: 'Amount due', value: money(detail.amountDue, currency), strong: true, color: detail.overdue ? RED : INK });

  const height = rows.length * 15 + 10;
  w.ensure(height);
  const labelRight = RIGHT - 120;
  for (const row of rows) {
    if (row.label === 'Total' || row.label === 'Amount due') w.rule(labelRight - 100, RIGHT, w.y - 3);
    w.use(row.strong ? BOLD : REGULAR, row.strong ? 10 : BODY, row.strong ? INK : MUTED);
    w.right(row.label, labelRight, w.y);
    w.use(row.strong ? BOLD : REGULAR, row.strong ? 10 : BODY, row.color ?? INK);
    w.right(row.value, RIGHT, w.y);
    w.y += 15;
  }
  w.y += 8;
}

/** A heading with room for at least `minBody` points under it. */
function heading(w: Writer, text: string, minBody: number): void {
  w.ensure(22 + minBody);
  w.use(BOLD, 10.5);
  w.at(text, LEFT, w.y);
  w.y += 16;
}

function drawPayments(w: Writer, detail: InvoiceDetail, currency: string): void {
  if (detail.payments.length === 0) return;
  heading(w, 'Payments and credits applied', 40);
  const cols = { date: LEFT, source: LEFT + 90, reference: LEFT + 170, amount: RIGHT };
  const header = () => {
    w.band(LEFT, w.y, RIGHT - LEFT, 15);
    w.use(BOLD, SMALL, MUTED);
    w.at('Date', cols.date + 4, w.y + 4);
    w.at('Source', cols.source, w.y + 4);
    w.at('Reference', cols.reference, w.y + 4);
    w.right(`Amount ${currency}`, cols.amount, w.y + 4);
    w.y += 19;
  };
  header();
  w.onNewPage = header;
  for (const p of detail.payments) {
    w.ensure(TABLE_LINE + 4);
    w.use(REGULAR, TABLE);
    w.at(formatDay(p.paidAt), cols.date + 4, w.y);
    w.at(SOURCE_LABEL[p.source] ?? pdfSafe(p.source), cols.source, w.y);
    const ref = w.wrap(pdfSafe(p.reference ?? '\u2013'), cols.amount - 90 - cols.reference)[0] ?? '';
    w.at(ref, cols.reference, w.y);
    w.right(groupDigits(p.amount), cols.amount, w.y);
    w.y += TABLE_LINE + 3;
  }
  w.onNewPage = null;
  w.y += 8;
}

function drawStatement(w: Writer, detail: InvoiceDetail, currency: string): void {
  const s = detail.statement!;
  heading(w, pdfSafe(`Statement for ${formatPeriod(s.periodStart, s.periodEnd)}`), 80);
  if (detail.informational) {
    w.use(BOLD, BODY, GREEN);
    w.at('Already paid from your points: nothing to pay.', LEFT, w.y);
    w.y += 16;
  }
  const pairs: [string, string][] = [
    ['Opening points', money(s.openingPoints, currency)],
    ['Closing points', money(s.closingPoints, currency)],
  ];
  for (const [label, value] of pairs) {
    w.ensure(14);
    w.use(REGULAR, BODY, MUTED);
    w.at(label, LEFT, w.y);
    w.use(REGULAR, BODY);
    w.right(value, LEFT + 220, w.y);
    w.y += 13;
  }
  w.y += 8;

  // Usage by category.
  w.ensure(50);
  w.use(BOLD, BODY);
  w.at('Usage by category', LEFT, w.y);
  w.y += 14;
  // A category's amount is what the points paid, tax included (ADR 0032): when any carried tax, a column says how much.
  const withTax = s.usage.some((u) => !isZero(u.tax));
  const cols = withTax
    ? { label: LEFT + 4, calls: LEFT + 260, time: LEFT + 340, amount: RIGHT - 85, tax: RIGHT }
    : { label: LEFT + 4, calls: LEFT + 300, time: LEFT + 390, amount: RIGHT, tax: RIGHT };
  const header = () => {
    w.band(LEFT, w.y, RIGHT - LEFT, 15);
    w.use(BOLD, SMALL, MUTED);
    w.at('Category', cols.label, w.y + 4);
    w.right('Calls', cols.calls, w.y + 4);
    w.right('Duration', cols.time, w.y + 4);
    w.right(`Amount ${currency}`, cols.amount, w.y + 4);
    if (withTax) w.right('Of which tax', cols.tax, w.y + 4);
    w.y += 19;
  };
  header();
  w.onNewPage = header;
  if (s.usage.length === 0) {
    w.use(REGULAR, TABLE, MUTED);
    w.at('No usage in this period.', cols.label, w.y);
    w.y += TABLE_LINE + 3;
  }
  for (const u of s.usage) {
    w.ensure(TABLE_LINE + 4);
    w.use(REGULAR, TABLE);
    w.at(w.wrap(pdfSafe(u.label || u.category), cols.calls - 60 - cols.label)[0] ?? '', cols.label, w.y);
    w.right(String(u.calls), cols.calls, w.y);
    w.right(formatBilledTime(u.seconds), cols.time, w.y);
    w.right(groupDigits(u.amount), cols.amount, w.y);
    if (withTax) w.right(groupDigits(u.tax), cols.tax, w.y);
    w.y += TABLE_LINE + 3;
  }
  w.onNewPage = null;
  w.y += 8;

  const activity: [string, { count: number; amount: string }][] = [
    ['Renewals', s.renewals],
    ['Purchases', s.purchases],
    ['Top-ups', s.topUps],
    ['Credits', s.credits],
    ...(s.other.count > 0 ? [['Other', s.other] as [string, { count: number; amount: string }]] : []),
  ];
  w.ensure(14 + activity.length * 13);
  w.use(BOLD, BODY);
  w.at('Activity', LEFT, w.y);
  w.y += 14;
  for (const [label, figure] of activity) {
    w.use(REGULAR, BODY, MUTED);
    w.at(`${label} (${figure.count})`, LEFT, w.y);
    w.use(REGULAR, BODY);
    w.right(money(figure.amount, currency), LEFT + 220, w.y);
    w.y += 13;
  }
  w.y += 10;
}

function paragraph(w: Writer, title: string, text: string, color = INK): void {
  w.use(REGULAR, BODY);
  const lines = w.wrap(pdfSafe(text), RIGHT - LEFT);
  heading(w, title, Math.min(lines.length, 3) * 12);
  for (const line of lines) {
    w.ensure(12);
    w.use(REGULAR, BODY, color);
    w.at(line, LEFT, w.y);
    w.y += 12;
  }
  w.y += 8;
}

function drawClosingText(w: Writer, detail: InvoiceDetail): void {
  const payable = detail.status !== 'void' && !detail.informational && !isZero(detail.amountDue);
  if (payable && detail.seller.paymentInstructions) paragraph(w, 'How to pay', detail.seller.paymentInstructions);
  if (detail.notes) paragraph(w, 'Notes', detail.notes);
  if (detail.status === 'void' && detail.voidReason) paragraph(w, 'Void reason', detail.voidReason, RED);
}

