import { drawPageFooters, formatDay, groupDigits, INK, LEFT, MUTED, openPdf, pdfSafe, RED, RIGHT } from '../invoices/pdf/pdf-layout.ts';
import type { InvoiceLogo } from '../invoices/invoice-view-types.ts';
import type { CreditNoteDetail } from './credit-note-views.ts';

/**
 * The credit note as a PDF (A4, pdfkit's built-in Helvetica, real text so tests read it back with pdf-text.ts): seller and
 * title, bill-to, the invoice it corrects, the credited lines (quantity, net, tax, total), totals, what happens to the money
 * (outcome), reason and memo; the footer and the DRAFT or VOID watermark of a credit note that is not issued are the
 * invoice's (src/invoices/pdf/pdf-layout.ts).
 * The margin effect is for Finance only: it is on the screen, not on the customer's document.
 */
export interface RenderCreditNotePdfOptions {
  seller: { name: string; address: string | null; taxId: string | null; email: string | null };
  billTo: { name: string; address: string | null; email: string | null };
  logo: InvoiceLogo | null;
  generatedAt?: Date;
}

const BOTTOM = 780;

const REASONS: Record<CreditNoteDetail['reason'], string> = {
  cancellation: 'Cancellation', downgrade: 'Downgrade', service_issue: 'Service issue', billing_error: 'Billing error', write_off: 'Write-off', other: 'Other',
};

export function outcomeText(d: Pick<CreditNoteDetail, 'outcome' | 'refundMethod' | 'refundStatus' | 'refundReference' | 'invoice'>): string {
  switch (d.outcome) {
    case 'reduce_due': return `Deducted from the amount due on invoice ${d.invoice.number ?? ''}`.trim();
    case 'points': return 'Credited to your points';
    case 'refund': {
      if (d.refundMethod === 'card') {
        const state = d.refundStatus === 'refunded' ? 'refunded' : d.refundStatus === 'failed' ? 'refund refused by the card network: we will pay it another way' : 'refund in progress';
        return `Refunded to your card (${state})`;
      }
      return `Refunded by ${d.refundMethod === 'cheque' ? 'cheque' : 'bank transfer'}${d.refundReference ? `, reference ${d.refundReference}` : ''}`;
    }
    default: return 'Not issued yet';
  }
}

export async function renderCreditNotePdf(d: CreditNoteDetail, options: RenderCreditNotePdfOptions): Promise<Buffer> {
  const generatedAt = options.generatedAt ?? new Date();
  const number = d.number ?? 'DRAFT';
  const { doc, w, finish } = openPdf({
    info: { Title: pdfSafe(`Credit note ${number}`), Author: pdfSafe(options.seller.name), CreationDate: generatedAt },
  });
  const money = (amount: string) => `${groupDigits(amount)}`;
  const text = (s: string, x: number, y: number, opts: PDFKit.Mixins.TextOptions = {}) => doc.text(pdfSafe(s), x, y, { lineBreak: false, ...opts });

  // Header: seller left, title right.
  let y = 40;
  if (options.logo) {
    try {
      doc.image(options.logo.data, LEFT, y, { fit: [120, 50] });
      y += 58;
    } catch {
      // An unreadable logo is left out: the document matters more than the picture.
    }
  }
  doc.fillColor(INK).font('Helvetica-Bold').fontSize(12);
  text(options.seller.name, LEFT, y);
  doc.font('Helvetica').fontSize(9).fillColor(MUTED);
  let sy = y + 16;
  for (const line of [...(options.seller.address?.split('\n') ?? []), ...(options.seller.taxId ? [`Tax ID ${options.seller.taxId}`] : []), ...(options.seller.email ? [options.seller.email] : [])]) {
    text(line, LEFT, sy);
    sy += 11;
  }
  doc.fillColor(INK).font('Helvetica-Bold').fontSize(18);
  text('CREDIT NOTE', 360, 40, { width: RIGHT - 360, align: 'right' });
  doc.font('Helvetica').fontSize(9);
  const facts: Array<[string, string]> = [
    ['Number', number], ['Status', d.status === 'issued' ? 'Issued' : d.status === 'void' ? 'Void' : 'Draft'],
    ['Issued', d.issuedAt ? formatDay(d.issuedAt) : '-'], ['Invoice', d.invoice.number ?? d.invoice.id], ['Reason', REASONS[d.reason]],
  ];
  let fy = 66;
  for (const [k, v] of facts) {
    doc.fillColor(MUTED);
    text(k, 360, fy);
    doc.fillColor(INK);
    text(v, 420, fy, { width: RIGHT - 420, align: 'right' });
    fy += 13;
  }
  y = Math.max(sy, fy) + 16;

  // Bill-to and the amount credited.
  doc.fillColor(MUTED).fontSize(8);
  text('CREDITED TO', LEFT, y);
  doc.fillColor(INK).font('Helvetica-Bold').fontSize(10);
  text(options.billTo.name, LEFT, y + 12);
  doc.font('Helvetica').fontSize(9);
  let by = y + 26;
  for (const line of [...(options.billTo.address?.split('\n') ?? []), ...(options.billTo.email ? [options.billTo.email] : [])]) {
    text(line, LEFT, by);
    by += 11;
  }
  doc.fillColor(MUTED).fontSize(8);
  text('AMOUNT CREDITED', 360, y, { width: RIGHT - 360, align: 'right' });
  doc.fillColor(INK).font('Helvetica-Bold').fontSize(16);
  text(`${money(d.total)} ${d.currency}`, 300, y + 12, { width: RIGHT - 300, align: 'right' });
  y = Math.max(by, y + 40) + 16;

  // Lines.
  const header = (at: number) => {
    doc.font('Helvetica-Bold').fontSize(8.5).fillColor(MUTED);
    text('#', LEFT, at);
    text('Description', LEFT + 22, at);
    text('Qty', 300, at, { width: 40, align: 'right' });
    text('Net', 350, at, { width: 60, align: 'right' });
    text('Tax', 420, at, { width: 55, align: 'right' });
    text(`Total (${d.currency})`, 480, at, { width: RIGHT - 480, align: 'right' });
    doc.moveTo(LEFT, at + 12).lineTo(RIGHT, at + 12).strokeColor('#d5dbe1').stroke();
    return at + 18;
  };
  y = header(y);
  doc.font('Helvetica').fontSize(8.5).fillColor(INK);
  d.lines.forEach((l, i) => {
    if (y > BOTTOM - 20) {
      doc.addPage();
      y = header(40);
      doc.font('Helvetica').fontSize(8.5).fillColor(INK);
    }
    text(String(l.invoiceLinePosition ?? i + 1), LEFT, y);
    text(l.description.length > 60 ? `${l.description.slice(0, 57)}...` : l.description, LEFT + 22, y, { width: 250, ellipsis: true });
    text(l.quantity ?? '', 300, y, { width: 40, align: 'right' });
    text(money(l.amount), 350, y, { width: 60, align: 'right' });
    text(money(l.tax), 420, y, { width: 55, align: 'right' });
    text(money(l.total), 480, y, { width: RIGHT - 480, align: 'right' });
    y += 13;
  });
  if (y > BOTTOM - 120) {
    doc.addPage();
    y = 40;
  }

  // Totals.
  y += 6;
  doc.moveTo(330, y).lineTo(RIGHT, y).strokeColor('#d5dbe1').stroke();
  y += 6;
  for (const [k, v, bold] of [['Subtotal', d.subtotal, false], ['Tax', d.tax, false], ['Total credited', d.total, true]] as const) {
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(bold ? 10 : 9).fillColor(INK);
    text(k, 330, y);
    text(`${money(v)} ${d.currency}`, 420, y, { width: RIGHT - 420, align: 'right' });
    y += 14;
  }
  y += 10;
  doc.font('Helvetica-Bold').fontSize(9).fillColor(INK);
  text('How it is credited', LEFT, y);
  doc.font('Helvetica').fontSize(9);
  text(outcomeText(d), LEFT, y + 13);
  y += 32;
  if (d.memo) {
    doc.font('Helvetica-Bold').fontSize(9);
    text('Note', LEFT, y);
    doc.font('Helvetica').fontSize(9);
    doc.text(pdfSafe(d.memo), LEFT, y + 13, { width: RIGHT - LEFT });
  }

  // Watermark and footers.
  drawPageFooters(w, {
    left: `${options.seller.name} \u00b7 Credit note ${number}`, generatedAt,
    watermark: d.status === 'issued' ? null : { text: d.status === 'void' ? 'VOID' : 'DRAFT', color: d.status === 'void' ? RED : MUTED, size: 120, dy: -60 },
  });
  return finish();
}
