import { parseAmount, roundToMinorUnit, type Currency } from '../money/money.ts';
import { DomainError, type FieldError } from '../platform/errors.ts';
import { displayQuantity, isPlainNumber, parseQuantity, spreadTax } from '../invoices/invoice-totals.ts';
import type { CreditNoteMode, StoredCreditLine } from './credit-notes.db-types.ts';

/**
 * THE arithmetic of a credit note (docs/adr/0015-credit-notes.md). Pure: no database, no clock. Every figure is whole minor
 * units of the invoice's currency; every division goes through roundToMinorUnit (the one rounding rule) or spreadTax
 * (largest remainder, so shares add up exactly).
 *
 * What is left to credit is tracked per invoice line: its net and tax less what ISSUED credit notes took from it (every
 * credit note, whatever its mode, records what it took from each line). So the invoice's creditable amount, total less
 * earlier credit notes, is the sum of its lines' remainders, and credit notes never exceed the invoice total.
 * - `whole`: every line's remainder (net and tax), quantity what is left of it.
 * - `lines`: per chosen line, a quantity (net = line net x q / line quantity, rounded once; the last of it takes exactly the
 *   remainder) or a net amount (at most the remainder); tax = line tax x net / line net, rounded once, the last of it exactly
 *   the remaining tax.
 * - `amount`: a custom amount INCLUDING tax: tax = amount x remaining tax / remaining total (rounded once; all of it when the
 *   amount is all that is left), net = amount - tax; both spread over the lines by their remainders (spreadTax).
 * Cost (the margin effect): a line of a catalog variant has a unit cost; the credited part costs unit cost x quantity credited
 * (or the amount's share of the line's quantity). No cost known: null.
 */
export interface InvoiceLineFacts {
  position: number;
  description: string;
  /** Decimal string as stored (`"2.000000"`). */
  quantity: string;
  /** Pre-tax net of the line. */
  amountMicros: bigint;
  taxMicros: bigint;
  /** Cost of one unit, when the line is a catalog variant with a cost in the invoice's currency. */
  unitCostMicros: bigint | null;
  /** What issued credit notes already took from this line. */
  creditedAmountMicros: bigint;
  creditedTaxMicros: bigint;
  /** Quantity already credited by quantity, in millionths. */
  creditedQuantity: bigint;
  /** The part of `creditedAmountMicros` those quantity credits took (the rest was credited by amount). */
  creditedAmountByQuantityMicros: bigint;
}

export interface CreditRequest {
  mode: CreditNoteMode;
  lines?: ReadonlyArray<{ position: number; quantity?: string | undefined; amount?: string | undefined }> | undefined;
  /** Custom amount including tax (amount mode), micros. */
  amountMicros?: bigint | undefined;
}

export interface ComputedCredit {
  lines: StoredCreditLine[];
  subtotalMicros: bigint;
  taxMicros: bigint;
  totalMicros: bigint;
  /** Sum of the known costs; null when no credited line has a known cost. */
  costMicros: bigint | null;
  /** Whether every credited line has a known cost. */
  costKnown: 'all' | 'some' | 'none';
}

const Q = 1_000_000n;

export function remainingOf(line: InvoiceLineFacts): { amountMicros: bigint; taxMicros: bigint; quantity: bigint } {
  const quantity = parseQuantity(line.quantity) ?? 0n;
  const byAmount = line.amountMicros - line.creditedAmountMicros;
  // Quantity left: the invoiced quantity less what was credited by quantity (exactly: their amounts were rounded, not
  // their quantities) and less the quantity that credits by amount stand for (rounded up); none once no amount is left.
  let left = quantity - line.creditedQuantity;
  const byAmountOnly = line.creditedAmountMicros - line.creditedAmountByQuantityMicros;
  if (line.amountMicros > 0n && byAmountOnly > 0n) left -= (quantity * byAmountOnly + line.amountMicros - 1n) / line.amountMicros;
  if (byAmount <= 0n) left = 0n;
  return { amountMicros: byAmount, taxMicros: line.taxMicros - line.creditedTaxMicros, quantity: left < 0n ? 0n : left };
}

/** What is left to credit on the whole invoice (total less issued credit notes). */
export function creditableOf(lines: readonly InvoiceLineFacts[]): { amountMicros: bigint; taxMicros: bigint; totalMicros: bigint } {
  let amountMicros = 0n;
  let taxMicros = 0n;
  for (const l of lines) {
    const r = remainingOf(l);
    amountMicros += r.amountMicros;
    taxMicros += r.taxMicros;
  }
  return { amountMicros, taxMicros, totalMicros: amountMicros + taxMicros };
}

function quantityString(millionths: bigint): string {
  return displayQuantity(`${millionths / Q}.${(millionths % Q).toString().padStart(6, '0')}`);
}

function costOf(currency: Currency, line: InvoiceLineFacts, quantityMillionths: bigint | null, netMicros: bigint): bigint | null {
  if (line.unitCostMicros === null) return null;
  if (quantityMillionths !== null) return roundToMinorUnit(line.unitCostMicros, currency, quantityMillionths, Q);
  const quantity = parseQuantity(line.quantity) ?? 0n;
  if (line.amountMicros === 0n) return 0n;
  return roundToMinorUnit(line.unitCostMicros, currency, quantity * netMicros, Q * line.amountMicros);
}

function taxFor(currency: Currency, line: InvoiceLineFacts, netMicros: bigint): bigint {
  const left = remainingOf(line);
  if (netMicros === left.amountMicros) return left.taxMicros;
  if (line.amountMicros === 0n) return 0n;
  const tax = roundToMinorUnit(line.taxMicros, currency, netMicros, line.amountMicros);
  return tax < left.taxMicros ? tax : left.taxMicros;
}

function fail(code: 'credit_exceeds_creditable' | 'credit_exceeds_line' | 'validation_failed' | 'rule_violation', detail: string, errors?: FieldError[]): never {
  throw new DomainError(code, detail, errors);
}

/** Compute a credit note from the invoice's lines (with what issued credit notes took) and the request. Throws DomainError. */
export function computeCredit(currency: Currency, invoiceLines: readonly InvoiceLineFacts[], request: CreditRequest, fmt: (m: bigint) => string): ComputedCredit {
  const out: StoredCreditLine[] = [];
  const push = (line: InvoiceLineFacts, quantity: bigint | null, net: bigint, tax: bigint, shownQuantity: bigint | null) => {
    const cost = costOf(currency, line, quantity, net);
    out.push({
      invoiceLinePosition: line.position, description: line.description,
      quantity: shownQuantity === null ? null : quantityString(shownQuantity),
      amountMicros: net.toString(), taxMicros: tax.toString(), costMicros: cost === null ? null : cost.toString(),
    });
  };
  const creditable = creditableOf(invoiceLines);

  if (request.mode === 'whole') {
    if (request.lines !== undefined || request.amountMicros !== undefined) {
      fail('validation_failed', 'A whole-invoice credit note takes neither lines nor an amount', [{ path: 'mode', message: 'whole: no lines, no amount' }]);
    }
    for (const line of invoiceLines) {
      const left = remainingOf(line);
      if (left.amountMicros <= 0n && left.taxMicros <= 0n) continue;
      push(line, left.quantity > 0n ? left.quantity : null, left.amountMicros, left.taxMicros, left.quantity > 0n ? left.quantity : null);
    }
    if (out.length === 0) fail('credit_exceeds_creditable', 'Nothing is left to credit on this invoice: earlier credit notes cover its total');
  } else if (request.mode === 'lines') {
    if (request.amountMicros !== undefined) fail('validation_failed', 'A credit note of lines takes no amount', [{ path: 'amount', message: 'only with mode amount' }]);
    const chosen = request.lines ?? [];
    if (chosen.length === 0) fail('validation_failed', 'Choose at least one line to credit', [{ path: 'lines', message: 'at least one line' }]);
    const seen = new Set<number>();
    chosen.forEach((c, i) => {
      const line = invoiceLines.find((l) => l.position === c.position);
      if (!line) fail('rule_violation', `The invoice has no line ${c.position}`, [{ path: `lines.${i}.position`, message: 'no such line on the invoice' }]);
      if (seen.has(c.position)) fail('validation_failed', `Line ${c.position} is chosen twice`, [{ path: `lines.${i}.position`, message: 'each line at most once' }]);
      seen.add(c.position);
      if ((c.quantity === undefined) === (c.amount === undefined)) {
        fail('validation_failed', 'Give a quantity or an amount for each line', [{ path: `lines.${i}`, message: 'exactly one of quantity or amount' }]);
      }
      const left = remainingOf(line);
      if (c.quantity !== undefined) {
        const q = parseQuantity(c.quantity.trim());
        // Not a number: malformed (400). A number below or at zero, or with more than 6 decimals: a rule (422, docs/adr/0040).
        if (q === null || q <= 0n) {
          fail(q === null && !isPlainNumber(c.quantity.trim()) ? 'validation_failed' : 'rule_violation', 'A quantity is a positive decimal with at most 6 decimals',
            [{ path: `lines.${i}.quantity`, message: 'a positive decimal, at most 6 decimals' }]);
        }
        if (q > left.quantity) {
          fail('credit_exceeds_line', `Line ${line.position} has ${quantityString(left.quantity)} left to credit, ${quantityString(q)} asked`,
            [{ path: `lines.${i}.quantity`, message: `at most ${quantityString(left.quantity)}` }]);
        }
        const invoiced = parseQuantity(line.quantity) ?? Q;
        let net = q === left.quantity ? left.amountMicros : roundToMinorUnit(line.amountMicros, currency, q, invoiced);
        if (net > left.amountMicros) net = left.amountMicros;
        if (net <= 0n) fail('rule_violation', `Line ${line.position}: that quantity credits nothing`, [{ path: `lines.${i}.quantity`, message: 'credits nothing' }]);
        push(line, q, net, taxFor(currency, line, net), q);
      } else {
        const net = parseAmount(c.amount!, currency, `lines.${i}.amount`);
        if (net <= 0n) fail('rule_violation', 'An amount is more than zero', [{ path: `lines.${i}.amount`, message: 'more than zero' }]);
        if (net > left.amountMicros) {
          fail('credit_exceeds_line', `Line ${line.position} has ${fmt(left.amountMicros)} (before tax) left to credit, ${fmt(net)} asked`,
            [{ path: `lines.${i}.amount`, message: `at most ${fmt(left.amountMicros)}` }]);
        }
        push(line, null, net, taxFor(currency, line, net), null);
      }
    });
  } else {
    if (request.lines !== undefined) fail('validation_failed', 'A custom-amount credit note takes no lines', [{ path: 'lines', message: 'only with mode lines' }]);
    const amount = request.amountMicros;
    if (amount === undefined) fail('validation_failed', 'Give the amount to credit, more than zero', [{ path: 'amount', message: 'required with mode amount' }]);
    if (amount <= 0n) fail('rule_violation', 'Give the amount to credit, more than zero', [{ path: 'amount', message: 'more than zero' }]);
    if (amount > creditable.totalMicros) {
      fail('credit_exceeds_creditable', `Only ${fmt(creditable.totalMicros)} is left to credit on this invoice (its total less earlier credit notes), ${fmt(amount)} asked`,
        [{ path: 'amount', message: `at most ${fmt(creditable.totalMicros)}` }]);
    }
    let tax = amount === creditable.totalMicros ? creditable.taxMicros : roundToMinorUnit(creditable.taxMicros, currency, amount, creditable.totalMicros);
    let net = amount - tax;
    if (net > creditable.amountMicros) {
      net = creditable.amountMicros;
      tax = amount - net;
    }
    const open = invoiceLines.map((l) => ({ line: l, left: remainingOf(l) }));
    const nets = net > 0n ? spreadTax(currency, net, open.map((o) => (o.left.amountMicros > 0n ? o.left.amountMicros : 0n))) : open.map(() => 0n);
    const taxes = tax > 0n ? spreadTax(currency, tax, open.map((o) => (o.left.taxMicros > 0n ? o.left.taxMicros : 0n))) : open.map(() => 0n);
    open.forEach((o, i) => {
      if (nets[i]! === 0n && taxes[i]! === 0n) return;
      push(o.line, null, nets[i]!, taxes[i]!, null);
    });
  }

  let subtotalMicros = 0n;
  let taxMicros = 0n;
  let costMicros = 0n;
  let known = 0;
  for (const l of out) {
    subtotalMicros += BigInt(l.amountMicros);
    taxMicros += BigInt(l.taxMicros);
    if (l.costMicros !== null) {
      costMicros += BigInt(l.costMicros);
      known += 1;
    }
  }
  const totalMicros = subtotalMicros + taxMicros;
  if (totalMicros > creditable.totalMicros) {
    fail('credit_exceeds_creditable', `Only ${fmt(creditable.totalMicros)} is left to credit on this invoice (its total less earlier credit notes), ${fmt(totalMicros)} asked`,
      [{ path: request.mode === 'amount' ? 'amount' : 'lines', message: `at most ${fmt(creditable.totalMicros)}` }]);
  }
  if (totalMicros <= 0n) fail('rule_violation', 'The credit note credits nothing', [{ path: 'lines', message: 'credits nothing' }]);
  return {
    lines: out, subtotalMicros, taxMicros, totalMicros,
    costMicros: known === 0 ? null : costMicros,
    costKnown: known === 0 ? 'none' : known === out.length ? 'all' : 'some',
  };
}

/** Per invoice line position, what a set of issued credit notes took from it. */
export function creditedByLine(notes: ReadonlyArray<{ lines: readonly StoredCreditLine[] }>): Map<number, { amountMicros: bigint; taxMicros: bigint; quantity: bigint; amountByQuantityMicros: bigint }> {
  const by = new Map<number, { amountMicros: bigint; taxMicros: bigint; quantity: bigint; amountByQuantityMicros: bigint }>();
  for (const n of notes) {
    for (const l of n.lines) {
      if (l.invoiceLinePosition === null) continue;
      const acc = by.get(l.invoiceLinePosition) ?? { amountMicros: 0n, taxMicros: 0n, quantity: 0n, amountByQuantityMicros: 0n };
      acc.amountMicros += BigInt(l.amountMicros);
      acc.taxMicros += BigInt(l.taxMicros);
      if (l.quantity !== null) {
        acc.quantity += parseQuantity(l.quantity) ?? 0n;
        acc.amountByQuantityMicros += BigInt(l.amountMicros);
      }
      by.set(l.invoiceLinePosition, acc);
    }
  }
  return by;
}
