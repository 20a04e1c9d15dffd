import { Readable } from 'node:stream';
import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { idempotencyKeyHeaders } from '../platform/idempotency.ts';
import { asRule, idOf, listQuery, page, problems, wantsCsv } from '../platform/schemas.ts';
import { isIsoDay } from '../topup/dates.ts';
import { pathId } from '../access/route-schemas.ts';
import { PAYMENT_METHODS, PAYMENT_STATUSES } from './payments.db-types.ts';
import { paymentDetailSchema, paymentSummarySchema } from './payment-views.ts';
import { recordPayment, recordPaymentBody } from './record-payment.ts';
import { assignPayment, assignPaymentBody } from './assign-payment.ts';
import { allocatePayment, allocatePaymentBody } from './allocate-payment.ts';
import { reversePayment, reversePaymentBody, reversalSchema } from './reverse-payment.ts';
import { exportPaymentsCsv, listPayments } from './list-payments.ts';
import { getPayment } from './get-payment.ts';
import { getReceiptPdf } from './receipts/get-receipt.ts';
import { paymentOpenInvoices, paymentOpenInvoicesSchema } from './payment-open-invoices.ts';

const TAGS = ['Finance'];
const paymentId = idOf('pay');
const params = z.strictObject({ paymentId: pathId });
const day = z.string().refine(isIsoDay, 'a date YYYY-MM-DD');

/** Payments received outside the portal (the Finance app): record, assign, allocate, reverse, list, detail. */
export function paymentRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('finance');

  app.post('/api/v1/payments', {
    config: { access, audit: 'payment.recorded', idempotent: true },
    schema: {
      operationId: 'recordPayment', tags: TAGS,
      summary: 'Record money received (bank transfer, GIRO, cheque, cash, card, other): Dr bank · Cr the customer\'s unapplied, or Cr unassigned when the payer is unknown; honours Idempotency-Key',
      headers: idempotencyKeyHeaders, body: recordPaymentBody, response: { 201: paymentDetailSchema, ...problems },
    },
  }, async (req, reply) => reply.code(201).send(await recordPayment(ctxOf(req, deps), req.body)));

  app.get('/api/v1/payments', {
    config: { access },
    schema: {
      operationId: 'listPayments', tags: TAGS,
      summary: 'Payments, newest first; q matches part of the reference; filters combine; CSV with ?format=csv or Accept: text/csv',
      querystring: listQuery.extend({
        cursor: paymentId.optional(),
        method: z.enum(PAYMENT_METHODS).optional(),
        status: z.enum(PAYMENT_STATUSES).optional(),
        customerId: idOf('cus').optional(),
        receivedFrom: day.optional().describe('received on or after this day'),
        receivedTo: day.optional().describe('received on or before this day'),
        q: z.string().trim().max(200).optional().describe('part of the reference or of the receipt number'),
        unassigned: z.enum(['true', 'false']).optional().describe('true: the Unassigned list (payer not known yet); false: payments with a customer'),
        format: z.enum(['json', 'csv']).optional(),
      }).refine((q) => !q.receivedFrom || !q.receivedTo || q.receivedFrom <= q.receivedTo, asRule('must not be before receivedFrom', ['receivedTo'])),
      response: {
        200: {
          description: 'A page of payments (JSON), or every matching payment (CSV, streamed)',
          content: {
            'application/json': { schema: page(paymentSummarySchema) },
            'text/csv': { schema: z.string().describe('RFC 4180 CSV with a header row; formula-like cells are prefixed with a single quote') },
          },
        },
        ...problems,
      },
    },
  }, async (req, reply) => {
    const ctx = ctxOf(req, deps);
    const { format, limit, unassigned, ...rest } = req.query;
    const filters = { ...rest, unassigned: unassigned === undefined ? undefined : unassigned === 'true' };
    if (wantsCsv(req, format)) {
      const today = ctx.clock.now().toISOString().slice(0, 10);
      reply.header('content-disposition', `attachment; filename="payments-${today}.csv"`).type('text/csv; charset=utf-8');
      return reply.send(Readable.from(exportPaymentsCsv(ctx, filters), { objectMode: false }) as unknown as string);
    }
    return reply.type('application/json; charset=utf-8').send(await listPayments(ctx, { ...filters, limit }));
  });

  app.get('/api/v1/payments/:paymentId', {
    config: { access },
    schema: {
      operationId: 'getPayment', tags: TAGS, summary: 'One payment with its allocations',
      params, response: { 200: paymentDetailSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await getPayment(ctxOf(req, deps), req.params.paymentId)));

  app.get('/api/v1/payments/:paymentId/open-invoices', {
    config: { access },
    schema: {
      operationId: 'listPaymentOpenInvoices', tags: TAGS,
      summary: 'The open invoices a payment can be allocated to (its customer\'s, same currency, oldest due first); none for an unassigned or reversed payment',
      params, response: { 200: paymentOpenInvoicesSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await paymentOpenInvoices(ctxOf(req, deps), req.params.paymentId)));

  app.get('/api/v1/payments/:paymentId/receipt.pdf', {
    config: { access },
    schema: {
      operationId: 'getPaymentReceiptPdf', tags: TAGS,
      summary: 'The payment\'s receipt as a PDF (number, payer, method, amount, received date, reference, what it paid; REVERSED once reversed), named after its number',
      params,
      response: { 200: { description: 'The PDF', content: { 'application/pdf': { schema: z.string().describe('binary PDF') } } }, ...problems },
    },
  }, async (req, reply) => {
    const { filename, pdf } = await getReceiptPdf(ctxOf(req, deps), req.params.paymentId);
    reply.header('content-disposition', `attachment; filename="${filename}"`).type('application/pdf');
    return reply.send(pdf as unknown as string);
  });

  app.post('/api/v1/payments/:paymentId/assign', {
    config: { access, audit: 'payment.assigned', idempotent: true },
    schema: {
      operationId: 'assignPayment', tags: TAGS,
      summary: 'Give an unassigned payment to its payer (Dr unassigned · Cr unapplied); same currency as the customer (422 currency_mismatch); honours Idempotency-Key',
      headers: idempotencyKeyHeaders, params, body: assignPaymentBody, response: { 200: paymentDetailSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await assignPayment(ctxOf(req, deps), { paymentId: req.params.paymentId, customerId: req.body.customerId })));

  // One route, two paths: /allocations (the conventions' name, allocatePayment) and /allocate, its deprecated alias kept
  // for integrations written against it. Same schema, access, audit and handler, and one set of Idempotency-Keys: the
  // alias's are kept under /allocations (idempotencyScope), so an integration moving to the new path mid-retry gets
  // its first answer, not a 422.
  const allocations = '/api/v1/payments/:paymentId/allocations';
  const allocatePaths = [
    {
      url: allocations, operationId: 'allocatePayment', deprecated: false,
      summary: 'Allocate a payment to the customer\'s open Purchase or Top-up invoices (explicit amounts, or auto: oldest due first); leftover kept or turned into points; honours Idempotency-Key',
    },
    {
      url: '/api/v1/payments/:paymentId/allocate', operationId: 'allocatePaymentDeprecated', deprecated: true,
      summary: 'Deprecated alias of POST /api/v1/payments/{paymentId}/allocations (allocatePayment), answered the same, sharing its Idempotency-Keys; use that path',
    },
  ];
  for (const { url, operationId, deprecated, summary } of allocatePaths) {
    app.post(url, {
      config: { access, audit: 'payment.allocated', idempotent: true, ...(url === allocations ? {} : { idempotencyScope: allocations }) },
      schema: {
        operationId, tags: TAGS, summary, ...(deprecated ? { deprecated } : {}),
        description: 'Refused, with nothing written: more than the payment\'s unallocated amount (422 amount_exceeds_unallocated), more than an invoice owes '
          + '(422 amount_exceeds_due), a draft/paid/void invoice or a monthly statement (409 invoice_not_payable), an unknown or another customer\'s invoice (422 invoice_not_found naming allocations.N.invoiceId), '
          + 'another currency (422 currency_mismatch), an invoice with a portal payment in progress (409 payment_in_progress), an unassigned '
          + '(409 payment_unassigned) or reversed (409 payment_reversed) payment.',
        headers: idempotencyKeyHeaders, params, body: allocatePaymentBody, response: { 200: paymentDetailSchema, ...problems },
      },
    }, async (req, reply) => reply.send(await allocatePayment(ctxOf(req, deps), req.params.paymentId, req.body)));
  }

  app.post('/api/v1/payments/:paymentId/reverse', {
    config: { access, audit: 'payment.reversed', idempotent: true },
    schema: {
      operationId: 'reversePayment', tags: TAGS,
      summary: 'Reverse a payment (bounced cheque, mistaken record): every entry mirrored, invoices reopened, points it created taken back; twice: 409 payment_reversed',
      headers: idempotencyKeyHeaders, params, body: reversePaymentBody, response: { 200: reversalSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await reversePayment(ctxOf(req, deps), req.params.paymentId, req.body)));
}
