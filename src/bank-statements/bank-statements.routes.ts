import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { idempotencyKeyHeaders } from '../platform/idempotency.ts';
import { idOf, listQuery, page, problems, problemSchema } from '../platform/schemas.ts';
import { pathId } from '../access/route-schemas.ts';
import { BANK_LINE_STATUSES } from './bank-statements.db-types.ts';
import { bankLineSchema, bankStatementSchema } from './bank-statement-views.ts';
import { STATEMENT_CSV_MAX_CHARS, uploadStatement, uploadStatementBody } from './upload-statement.ts';
import { MAX_STATEMENT_RECORDS } from './statement-csv.ts';
import { acceptConfident, acceptConfidentBody, acceptConfidentResultSchema, acceptLine, acceptLineBody, rejectLine, rejectLineBody } from './decide-line.ts';
import { getStatement, listStatements } from './list-statements.ts';
import { lineOpenInvoices, lineOpenInvoicesSchema } from './line-open-invoices.ts';

const TAGS = ['Finance'];
/** The JSON body: the CSV text (at most STATEMENT_CSV_MAX_CHARS characters, up to 4 bytes each in UTF-8, JSON escapes) and a name. */
const UPLOAD_BODY_LIMIT = 6 * 1024 * 1024;
const statementParams = z.strictObject({ statementId: pathId });
const lineParams = z.strictObject({ statementId: pathId, lineId: pathId });

const UPLOAD_DESCRIPTION = `Body: JSON { fileName, csv } where csv is the statement's text (at most ${STATEMENT_CSV_MAX_CHARS} characters, `
  + `${MAX_STATEMENT_RECORDS} lines). RFC 4180 CSV, with or without a header line. Header names (any case/order): date | booking date | value date | transaction date; `
  + 'amount (or credit and debit columns); currency | ccy (optional: the partner\'s currency); reference | description | details | narrative | memo '
  + '(several are joined); payer | payer name | name | counterparty; account | payer account | iban. Without a header: date, amount, currency '
  + '(may be empty), reference, payer name, payer account. Dates YYYY-MM-DD, DD/MM/YYYY, DD.MM.YYYY, 05 Jan 2026; amounts 1234.56, 1,234.56, '
  + '-12.00 or (12.00) or 12.00 DR for a debit (kept as ignored lines). Unreadable lines are listed in errors[] by line number and field; '
  + 'a file with no readable line, an unclosed quote or a header without a date or amount column is a 400 naming csv. '
  + 'Lines imported before (same day, amount, currency and reference) are kept as duplicate and never paid twice; the same file again gives a warning.';

/** The Finance app's bank statement import: upload a CSV, review each line's proposal, accept (a payment) or reject. */
export function bankStatementRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('finance');

  app.post('/api/v1/bank-statements', {
    config: { access, audit: 'bank_statement.imported' },
    bodyLimit: UPLOAD_BODY_LIMIT,
    schema: {
      operationId: 'uploadBankStatement', tags: TAGS,
      summary: 'Upload a bank statement (CSV as JSON text): every credit line gets a proposed customer and invoices; nothing is paid until a line is accepted',
      description: UPLOAD_DESCRIPTION,
      body: uploadStatementBody, response: { 201: bankStatementSchema, 413: problemSchema, ...problems },
    },
  }, async (req, reply) => reply.code(201).send(await uploadStatement(ctxOf(req, deps), req.body)));

  app.get('/api/v1/bank-statements', {
    config: { access },
    schema: {
      operationId: 'listBankStatements', tags: TAGS, summary: 'Bank statement imports, newest first, with line counts by state',
      querystring: listQuery.extend({ cursor: idOf('bst').optional() }),
      response: { 200: page(bankStatementSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listStatements(ctxOf(req, deps), req.query)));

  app.get('/api/v1/bank-statements/:statementId', {
    config: { access },
    schema: {
      operationId: 'getBankStatement', tags: TAGS,
      summary: 'One import: counts, unreadable lines, warnings, and a page of its lines with their proposals (by line number; cursor = the last line number)',
      params: statementParams,
      querystring: listQuery.extend({ cursor: z.string().regex(/^\d{1,7}$/, 'a line number').optional(), status: z.enum(BANK_LINE_STATUSES).optional() }),
      response: { 200: bankStatementSchema.extend({ lines: page(bankLineSchema) }), ...problems },
    },
  }, async (req, reply) => {
    const { statementId } = req.params;
    return reply.send(await getStatement(ctxOf(req, deps), statementId, req.query));
  });

  app.post('/api/v1/bank-statements/:statementId/lines/:lineId/accept', {
    config: { access, audit: ['bank_statement_line.accepted', 'payment.recorded'], idempotent: true },
    schema: {
      operationId: 'acceptBankStatementLine', tags: TAGS,
      summary: 'Accept a line: it becomes a recorded bank-transfer payment (the line\'s day and reference), allocated to the proposed or edited invoices; once only (409 bank_line_decided); honours Idempotency-Key',
      description: 'Edits are optional: customerId (null: unassigned), allocations [{ invoiceId, amount }] of that customer, leftover keep | points. '
        + 'Refused with nothing written: an unknown customer (422 customer_not_found), another partner\'s or customer\'s invoice (422 invoice_not_found naming allocations.N.invoiceId), more than the line\'s amount (422 amount_exceeds_unallocated), '
        + 'more than an invoice owes (422 amount_exceeds_due), a customer in another currency (422 currency_mismatch), a decided line (409 bank_line_decided).',
      headers: idempotencyKeyHeaders, params: lineParams, body: acceptLineBody, response: { 200: bankLineSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await acceptLine(ctxOf(req, deps), req.params.statementId, req.params.lineId, req.body)));

  app.get('/api/v1/bank-statements/:statementId/lines/:lineId/open-invoices', {
    config: { access },
    schema: {
      operationId: 'listBankStatementLineOpenInvoices', tags: TAGS,
      summary: 'A customer\'s open invoices in the line\'s currency, oldest due first: what an accepted line could pay (for editing a suggestion)',
      params: lineParams, querystring: z.strictObject({ customerId: idOf('cus') }), response: { 200: lineOpenInvoicesSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await lineOpenInvoices(ctxOf(req, deps), req.params.statementId, req.params.lineId, req.query.customerId)));

  app.post('/api/v1/bank-statements/:statementId/lines/:lineId/reject', {
    config: { access, audit: 'bank_statement_line.rejected' },
    schema: {
      operationId: 'rejectBankStatementLine', tags: TAGS, summary: 'Reject a line (not a payment of ours, or dealt with elsewhere); a decided line: 409 bank_line_decided',
      params: lineParams, body: rejectLineBody, response: { 200: bankLineSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await rejectLine(ctxOf(req, deps), req.params.statementId, req.params.lineId, req.body)));

  app.post('/api/v1/bank-statements/:statementId/accept-confident', {
    config: { access, audit: ['bank_statement_line.accepted', 'payment.recorded'], idempotent: true },
    schema: {
      operationId: 'acceptConfidentBankStatementLines', tags: TAGS,
      summary: 'Accept the high-confidence suggestions as proposed, in line order, each in its own transaction, up to limit (500) per call; failures are listed and left waiting',
      headers: idempotencyKeyHeaders, params: statementParams, body: acceptConfidentBody, response: { 200: acceptConfidentResultSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await acceptConfident(ctxOf(req, deps), req.params.statementId, req.body)));
}
