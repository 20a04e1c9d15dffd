import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { email, problemSchema, problems } from '../platform/schemas.ts';
import {
  getInvoiceLogo, getInvoicingSettings, invoicingSettingsSchema, LOGO_MAX_BYTES, removeInvoiceLogo, setInvoiceLogo, updateInvoicingSettings,
} from './invoicing-settings.ts';

const TAGS = ['Settings'];
const text = (max: number) => z.string().trim().min(1).max(max).nullable().optional();
const format = z.string().min(1).max(40);

/** Portal Settings > Invoicing: number formats, due days, what invoices show of the partner, and its logo. */
export function invoicingSettingsRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('settings');

  app.get('/api/v1/settings/invoicing', {
    config: { access },
    schema: {
      operationId: 'getInvoicingSettings', tags: TAGS,
      summary: 'Invoice number formats, due days, the tax rate (read-only here), what invoices show of you, whether a logo is set (with an ETag)',
      response: { 200: invoicingSettingsSchema, ...problems },
    },
  }, async (req, reply) => {
    const { settings, etag } = await getInvoicingSettings(ctxOf(req, deps));
    return reply.header('etag', etag).send(settings);
  });

  // The same settings, read-only, for the Invoice app: a clerk's invoice editor previews tax and due dates without
  // holding the Portal Settings app.
  app.get('/api/v1/invoices/settings', {
    config: { access: staffApp('invoice') },
    schema: {
      operationId: 'getInvoiceTerms', tags: ['Invoice'],
      summary: 'The invoicing settings as the Invoice app needs them (tax rate, due days, number formats, seller), read-only',
      response: { 200: invoicingSettingsSchema, ...problems },
    },
  }, async (req, reply) => reply.send((await getInvoicingSettings(ctxOf(req, deps))).settings));

  app.get('/api/v1/settings/invoicing/logo', {
    config: { access },
    schema: {
      operationId: 'getInvoiceLogo', tags: TAGS, summary: 'The logo printed on invoices (PNG or JPEG); 404 when none is set',
      querystring: z.strictObject({ v: z.string().max(64).optional().describe('any value: a new one after a change makes browsers fetch the logo again') }),
      response: { 200: { description: 'The image', content: { 'image/png': { schema: z.string() }, 'image/jpeg': { schema: z.string() } } }, ...problems },
    },
  }, async (req, reply) => {
    const logo = await getInvoiceLogo(ctxOf(req, deps));
    return reply.type(logo.type).header('cache-control', 'private, no-cache').send(logo.data as unknown as string);
  });

  app.put('/api/v1/settings/invoicing', {
    config: { access, audit: 'settings.invoicing_updated' },
    schema: {
      operationId: 'updateInvoicingSettings', tags: TAGS,
      summary: 'Change the invoicing settings (fields left out keep their value; null clears); formats need {seq} once, prefixes apart, no number issued again; If-Match guards (412)',
      description: 'A number format of 1 to 40 characters that breaks a rule is a 422 rule_violation naming numberFormats.<field>, with nothing written: '
        + 'the counter {seq} (or {seq:06}, padded to at most 12 digits) exactly once; only letters, digits, - _ / . # and the placeholders; '
        + 'fixed text first, its prefix apart from the other formats\' (purchase, monthly, topUp, creditNote) and from receipts (RCT-); '
        + 'and a changed format must never render a number already issued (an invoice\'s of any type, or a credit note\'s) for a counter value '
        + 'still to come, on any date (docs/adr/0041): the error names the number, the counter and the day it was issued. '
        + 'topUp may also be sent as top_up (deprecated); both with different values is a 422 rule_violation naming both. '
        + 'A malformed body (an unknown format name, a format of another length, a value of the wrong type) is a 400 validation_failed.',
      headers: z.looseObject({ 'if-match': z.string().max(500).optional() }),
      body: z.strictObject({
        numberFormats: z.strictObject({
          purchase: format,
          monthly: format,
          topUp: format,
          creditNote: format.describe('credit note numbers, e.g. CN-{YYYY}-{seq:06}'),
          top_up: format.describe('deprecated: topUp\'s former name, read as topUp (both with different values: 422)'),
        }).partial().optional()
          .describe('e.g. INV-{YYYY}-{seq:06}; placeholders {YYYY} {YY} {MM} {DD} {seq} {seq:06}'),
        dueDays: z.number().int().min(0).max(365).optional(),
        legalName: text(200),
        address: text(1000),
        taxId: text(60),
        email: email.nullable().optional(),
        paymentInstructions: text(2000),
      }),
      response: { 200: invoicingSettingsSchema, ...problems, 412: problemSchema },
    },
  }, async (req, reply) => {
    const { settings, etag } = await updateInvoicingSettings(ctxOf(req, deps), { ...req.body, ifMatch: req.headers['if-match'] });
    return reply.header('etag', etag).send(settings);
  });

  // The logo is sent as raw image bytes: its own scope reads any body as bytes (the use case checks type and content).
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: LOGO_MAX_BYTES }, (_req, body, done) => done(null, body));

    scope.put('/api/v1/settings/invoicing/logo', {
      config: { rawBody: true, access, audit: 'settings.invoicing_updated' },
      bodyLimit: LOGO_MAX_BYTES,
      schema: {
        operationId: 'setInvoiceLogo', tags: TAGS,
        summary: 'Set the logo on invoices and PDFs: the raw bytes of a PNG or JPEG (Content-Type image/png or image/jpeg), at most 256 KiB',
        description: '415 for another content type, 413 above 256 KiB, 422 image_invalid when the bytes are not the declared image.',
        response: { 200: invoicingSettingsSchema, ...problems, 413: problemSchema, 415: problemSchema },
      },
    }, async (req, reply) => {
      const data = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const { settings, etag } = await setInvoiceLogo(ctxOf(req, deps), { contentType: req.headers['content-type'], data });
      return reply.header('etag', etag).send(settings);
    });
  });

  app.delete('/api/v1/settings/invoicing/logo', {
    config: { access, audit: 'settings.invoicing_updated' },
    schema: {
      operationId: 'removeInvoiceLogo', tags: TAGS, summary: 'Remove the logo from invoices and PDFs',
      response: { 200: invoicingSettingsSchema, ...problems },
    },
  }, async (req, reply) => {
    const { settings, etag } = await removeInvoiceLogo(ctxOf(req, deps));
    return reply.header('etag', etag).send(settings);
  });
}
