import { Readable } from 'node:stream';
import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { asRule, idOf, listQuery, page, problems, problemSchema, wantsCsv } from '../platform/schemas.ts';
import { isIsoDay } from '../topup/dates.ts';
import { pathId } from '../access/route-schemas.ts';
import { IDEMPOTENCY_KEY_HEADER } from '../platform/idempotency.ts';
import { invoiceLinesBody } from './draft-lines.ts';
import { INVOICE_STATUSES, invoiceDetailSchema, invoiceSummarySchema } from './invoice-views.ts';
import { exportInvoicesCsv, listInvoices } from './list-invoices.ts';
import { getInvoice, getInvoicePdf } from './get-invoice.ts';
import { createInvoice } from './create-invoice.ts';
import { updateInvoice } from './update-invoice.ts';
import { issueDraftInvoice } from './issue-draft-invoice.ts';
import { voidInvoice } from './void-invoice.ts';
import { resendInvoice } from './resend-invoice.ts';

const TAGS = ['Invoice'];
const invoiceId = idOf('inv');
const day = z.string().refine(isIsoDay, 'a date YYYY-MM-DD');
const notes = z.string().trim().min(1).max(2000);
const dueDays = z.number().int().min(0).max(365);
/** Create, issue and void honour `Idempotency-Key`: a retried request gets the first answer, and changes nothing twice. */
const idemHeaders = z.looseObject({ [IDEMPOTENCY_KEY_HEADER]: z.string().max(255).optional() });

/** The Invoice app (admin): list, search, detail, create by hand, edit drafts, issue, void, resend, PDF. */
export function invoiceRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('invoice');

  app.get('/api/v1/invoices', {
    config: { access },
    schema: {
      operationId: 'listInvoices', tags: TAGS,
      summary: 'Invoices, newest first (drafts included); q matches a number prefix or part of the customer\'s name; filters combine; CSV with ?format=csv or Accept: text/csv',
      querystring: listQuery.extend({
        cursor: invoiceId.optional(),
        type: z.enum(['purchase', 'monthly', 'top_up']).optional(),
        status: z.enum(INVOICE_STATUSES).optional(),
        customerId: idOf('cus').optional(),
        q: z.string().trim().max(200).optional(),
        issuedFrom: day.optional().describe('issued on or after this day (UTC)'),
        issuedTo: day.optional().describe('issued on or before this day (UTC)'),
        overdue: z.enum(['true', 'false']).optional().describe('true: awaiting payment or partly paid, past the due date'),
        format: z.enum(['json', 'csv']).optional(),
      }).refine((q) => !q.issuedFrom || !q.issuedTo || q.issuedFrom <= q.issuedTo, asRule('must not be before issuedFrom', ['issuedTo'])),
      response: {
        200: {
          description: 'A page of invoices (JSON), or every matching invoice (CSV, streamed)',
          content: {
            'application/json': { schema: page(invoiceSummarySchema) },
            'text/csv': { schema: z.string().describe('RFC 4180 CSV with a header row; formula-like cells are prefixed with a single quote') },
          },
        },
        ...problems,
      },
    },
  }, async (req, reply) => {
    const ctx = ctxOf(req, deps);
    const { format, limit, overdue, ...filters } = req.query;
    const input = { ...filters, overdue: overdue === 'true' };
    if (wantsCsv(req, format)) {
      const day = ctx.clock.now().toISOString().slice(0, 10);
      reply.header('content-disposition', `attachment; filename="invoices-${day}.csv"`).type('text/csv; charset=utf-8');
      return reply.send(Readable.from(exportInvoicesCsv(ctx, input), { objectMode: false }) as unknown as string);
    }
    return reply.type('application/json; charset=utf-8').send(await listInvoices(ctx, { ...input, limit }));
  });

  app.post('/api/v1/invoices', {
    config: { access, audit: ['invoice.created', 'invoice.issued'], idempotent: true },
    schema: {
      operationId: 'createInvoice', tags: TAGS,
      summary: 'Create a Purchase or Top-up invoice by hand for one of your active customers, as a draft or issued at once (issue: true)',
      description: 'Lines: free text (description, unitPrice) or a product of your catalog (productId, optionally variantId; unitPrice defaults to the '
        + 'variant\'s monthly price in the customer\'s currency; tax category from the product). quantity > 0 (at most 1000000, 6 decimals), unitPrice '
        + '>= 0 (6 decimals), discount in whole minor units at most the line\'s gross (422 discount_exceeds_gross naming `lines.N.discount`). '
        + 'A Top-up invoice buys points: free-text lines, no tax. Issuing needs a total above 0 (422 invoice_total_zero). Honours Idempotency-Key.',
      headers: idemHeaders,
      body: z.strictObject({
        customerId: idOf('cus'),
        type: z.enum(['purchase', 'top_up']),
        lines: invoiceLinesBody,
        notes: notes.optional(),
        dueDays: dueDays.optional().describe('days from issue to due date; default the partner\'s invoice due days'),
        issue: z.boolean().optional(),
      }),
      response: { 201: invoiceDetailSchema, ...problems },
    },
  }, async (req, reply) => reply.code(201).send(await createInvoice(ctxOf(req, deps), req.body)));

  app.get('/api/v1/invoices/:id', {
    config: { access },
    schema: {
      operationId: 'getInvoice', tags: TAGS, summary: 'One invoice: lines, tax, totals, payments, bill-to, seller (a draft has an ETag for If-Match)',
      params: z.strictObject({ id: pathId }), response: { 200: invoiceDetailSchema, ...problems },
    },
  }, async (req, reply) => {
    const { invoice, etag } = await getInvoice(ctxOf(req, deps), { invoiceId: req.params.id });
    if (etag) reply.header('etag', etag);
    return reply.send(invoice);
  });

  app.patch('/api/v1/invoices/:id', {
    config: { access, audit: 'invoice.updated' },
    schema: {
      operationId: 'updateInvoice', tags: TAGS,
      summary: 'Change a draft: its lines (replaced as a whole), notes or due days; 409 invoice_not_draft once issued; If-Match guards against overwriting (412)',
      params: z.strictObject({ id: pathId }),
      headers: z.looseObject({ 'if-match': z.string().max(500).optional() }),
      body: z.strictObject({ lines: invoiceLinesBody.optional(), notes: notes.nullable().optional(), dueDays: dueDays.nullable().optional() }),
      response: { 200: invoiceDetailSchema, ...problems, 412: problemSchema },
    },
  }, async (req, reply) => {
    const { invoice, etag } = await updateInvoice(ctxOf(req, deps), { invoiceId: req.params.id, ...req.body, ifMatch: req.headers['if-match'] });
    return reply.header('etag', etag).send(invoice);
  });

  app.post('/api/v1/invoices/:id/issue', {
    config: { access, audit: 'invoice.issued', idempotent: true },
    schema: {
      operationId: 'issueInvoice', tags: TAGS,
      summary: 'Issue a draft: its number, bill-to, due date, ledger entry (Purchase: receivable, revenue, tax) and a notice to the customer; 409 invoice_not_draft when already issued',
      headers: idemHeaders, params: z.strictObject({ id: pathId }), response: { 200: invoiceDetailSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await issueDraftInvoice(ctxOf(req, deps), { invoiceId: req.params.id })));

  app.post('/api/v1/invoices/:id/void', {
    config: { access, audit: 'invoice.voided', idempotent: true },
    schema: {
      operationId: 'voidInvoice', tags: TAGS,
      summary: 'Void an invoice while nothing is paid or credited on it (409 invoice_not_voidable otherwise); an issued Purchase invoice\'s receivable is reversed',
      headers: idemHeaders, params: z.strictObject({ id: pathId }),
      body: z.strictObject({ reason: z.string().trim().min(1).max(500) }),
      response: { 200: invoiceDetailSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await voidInvoice(ctxOf(req, deps), { invoiceId: req.params.id, reason: req.body.reason })));

  app.post('/api/v1/invoices/:id/resend', {
    config: { access, audit: 'invoice.resent' },
    schema: {
      operationId: 'resendInvoice', tags: TAGS,
      summary: 'Send an issued invoice to the customer again (billing email, else the owner), with a link to it in the portal; 409 invoice_not_issued for drafts and void invoices',
      params: z.strictObject({ id: pathId }),
      response: { 202: z.object({ notificationId: z.string(), toEmail: z.string() }), ...problems },
    },
  }, async (req, reply) => reply.code(202).send(await resendInvoice(ctxOf(req, deps), { invoiceId: req.params.id })));

  app.get('/api/v1/invoices/:id/pdf', {
    config: { access },
    schema: {
      operationId: 'getInvoicePdf', tags: TAGS, summary: 'The invoice as a PDF (the same figures as the screen), named after its number',
      params: z.strictObject({ id: pathId }),
      response: { 200: { description: 'The PDF', content: { 'application/pdf': { schema: z.string().describe('binary PDF') } } }, ...problems },
    },
  }, async (req, reply) => {
    const { filename, pdf } = await getInvoicePdf(ctxOf(req, deps), { invoiceId: req.params.id });
    reply.header('content-disposition', `attachment; filename="${filename}"`).type('application/pdf');
    return reply.send(pdf as unknown as string);
  });
}
