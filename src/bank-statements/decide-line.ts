import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { idOf } from '../platform/schemas.ts';
import { formatDecimal, isCurrency, type Currency } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { lockWallet } from '../wallet/wallets.repo.ts';
import { customerOf, financeAmount } from '../finance/finance-views.ts';
import { recordPaymentIn } from '../payments/record-payment.ts';
import { allocatePaymentIn, MAX_ALLOCATIONS } from '../payments/allocate-payment.ts';
import { loadLine, type BankLineView } from './bank-statement-views.ts';

export const acceptLineBody = z.strictObject({
  customerId: idOf('cus').nullable().optional()
    .describe('The payer; null records the payment as unassigned. Default: the proposed customer'),
  allocations: z.array(z.strictObject({
    invoiceId: idOf('inv'),
    amount: z.string().max(40).describe('Decimal string, whole minor units, more than 0, at most what the invoice owes'),
  })).max(MAX_ALLOCATIONS).optional()
    .describe('Invoices of that customer and the amount applied to each; [] allocates nothing. Default: the proposed invoices, oldest first, each up to what it owes'),
  leftover: z.enum(['keep', 'points']).optional().describe('What the invoices do not take: kept unallocated on the payment (default) or turned into points'),
  remark: z.string().trim().min(1).max(1000).optional(),
}).superRefine((body, ctx) => {
  const ids = body.allocations?.map((a) => a.invoiceId) ?? [];
  if (new Set(ids).size !== ids.length) ctx.addIssue({ code: 'custom', path: ['allocations'], message: 'each invoice at most once' });
  if (body.customerId === null && ((body.allocations?.length ?? 0) > 0 || body.leftover === 'points')) {
    ctx.addIssue({ code: 'custom', path: ['customerId'], message: 'an unassigned payment cannot be allocated: give the customer' });
  }
});
export type AcceptLineInput = z.infer<typeof acceptLineBody>;

export const rejectLineBody = z.strictObject({
  reason: z.string().trim().min(1).max(500).optional(),
});
export type RejectLineInput = z.infer<typeof rejectLineBody>;

interface LockedLine {
  id: string;
  statementId: string;
  lineNo: number;
  status: string;
  bookedOn: string;
  amountMicros: string;
  currency: string;
  reference: string | null;
  suggestedCustomerId: string | null;
  suggestedInvoiceIds: string[];
  paymentId: string | null;
}

/** Lock the line (concurrent decisions on it queue here) and check it can still be decided. */
async function lockOpenLine(trx: Trx, partnerId: string, statementId: string, lineId: string): Promise<LockedLine> {
  const line = await trx.selectFrom('bankStatementLines')
    .select(['id', 'statementId', 'lineNo', 'status', sql<string>`booked_on::text`.as('bookedOn'), 'amountMicros', 'currency', 'reference',
      'suggestedCustomerId', 'suggestedInvoiceIds', 'paymentId'])
    .where('partnerId', '=', partnerId).where('statementId', '=', statementId).where('id', '=', lineId)
    .forUpdate().executeTakeFirst();
  if (!line) throw notFound('Bank statement line');
  if (line.status === 'accepted') throw new DomainError('bank_line_decided', `Line ${line.lineNo} was already accepted (payment ${line.paymentId})`);
  if (line.status === 'rejected') throw new DomainError('bank_line_decided', `Line ${line.lineNo} was rejected`);
  if (line.status === 'ignored') throw new DomainError('bank_line_decided', `Line ${line.lineNo} is a debit: it is not a payment received`);
  if (line.status === 'duplicate') throw new DomainError('bank_line_decided', `Line ${line.lineNo} was imported before: decide the earlier line`);
  return line;
}

/** The proposed invoices as they are now, oldest first, each taking what it owes up to what is left of the amount. */
async function proposedAllocations(trx: Trx, partnerId: string, customerId: string, invoiceIds: readonly string[], amountMicros: bigint, currency: Currency) {
  if (invoiceIds.length === 0) return [];
  const rows = await trx.selectFrom('invoices').select(['id', 'amountDueMicros', 'status', 'customerId', 'informational'])
    .where('partnerId', '=', partnerId).where(sql<boolean>`id = any(${[...invoiceIds]}::text[])`).execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  let left = amountMicros;
  const out: Array<{ invoiceId: string; amount: string }> = [];
  for (const id of invoiceIds) {
    const inv = byId.get(id);
    if (!inv || inv.customerId !== customerId || inv.informational || !['awaiting_payment', 'partially_paid'].includes(inv.status)) continue;
    const due = BigInt(inv.amountDueMicros);
    if (left <= 0n || due <= 0n) continue;
    const take = due < left ? due : left;
    out.push({ invoiceId: id, amount: formatDecimal(take, currency) });
    left -= take;
  }
  return out;
}

async function acceptIn(trx: Trx, ctx: Ctx, statementId: string, lineId: string, input: AcceptLineInput, via: 'one' | 'confident'): Promise<BankLineView> {
  const { partnerId, actorId } = partnerCaller(ctx.principal);
  const line = await lockOpenLine(trx, partnerId, statementId, lineId);
  if (!isCurrency(line.currency)) throw new DomainError('state_conflict', `Currency ${line.currency} is not supported`);
  const currency: Currency = line.currency;
  const amountMicros = BigInt(line.amountMicros);
  const customerId = input.customerId === undefined ? line.suggestedCustomerId : input.customerId;
  const edited = input.customerId !== undefined || input.allocations !== undefined || input.leftover !== undefined;

  let allocations: Array<{ invoiceId: string; amount: string }> = [];
  if (customerId) {
    const customer = await customerOf(trx, partnerId, customerId, 'customerId');
    if (customer.currency !== currency) {
      throw new DomainError('currency_mismatch', `The customer is billed in ${customer.currency}, the line is in ${currency}`, [{ path: 'customerId', message: `billed in ${customer.currency}` }]);
    }
    // Lock order of every money transaction: the customer's wallet before the audit chain and the accounts.
    await lockWallet(trx, { partnerId, customerId, currency });
    if (input.allocations) {
      allocations = input.allocations;
      allocations.forEach((a, i) => financeAmount(a.amount, currency, `allocations.${i}.amount`, { allowZero: false }));
    } else if (customerId === line.suggestedCustomerId) {
      allocations = await proposedAllocations(trx, partnerId, customerId, line.suggestedInvoiceIds, amountMicros, currency);
    }
  }
  const remark = input.remark ?? `Bank statement line ${line.lineNo}`;
  const payment = await recordPaymentIn(trx, ctx, {
    method: 'bank_transfer', amount: formatDecimal(amountMicros, currency), currency, receivedOn: line.bookedOn,
    ...(line.reference ? { reference: line.reference.slice(0, 200) } : {}), remark, ...(customerId ? { customerId } : {}),
  });
  const leftover = input.leftover ?? 'keep';
  if (customerId && (allocations.length > 0 || leftover === 'points')) {
    // allocations may be [] with leftover points: everything goes to points (never the automatic oldest-first path).
    await allocatePaymentIn(trx, ctx, payment.id, { allocations, leftover });
  }
  const now = ctx.clock.now();
  await trx.updateTable('bankStatementLines').set({ status: 'accepted', paymentId: payment.id, decidedBy: actorId, decidedAt: now })
    .where('partnerId', '=', partnerId).where('id', '=', line.id).execute();
  await recordAudit(trx, ctx, {
    partnerId, customerId: customerId ?? null, app: 'finance', action: 'bank_statement_line.accepted', targetType: 'bank_statement_line', targetId: line.id,
    changes: {
      statementId: { after: statementId }, lineNo: { after: line.lineNo }, status: { before: line.status, after: 'accepted' },
      paymentId: { after: payment.id }, amount: { after: formatDecimal(amountMicros, currency) }, customerId: { before: line.suggestedCustomerId, after: customerId ?? null },
      allocations: { after: allocations }, leftover: { after: leftover }, edited: { after: edited }, via: { after: via },
    },
  });
  return loadLine(trx, partnerId, statementId, line.id);
}

/**
 * Accept a line: it becomes an ordinary payment — recordPayment (bank transfer, the line's day and reference) then, when
 * there is something to allocate, allocatePayment — with the proposal or the finance person's edits. The line, the payment,
 * its entries and every audit event commit in one transaction. A line is accepted once: concurrent accepts queue on the
 * line's row lock and the later one gets 409 bank_line_decided. Refusals (another partner's invoice: 404, more than the
 * line's amount: 422 ...) write nothing.
 */
export async function acceptLine(ctx: Ctx, statementId: string, lineId: string, input: AcceptLineInput): Promise<BankLineView> {
  return inScope(ctx.db, scopeOf(ctx.principal), (trx) => acceptIn(trx, ctx, statementId, lineId, input, 'one'));
}

export async function rejectLine(ctx: Ctx, statementId: string, lineId: string, input: RejectLineInput): Promise<BankLineView> {
  const { partnerId, actorId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const line = await lockOpenLine(trx, partnerId, statementId, lineId);
    await trx.updateTable('bankStatementLines').set({ status: 'rejected', decidedBy: actorId, decidedAt: ctx.clock.now(), rejectReason: input.reason ?? null })
      .where('partnerId', '=', partnerId).where('id', '=', line.id).execute();
    await recordAudit(trx, ctx, {
      partnerId, app: 'finance', action: 'bank_statement_line.rejected', targetType: 'bank_statement_line', targetId: line.id,
      changes: { statementId: { after: statementId }, lineNo: { after: line.lineNo }, status: { before: line.status, after: 'rejected' }, reason: { after: input.reason ?? null } },
    });
    return loadLine(trx, partnerId, statementId, line.id);
  });
}

/** At most this many lines per accept-confident call (each in its own transaction); call again while `remaining` > 0. */
export const MAX_CONFIDENT_BATCH = 500;

export const acceptConfidentBody = z.strictObject({
  limit: z.number().int().min(1).max(MAX_CONFIDENT_BATCH).optional().describe(`Lines to accept in this call (default and at most ${MAX_CONFIDENT_BATCH})`),
});

export const acceptConfidentResultSchema = z.object({
  accepted: z.number().int(),
  failed: z.array(z.object({ lineId: z.string(), lineNo: z.number().int(), code: z.string(), message: z.string() })),
  remaining: z.number().int().describe('high-confidence lines still waiting (call again to take the next batch)'),
});
export type AcceptConfidentResult = z.infer<typeof acceptConfidentResultSchema>;

/**
 * Accept every high-confidence suggestion of a statement, in line order, each line in its own transaction (as one
 * accept with no edits). A line that cannot be accepted now (its invoice was paid meanwhile, a portal payment is in
 * progress ...) is reported and left waiting; the others go on.
 */
export async function acceptConfident(ctx: Ctx, statementId: string, input: { limit?: number }): Promise<AcceptConfidentResult> {
  const { partnerId } = partnerCaller(ctx.principal);
  const limit = input.limit ?? MAX_CONFIDENT_BATCH;
  const pick = () => inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const statement = await trx.selectFrom('bankStatements').select('id').where('partnerId', '=', partnerId).where('id', '=', statementId).executeTakeFirst();
    if (!statement) throw notFound('Bank statement');
    return trx.selectFrom('bankStatementLines').select(['id', 'lineNo'])
      .where('partnerId', '=', partnerId).where('statementId', '=', statementId).where('status', '=', 'suggested').where('confidence', '=', 'high')
      .orderBy('lineNo').limit(limit).execute();
  });
  const lines = await pick();
  let accepted = 0;
  const failed: AcceptConfidentResult['failed'] = [];
  for (const line of lines) {
    try {
      await inScope(ctx.db, scopeOf(ctx.principal), (trx) => acceptIn(trx, ctx, statementId, line.id, {}, 'confident'));
      accepted += 1;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      if (err.code === 'bank_line_decided') continue; // decided by someone else meanwhile
      failed.push({ lineId: line.id, lineNo: line.lineNo, code: err.code, message: err.message });
    }
  }
  const left = await inScope(ctx.db, scopeOf(ctx.principal), (trx) => trx.selectFrom('bankStatementLines').select(sql<number>`count(*)::int`.as('n'))
    .where('partnerId', '=', partnerId).where('statementId', '=', statementId).where('status', '=', 'suggested').where('confidence', '=', 'high')
    .executeTakeFirstOrThrow());
  return { accepted, failed, remaining: left.n };
}
