import { z } from 'zod';
import { portalGetReceiptPdf } from '../payments/receipts/portal-get-receipt.ts';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { customerPortal } from '../platform/access-policy.ts';
import { pathId } from '../access/route-schemas.ts';
import { idOf, listQuery, page, problems } from '../platform/schemas.ts';
import { IDEMPOTENCY_KEY_HEADER } from '../platform/idempotency.ts';
import { gatewayOf } from '../topup/gateway-of.ts';
import { isIsoDay } from '../topup/dates.ts';
import { portalGetInvoice, portalGetInvoicePdf, portalInvoiceDetailSchema, portalInvoiceSummarySchema, portalListInvoices } from './portal-invoices.ts';
import { portalPayInvoice } from './pay-invoice.ts';
import { payPreviewSchema, portalPreviewInvoicePayment } from './preview-invoice-payment.ts';
import { payResultOf, payResultSchema } from './pay-result.ts';

/** A well-formed id of another kind, or unknown, is a 404 from the use case (never telling which). */
const invoiceId = pathId;
const day = z.string().refine(isIsoDay, 'a date YYYY-MM-DD');
/**
 * A decimal string; its decimals are checked against the invoice's currency by the use case: not a decimal string is a
 * 400 naming the field, one with too many decimals (or zero) a 422 rule_violation naming it (docs/adr/0040).
 */
const decimal = z.string().min(1).max(40); // read by parseDecimal, strictly: " 5.00" is refused, not trimmed

/** Home > Invoice in the user portal: behind the Invoices tab (hidden -> 403 for the API too, not only the menu). */
export function portalInvoiceRoutes(app: FolioApp, deps: ServerDeps): void {
  const everyone = customerPortal({ tab: 'invoices' });
  // Only owners and admins pay, with points or card (domain.md); members and guests see and download.
  const payers = customerPortal({ roles: ['owner', 'admin'], tab: 'invoices' });
  const withGateway = (req: Parameters<typeof ctxOf>[0]) => ({ ...ctxOf(req, deps), gateway: gatewayOf(deps) });

  app.get('/api/v1/portal/invoices', {
    config: { access: everyone },
    schema: {
      operationId: 'portalListInvoices', tags: ['Portal'],
      summary: 'Your organisation\'s invoices, newest first: filter by type (purchase, monthly, top_up), status and issue date',
      querystring: listQuery.extend({
        type: z.enum(['purchase', 'monthly', 'top_up']).optional(),
        status: z.enum(['awaiting_payment', 'partially_paid', 'paid', 'void']).optional(),
        issuedFrom: day.optional(),
        issuedTo: day.optional(),
      }),
      response: { 200: page(portalInvoiceSummarySchema), ...problems },
    },
  }, async (req, reply) => reply.send(await portalListInvoices(ctxOf(req, deps), req.query)));

  app.get('/api/v1/portal/invoices/:invoiceId', {
    config: { access: everyone },
    schema: {
      operationId: 'portalGetInvoice', tags: ['Portal'], summary: 'One invoice: lines, tax, totals, payments and credits, amount due; whether you may pay it and why not',
      description: 'Members and guests, who do not see company credits, get `payments` and `paymentAttempts` empty: the points '
        + 'an invoice took show what the company held. The PDF follows the same rule.',
      params: z.strictObject({ invoiceId }), response: { 200: portalInvoiceDetailSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await portalGetInvoice(ctxOf(req, deps), req.params)));

  app.get('/api/v1/portal/invoices/:invoiceId/pdf', {
    config: { access: everyone },
    schema: {
      operationId: 'portalGetInvoicePdf', tags: ['Portal'], summary: 'The invoice as a PDF (the same figures as the screen)',
      params: z.strictObject({ invoiceId }),
      response: { 200: { description: 'The PDF', content: { 'application/pdf': { schema: z.string().describe('binary PDF') } } }, ...problems },
    },
  }, async (req, reply) => {
    const { filename, pdf } = await portalGetInvoicePdf(ctxOf(req, deps), req.params);
    reply.header('content-disposition', `attachment; filename="${filename.replace(/[^A-Za-z0-9._/#-]/g, '_')}"`).type('application/pdf');
    return reply.send(pdf as unknown as string);
  });

  app.get('/api/v1/portal/invoices/:invoiceId/payments/:invoicePaymentId/receipt.pdf', {
    config: { access: everyone },
    schema: {
      operationId: 'portalGetReceiptPdf', tags: ['Portal'],
      summary: "The receipt of a payment listed on the invoice as recorded by Finance (source `allocation`): the payment's number, method, amount, received date and what it paid",
      params: z.strictObject({ invoiceId, invoicePaymentId: pathId }),
      response: { 200: { description: 'The PDF', content: { 'application/pdf': { schema: z.string().describe('binary PDF') } } }, ...problems },
    },
  }, async (req, reply) => {
    const { filename, pdf } = await portalGetReceiptPdf(ctxOf(req, deps), req.params);
    reply.header('content-disposition', `attachment; filename="${filename}"`).type('application/pdf');
    return reply.send(pdf as unknown as string);
  });

  app.get('/api/v1/portal/invoices/:invoiceId/pay-preview', {
    config: { access: payers },
    schema: {
      operationId: 'portalPreviewInvoicePayment', tags: ['Portal'],
      summary: 'What paying would take: points first (those not on hold), the rest by card, and a top-up that would cover it instead',
      params: z.strictObject({ invoiceId }), querystring: z.strictObject({ amount: decimal.optional() }),
      response: { 200: payPreviewSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await portalPreviewInvoicePayment(withGateway(req), { ...req.params, ...req.query })));

  app.post('/api/v1/portal/invoices/:invoiceId/pay', {
    config: { access: payers, idempotent: true, audit: ['invoice.payment_recorded', 'invoice.payment_pending', 'invoice.payment_failed'] },
    schema: {
      operationId: 'portalPayInvoice', tags: ['Portal'],
      summary: 'Pay a Purchase invoice: points first, the rest by card; 200 paid, 202 while the card payment is pending; a declined card is 422 and charges nothing',
      description: '`amount` (a decimal string, at most what is due; default all of it). Points pay first unless `usePoints` is false; send '
        + '`cardToken` or `savedCardId` when points do not cover it (422 card_required says how much is left). Only Purchase invoices awaiting '
        + 'payment or partly paid (409 invoice_not_payable); one payment at a time per invoice (409 payment_in_progress). Honours Idempotency-Key: '
        + 'two tabs, a double click or a retried request pay once.',
      headers: z.looseObject({ [IDEMPOTENCY_KEY_HEADER]: z.string().max(255).optional() }),
      params: z.strictObject({ invoiceId }),
      body: z.strictObject({
        amount: decimal.optional(),
        usePoints: z.boolean().optional(),
        cardToken: z.string().min(1).max(255).optional(),
        savedCardId: idOf('card').optional(),
      }),
      response: { 200: payResultSchema, 202: payResultSchema, ...problems },
    },
  }, async (req, reply) => {
    const key = req.headers[IDEMPOTENCY_KEY_HEADER];
    const ctx = withGateway(req);
    const result = await portalPayInvoice(ctx, { ...req.body, invoiceId: req.params.invoiceId, requestKey: typeof key === 'string' ? key : null });
    return reply.code(result.httpStatus).send(await payResultOf(ctx, result.attempt));
  });
}
