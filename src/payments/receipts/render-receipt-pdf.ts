import {
  BODY, BOLD, drawPageFooters, formatDay, GREEN, groupDigits, INK, LEFT, MUTED, openPdf, pdfSafe, RED, REGULAR, RIGHT, SMALL, TOP,
} from '../../invoices/pdf/pdf-layout.ts';
import { METHOD_LABEL, topUpSplit, type ReceiptView } from './receipt-view.ts';

/**
 * A payment receipt as a PDF (A4, pdfkit's built-in Helvetica, real text so tests read it back), laid out like the invoice
 * PDF with the same page, palette, writer and footers (src/invoices/pdf/pdf-layout.ts): the seller block from the partner's invoicing settings (legal name, trading
 * name, address, tax ID, email) and the title block (receipt number, status, dates) on top; the payer; the payment (method,
 * amount, received date, reference); what it paid (invoices with amounts, points) and what is left; a reversal notice and a
 * REVERSED watermark once reversed; a footer with "Page i of N" on every page. Pure: no database, no clock unless
 * `generatedAt` is left out. (The partner's logo is not drawn: the invoice renderer's logo pipeline is private to it.)
 */
export interface RenderReceiptPdfOptions {
  generatedAt?: Date;
  compress?: boolean;
}

const LINE = 12;

const money = (amount: string, currency: string) => `${currency} ${groupDigits(amount)}`;
const isZero = (amount: string) => /^-?0+(\.0+)?$/.test(amount);

const STATUS_LABEL: Record<ReceiptView['status'], string> = {
  unassigned: 'Received, payer not yet identified',
  unallocated: 'Received',
  partially_allocated: 'Partly applied',
  allocated: 'Applied',
  reversed: 'Reversed',
};

function lineLabel(line: ReceiptView['lines'][number]): string {
  if (line.kind === 'points') return 'Credited to your points';
  const number = line.invoiceNumber ?? line.invoiceId ?? '';
  return line.invoiceType === 'top_up' ? `Top-up invoice ${number} (${topUpSplit(line)})` : `Invoice ${number}`;
}

export async function renderReceiptPdf(receipt: ReceiptView, options: RenderReceiptPdfOptions = {}): Promise<Buffer> {
  const generatedAt = options.generatedAt ?? new Date();
  const sellerName = pdfSafe(receipt.seller.legalName ?? receipt.seller.name);
  const currency = pdfSafe(receipt.currency);
  const number = pdfSafe(receipt.number);
  const { w, finish } = openPdf({
    compress: options.compress ?? true,
    info: { Title: `Payment receipt ${number}`, Author: sellerName, Subject: `Payment receipt ${number}`, CreationDate: generatedAt },
  });
  const reversed = receipt.status === 'reversed';

  // ---- seller (left) and title (right) ----
  let y = TOP;
  w.use(BOLD, 12);
  for (const line of w.wrap(sellerName, 250)) {
    w.at(line, LEFT, y);
    y += 15;
  }
  w.use(REGULAR, BODY, MUTED);
  const seller: string[] = [];
  if (receipt.seller.legalName && receipt.seller.legalName !== receipt.seller.name) seller.push(...w.wrap(pdfSafe(`Trading as ${receipt.seller.name}`), 250));
  if (receipt.seller.address) seller.push(...w.wrap(pdfSafe(receipt.seller.address), 250));
  if (receipt.seller.taxId) seller.push(...w.wrap(pdfSafe(`Tax ID: ${receipt.seller.taxId}`), 250));
  if (receipt.seller.email) seller.push(...w.wrap(pdfSafe(receipt.seller.email), 250));
  for (const line of seller) {
    w.at(line, LEFT, y);
    y += 11.5;
  }

  let ry = TOP;
  w.use(BOLD, 18);
  w.right('Payment receipt', RIGHT, ry);
  ry += 26;
  const facts: [string, string][] = [
    ['Receipt no.', number],
    ['Status', STATUS_LABEL[receipt.status]],
    ['Received on', formatDay(receipt.receivedOn)],
    ['Recorded on', formatDay(receipt.recordedAt)],
    ...(receipt.reversal ? [['Reversed on', formatDay(receipt.reversal.at)] as [string, string]] : []),
    ['Currency', currency],
  ];
  for (const [label, value] of facts) {
    w.use(REGULAR, BODY, MUTED);
    w.right(label, RIGHT - 150, ry);
    w.use(label === 'Receipt no.' ? BOLD : REGULAR, BODY, label === 'Status' && reversed ? RED : INK);
    w.right(pdfSafe(value), RIGHT, ry);
    ry += 12.5;
  }

  // ---- received from (left), amount box (right) ----
  y = Math.max(y, ry) + 16;
  w.rule(LEFT, RIGHT, y - 8);
  let by = y;
  w.use(BOLD, SMALL, MUTED);
  w.at('RECEIVED FROM', LEFT, by);
  by += 12;
  if (receipt.payer) {
    w.use(BOLD, 10.5);
    for (const line of w.wrap(pdfSafe(receipt.payer.name), 280)) {
      w.at(line, LEFT, by);
      by += 13;
    }
    w.use(REGULAR, BODY);
    const payer = [receipt.payer.address, receipt.payer.email, receipt.payer.phone].filter((s): s is string => Boolean(s)).flatMap((s) => w.wrap(pdfSafe(s), 280));
    for (const line of payer) {
      w.at(line, LEFT, by);
      by += 11.5;
    }
    w.use(REGULAR, SMALL, MUTED);
    w.at(pdfSafe(`Customer ID: ${receipt.payer.id}`), LEFT, by + 2);
    by += 14;
  } else {
    w.use(REGULAR, BODY, MUTED);
    w.at('Payer not yet identified', LEFT, by);
    by += 13;
  }
  const boxWidth = 190;
  const boxX = RIGHT - boxWidth;
  w.band(boxX, y, boxWidth, 58);
  w.use(REGULAR, BODY, MUTED);
  w.at('Amount received', boxX + 10, y + 9);
  w.use(BOLD, 16, reversed ? MUTED : INK);
  w.at(money(receipt.amount, currency), boxX + 10, y + 22);
  w.use(REGULAR, SMALL, reversed ? RED : MUTED);
  w.at(reversed ? 'Reversed: this payment no longer counts' : `${METHOD_LABEL[receipt.method]}, ${formatDay(receipt.receivedOn)}`, boxX + 10, y + 43);
  w.y = Math.max(by, y + 58) + 14;

  // ---- the payment ----
  const heading = (text: string, room: number) => {
    w.ensure(22 + room);
    w.use(BOLD, 10.5);
    w.at(text, LEFT, w.y);
    w.y += 16;
  };
  heading('Payment', 4 * LINE);
  const details: [string, string][] = [
    ['Method', METHOD_LABEL[receipt.method]],
    ['Amount', money(receipt.amount, currency)],
    ['Received on', formatDay(receipt.receivedOn)],
    ['Reference', pdfSafe(receipt.reference ?? '\u2013')],
  ];
  for (const [label, value] of details) {
    w.use(REGULAR, BODY, MUTED);
    w.at(label, LEFT, w.y);
    w.use(REGULAR, BODY);
    const lines = w.wrap(value, RIGHT - LEFT - 120);
    for (const line of lines) {
      w.at(line, LEFT + 120, w.y);
      w.y += LINE;
    }
  }
  w.y += 8;

  // ---- what it paid ----
  heading(reversed ? 'Applied before the reversal' : 'Applied to', 3 * LINE);
  const cols = { date: LEFT + 4, what: LEFT + 90, amount: RIGHT };
  const tableHeader = () => {
    w.band(LEFT, w.y, RIGHT - LEFT, 15);
    w.use(BOLD, SMALL, MUTED);
    w.at('Date', cols.date, w.y + 4);
    w.at('Applied to', cols.what, w.y + 4);
    w.right(`Amount ${currency}`, cols.amount, w.y + 4);
    w.y += 19;
  };
  tableHeader();
  w.onNewPage = tableHeader;
  if (receipt.lines.length === 0) {
    w.use(REGULAR, BODY, MUTED);
    w.at(receipt.payer ? 'Not applied to any invoice yet.' : 'Applied once the payer is identified.', cols.what, w.y);
    w.y += LINE + 2;
  }
  for (const line of receipt.lines) {
    w.ensure(LINE + 3);
    w.use(REGULAR, BODY, line.reversed ? MUTED : INK);
    w.at(formatDay(line.at), cols.date, w.y);
    w.at(pdfSafe(lineLabel(line)) + (line.reversed ? ' (reversed)' : ''), cols.what, w.y);
    w.right(groupDigits(line.amount), cols.amount, w.y);
    w.y += LINE + 2;
    w.rule(LEFT, RIGHT, w.y - 3);
  }
  w.onNewPage = null;
  w.y += 8;

  // ---- totals ----
  const totals: [string, string, boolean][] = [
    ['Applied to invoices', money(receipt.allocated, currency), false],
    ...(isZero(receipt.toPoints) ? [] : [['Credited to points', money(receipt.toPoints, currency), false] as [string, string, boolean]]),
    [reversed ? 'Unapplied at reversal' : 'Unapplied (kept as credit)', money(receipt.unallocated, currency), false],
    ['Amount received', money(receipt.amount, currency), true],
  ];
  w.ensure(totals.length * 15 + 10);
  for (const [label, value, strong] of totals) {
    if (strong) w.rule(RIGHT - 260, RIGHT, w.y - 3);
    w.use(strong ? BOLD : REGULAR, strong ? 10 : BODY, strong ? INK : MUTED);
    w.right(label, RIGHT - 120, w.y);
    w.use(strong ? BOLD : REGULAR, strong ? 10 : BODY);
    w.right(value, RIGHT, w.y);
    w.y += 15;
  }
  w.y += 10;

  // ---- reversal ----
  if (receipt.reversal) {
    heading('Payment reversed', 2 * LINE);
    w.use(REGULAR, BODY, RED);
    const text = [
      `This payment was reversed on ${formatDay(receipt.reversal.at)}: ${receipt.reversal.reason}.`,
      'Every amount above was taken back: the invoices it paid are open again, and points it credited were taken back.',
      ...(receipt.reversal.debitNote ? [`Points already spent beyond the credit limit are billed on invoice ${receipt.reversal.debitNote.number ?? receipt.reversal.debitNote.id}.`] : []),
    ].join('\n');
    for (const line of w.wrap(pdfSafe(text), RIGHT - LEFT)) {
      w.ensure(LINE);
      w.at(line, LEFT, w.y);
      w.y += LINE;
    }
  } else {
    w.ensure(2 * LINE);
    w.use(REGULAR, BODY, GREEN);
    w.at(pdfSafe(`Thank you for your payment.${receipt.payer && !isZero(receipt.unallocated) ? ' What is not applied yet stays on your account as credit.' : ''}`), LEFT, w.y);
    w.y += LINE;
  }

  // ---- footers and watermark ----
  drawPageFooters(w, {
    left: `${sellerName} \u00b7 Payment receipt ${number}`, generatedAt,
    watermark: reversed ? { text: 'REVERSED', color: RED, size: 96, dy: -50 } : null,
  });
  return finish();
}
