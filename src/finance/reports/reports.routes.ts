import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import type { FolioApp, ServerDeps } from '../../platform/server.ts';
import { ctxOf } from '../../platform/server.ts';
import { staffApp } from '../../platform/access-policy.ts';
import { problems, wantsCsv } from '../../platform/schemas.ts';
import { arAgingCsv, arAgingSchema, getArAging } from './ar-aging.ts';
import { getTrialBalance, trialBalanceCsv, trialBalanceSchema } from './trial-balance.ts';
import { reportQuery } from './report-common.ts';
import { getLedgerCheck, ledgerCheckSchema } from '../../ledger/get-ledger-check.ts';
import { runLedgerCheckNow } from '../../ledger/run-ledger-check-now.ts';

const TAGS = ['Finance'];
const csvSchema = z.string().describe('RFC 4180 CSV with a header row and a TOTAL row; formula-like cells are prefixed with a single quote');

function sendCsv(reply: FastifyReply, name: string, currency: string, asOf: string, body: string) {
  return reply.header('content-disposition', `attachment; filename="${name}-${currency}-${asOf}.csv"`).type('text/csv; charset=utf-8').send(body);
}

/** The Finance app's reports: accounts receivable aging and the trial balance, JSON or CSV. */
export function financeReportRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('finance');

  app.get('/api/v1/finance/reports/ar-aging', {
    config: { access },
    schema: {
      operationId: 'getArAging', tags: TAGS,
      summary: 'Accounts receivable aging per customer: amount due now on open invoices by days past due (current, 1-30, 31-60, 61-90, over 90) at today or a day to come (a past asOf is a 422 rule_violation: see the trial balance), unapplied credit apart, totals; CSV with ?format=csv or Accept: text/csv',
      querystring: reportQuery,
      response: {
        200: { description: 'The aging report', content: { 'application/json': { schema: arAgingSchema }, 'text/csv': { schema: csvSchema } } },
        ...problems,
      },
    },
  }, async (req, reply) => {
    const { format, ...input } = req.query;
    const report = await getArAging(ctxOf(req, deps), input);
    if (wantsCsv(req, format)) return sendCsv(reply, 'ar-aging', report.currency, report.asOf, arAgingCsv(report));
    return reply.type('application/json; charset=utf-8').send(report);
  });

  app.get('/api/v1/finance/reports/trial-balance', {
    config: { access },
    schema: {
      operationId: 'getTrialBalance', tags: TAGS,
      summary: "Trial balance of the partner's ledger in one currency at the end of a day: every account (customer accounts summed per code, or each with byCustomer=true), debits equal credits; CSV with ?format=csv or Accept: text/csv",
      querystring: reportQuery.extend({ byCustomer: z.enum(['true', 'false']).optional().describe('true: one row per customer account') }),
      response: {
        200: { description: 'The trial balance', content: { 'application/json': { schema: trialBalanceSchema }, 'text/csv': { schema: csvSchema } } },
        ...problems,
      },
    },
  }, async (req, reply) => {
    const { format, byCustomer, ...input } = req.query;
    const report = await getTrialBalance(ctxOf(req, deps), { ...input, byCustomer: byCustomer === 'true' });
    if (wantsCsv(req, format)) return sendCsv(reply, 'trial-balance', report.currency, report.asOf, trialBalanceCsv(report));
    return reply.type('application/json; charset=utf-8').send(report);
  });

  app.get('/api/v1/finance/ledger-check', {
    config: { access },
    schema: {
      operationId: 'getLedgerCheck', tags: TAGS,
      summary: "The books as the worker's nightly check found them: every entry balances, every balance equals its postings, every ledger invariant holds; or the problems found",
      querystring: z.strictObject({}),
      response: { 200: ledgerCheckSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await getLedgerCheck(ctxOf(req, deps))));

  app.post('/api/v1/finance/ledger-check', {
    config: { access, audit: 'ledger_check.run' },
    schema: {
      operationId: 'runLedgerCheck', tags: TAGS,
      summary: 'Check the books now, as the nightly check does, and answer the result (at most once a minute: 429 with Retry-After)',
      response: { 200: ledgerCheckSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await runLedgerCheckNow(ctxOf(req, deps))));
}
