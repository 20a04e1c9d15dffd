import { Readable } from 'node:stream';
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { customerPortal, staffApp } from '../platform/access-policy.ts';
import { asRule, idOf, listQuery, page, problems, problemSchema } from '../platform/schemas.ts';
import { isIsoDay } from '../topup/dates.ts';
import { pathId } from '../access/route-schemas.ts';
import { IDEMPOTENCY_KEY_HEADER } from '../platform/idempotency.ts';
import { CREDIT_NOTE_MODES, CREDIT_NOTE_OUTCOMES, CREDIT_NOTE_REASONS, CREDIT_NOTE_STATUSES } from './credit-notes.db-types.ts';
import { createCreditNoteBody, outcomeFields } from './credit-note-input.ts';
import { creditableSchema, creditLineSchema, creditNoteDetailSchema, creditNoteSummarySchema } from './credit-note-views.ts';
import { createCreditNote } from './create-credit-note.ts';
import { updateCreditNote, updateCreditNoteBody } from './update-credit-note.ts';
import { issueCreditNote } from './issue-credit-note.ts';
import { voidCreditNote } from './void-credit-note.ts';
import {
  creditableInvoiceSchema, exportCreditNotesCsv, getCreditNote, getCreditNotePdf, listCreditNotes, portalCreditNoteSchema, portalGetCreditNotePdf,
  portalListInvoiceCreditNotes, previewCreditNote, searchCreditableInvoices,
} from './list-credit-notes.ts';

const TAGS = ['Finance'];
const day = z.string().refine(isIsoDay, 'a date YYYY-MM-DD');
const params = z.strictObject({ creditNoteId: pathId });
const idemHeaders = z.looseObject({ [IDEMPOTENCY_KEY_HEADER]: z.string().max(255).optional() });

function wantsCsv(req: FastifyRequest, format: 'json' | 'csv' | undefined): boolean {
  if (format) return format === 'csv';
  return /\btext\/csv\b/i.test(req.headers.accept ?? '');
}

const previewSchema = creditableSchema.extend({
  preview: z.object({
    lines: z.array(creditLineSchema), subtotal: z.string(), tax: z.string(), total: z.string(), cost: z.string().nullable(),
    costKnown: z.enum(['all', 'some', 'none']), margin: z.string().nullable(),
  }).nullable(),
});

/** Credit notes (the Finance app): create, change and void drafts, issue, list/CSV, detail, PDF, and what an invoice allows. */
export function creditNoteRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('finance');

  app.get('/api/v1/credit-notes', {
    config: { access },
    schema: {
      operationId: 'listCreditNotes', tags: TAGS,
      summary: 'Credit notes, newest first (drafts included); q matches a number prefix; filters combine; CSV with ?format=csv or Accept: text/csv',
      querystring: listQuery.extend({
        cursor: idOf('cn').optional(),
        status: z.enum(CREDIT_NOTE_STATUSES).optional(),
        customerId: idOf('cus').optional(),
        invoiceId: idOf('inv').optional(),
        reason: z.enum(CREDIT_NOTE_REASONS).optional(),
        outcome: z.enum(CREDIT_NOTE_OUTCOMES).optional(),
        from: day.optional().describe('issued (drafts: created) on or after this day, UTC'),
        to: day.optional().describe('issued (drafts: created) on or before this day, UTC'),
        q: z.string().trim().max(100).optional(),
        format: z.enum(['json', 'csv']).optional(),
      }).refine((q) => !q.from || !q.to || q.from <= q.to, asRule('must not be before from', ['to'])),
      response: {
        200: {
          description: 'A page of credit notes (JSON), or every matching one (CSV, streamed)',
          content: {
            'application/json': { schema: page(creditNoteSummarySchema) },
            'text/csv': { schema: z.string().describe('RFC 4180 CSV with a header row; formula-like cells are prefixed with a single quote') },
          },
        },
        ...problems,
      },
    },
  }, async (req, reply) => {
    const ctx = ctxOf(req, deps);
    const { format, limit, ...filters } = req.query;
    if (wantsCsv(req, format)) {
      const today = ctx.clock.now().toISOString().slice(0, 10);
      reply.header('content-disposition', `attachment; filename="credit-notes-${today}.csv"`).type('text/csv; charset=utf-8');
      return reply.send(Readable.from(exportCreditNotesCsv(ctx, filters), { objectMode: false }) as unknown as string);
    }
    return reply.type('application/json; charset=utf-8').send(await listCreditNotes(ctx, { ...filters, limit }));
  });

  app.get('/api/v1/credit-notes/creditable', {
    config: { access },
    schema: {
      operationId: 'previewCreditNote', tags: TAGS,
      summary: 'What an invoice allows (lines left to credit, unit costs, the limit of each outcome) and, with mode, the credit note those choices would make; writes nothing',
      querystring: z.strictObject({
        invoiceId: idOf('inv'),
        mode: z.enum(CREDIT_NOTE_MODES).optional(),
        lines: z.string().max(4000).optional().describe('mode lines: position:q:quantity or position:a:amount, comma separated (1:q:2,3:a:10.00)'),
        amount: z.string().max(40).optional().describe('mode amount: the amount including tax'),
      }),
      response: { 200: previewSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await previewCreditNote(ctxOf(req, deps), req.query)));

  app.get('/api/v1/credit-notes/invoices', {
    config: { access },
    schema: {
      operationId: 'listCreditableInvoices', tags: TAGS,
      summary: 'Issued Purchase and Monthly invoices a credit note can be raised against, newest first; q matches a number prefix or part of the customer\'s name',
      querystring: z.strictObject({
        q: z.string().trim().max(100).optional(),
        customerId: idOf('cus').optional(),
        limit: z.coerce.number().int().min(1).max(50).default(20),
      }),
      response: { 200: z.object({ data: z.array(creditableInvoiceSchema) }), ...problems },
    },
  }, async (req, reply) => reply.send(await searchCreditableInvoices(ctxOf(req, deps), req.query)));

  app.post('/api/v1/credit-notes', {
    config: { access, audit: ['credit_note.created', 'credit_note.issued'], idempotent: true },
    schema: {
      operationId: 'createCreditNote', tags: TAGS,
      summary: 'Create a credit note against an issued Purchase or Monthly invoice, as a draft or issued at once (issue: true, with an outcome); honours Idempotency-Key',
      description: 'Refused with nothing written: an unknown or another partner\'s invoice (422 invoice_not_found naming invoiceId), a draft, void or Top-up invoice (409 invoice_not_creditable), another currency '
        + '(422 currency_mismatch), a line quantity or amount above what is left of it (422 credit_exceeds_line), more than the invoice total less earlier '
        + 'credit notes (422 credit_exceeds_creditable), reduce_due above the amount due (422 credit_exceeds_due), points or refund above what was paid and '
        + 'not given back yet, or a card refund above the card payments not refunded (422 refund_exceeds_paid).',
      headers: idemHeaders, body: createCreditNoteBody, response: { 201: creditNoteDetailSchema, ...problems },
    },
  }, async (req, reply) => reply.code(201).send(await createCreditNote(ctxOf(req, deps), req.body)));

  app.get('/api/v1/credit-notes/:creditNoteId', {
    config: { access },
    schema: {
      operationId: 'getCreditNote', tags: TAGS, summary: 'One credit note: lines, totals, cost and margin effect, outcome, card refunds (a draft has an ETag for If-Match)',
      params, response: { 200: creditNoteDetailSchema, ...problems },
    },
  }, async (req, reply) => {
    const { creditNote, etag } = await getCreditNote(ctxOf(req, deps), req.params.creditNoteId);
    if (etag) reply.header('etag', etag);
    return reply.send(creditNote);
  });

  app.patch('/api/v1/credit-notes/:creditNoteId', {
    config: { access, audit: 'credit_note.updated' },
    schema: {
      operationId: 'updateCreditNote', tags: TAGS,
      summary: 'Change a draft credit note (what it credits, reason, memo, outcome); 409 credit_note_not_draft once issued or void; If-Match guards against overwriting (412)',
      params, headers: z.looseObject({ 'if-match': z.string().max(500).optional() }), body: updateCreditNoteBody,
      response: { 200: creditNoteDetailSchema, ...problems, 412: problemSchema },
    },
  }, async (req, reply) => {
    const { creditNote, etag } = await updateCreditNote(ctxOf(req, deps), { creditNoteId: req.params.creditNoteId, ...req.body, ifMatch: req.headers['if-match'] });
    return reply.header('etag', etag).send(creditNote);
  });

  app.post('/api/v1/credit-notes/:creditNoteId/issue', {
    config: { access, audit: 'credit_note.issued', idempotent: true },
    schema: {
      operationId: 'issueCreditNote', tags: TAGS,
      summary: 'Issue a draft: its number, ledger entry, outcome (reduce the invoice\'s due, points, or refund) and a notice to the customer; 409 credit_note_not_draft when issued already; honours Idempotency-Key',
      headers: idemHeaders, params,
      body: z.strictObject({ ...outcomeFields }).optional(),
      response: { 200: creditNoteDetailSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await issueCreditNote(ctxOf(req, deps), { creditNoteId: req.params.creditNoteId, ...(req.body ?? {}) })));

  app.post('/api/v1/credit-notes/:creditNoteId/void', {
    config: { access, audit: 'credit_note.voided' },
    schema: {
      operationId: 'voidCreditNote', tags: TAGS,
      summary: 'Void a draft credit note (nothing was posted for it); an issued one never changes: 409 credit_note_not_draft',
      params, body: z.strictObject({ reason: z.string().trim().min(1).max(500) }),
      response: { 200: creditNoteDetailSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await voidCreditNote(ctxOf(req, deps), { creditNoteId: req.params.creditNoteId, reason: req.body.reason })));

  app.get('/api/v1/credit-notes/:creditNoteId/pdf', {
    config: { access },
    schema: {
      operationId: 'getCreditNotePdf', tags: TAGS, summary: 'The credit note as a PDF, named after its number',
      params,
      response: { 200: { description: 'The PDF', content: { 'application/pdf': { schema: z.string().describe('binary PDF') } } }, ...problems },
    },
  }, async (req, reply) => {
    const { filename, pdf } = await getCreditNotePdf(ctxOf(req, deps), req.params.creditNoteId);
    reply.header('content-disposition', `attachment; filename="${filename}"`).type('application/pdf');
    return reply.send(pdf as unknown as string);
  });

  // ---- The user portal: the credit notes on one of the organisation's invoices, and their PDFs (issued ones only). ----
  const portal = customerPortal({ tab: 'invoices' });

  app.get('/api/v1/portal/invoices/:invoiceId/credit-notes', {
    config: { access: portal },
    schema: {
      operationId: 'portalListInvoiceCreditNotes', tags: ['Portal'], summary: 'The issued credit notes on one of your organisation\'s invoices, oldest first',
      params: z.strictObject({ invoiceId: pathId }), response: { 200: z.object({ data: z.array(portalCreditNoteSchema) }), ...problems },
    },
  }, async (req, reply) => reply.send(await portalListInvoiceCreditNotes(ctxOf(req, deps), req.params.invoiceId)));

  app.get('/api/v1/portal/credit-notes/:creditNoteId/pdf', {
    config: { access: portal },
    schema: {
      operationId: 'portalGetCreditNotePdf', tags: ['Portal'], summary: 'One of your organisation\'s issued credit notes as a PDF',
      params,
      response: { 200: { description: 'The PDF', content: { 'application/pdf': { schema: z.string().describe('binary PDF') } } }, ...problems },
    },
  }, async (req, reply) => {
    const { filename, pdf } = await portalGetCreditNotePdf(ctxOf(req, deps), req.params.creditNoteId);
    reply.header('content-disposition', `attachment; filename="${filename}"`).type('application/pdf');
    return reply.send(pdf as unknown as string);
  });
}
