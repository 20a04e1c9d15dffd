import { createHash } from 'node:crypto';
import { ifMatchMatches } from '../platform/etag.ts';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { loadInvoiceLogo } from '../invoices/invoice-views.ts';
import type { InvoiceLogo } from '../invoices/invoice-view-types.ts';
import {
  checkFormatsNeverRepeat, checkInvoiceNumberFormats, storedFormatsText, storedNumberFormats, type DocumentNumberFormats, type NumberedDocument,
} from '../invoices/invoice-numbers.ts';

/**
 * Invoicing settings of a partner (Portal Settings app): number format per invoice type and of credit notes, due days,
 * what its invoices and PDFs show of it (legal name, address, tax id, email, payment instructions) and its logo. The
 * tax rate is shown here, read-only (the Product app sets it). Every change is audited as `settings.invoicing_updated`.
 */
export const LOGO_MAX_BYTES = 256 * 1024;

/**
 * The number formats as the API names them: camelCase like every other field (`topUp`, `creditNote`). `top_up`, the
 * API's one snake_case key before (docs/adr/0040), is still answered, the same value, and still read.
 */
export const numberFormatsSchema = z.object({
  purchase: z.string(),
  monthly: z.string(),
  topUp: z.string(),
  creditNote: z.string().describe('credit note numbers (their own counter)'),
  top_up: z.string().describe('deprecated: the same as topUp, kept for clients written before it; read topUp'),
});
export type NumberFormatsView = z.infer<typeof numberFormatsSchema>;

/** What a request may send: any of the formats; `top_up` (deprecated) is read as `topUp`. */
export interface NumberFormatsInput {
  purchase?: string | undefined;
  monthly?: string | undefined;
  topUp?: string | undefined;
  top_up?: string | undefined;
  creditNote?: string | undefined;
}

/** The API's field of each stored format. */
const API_FIELD = { purchase: 'purchase', monthly: 'monthly', top_up: 'topUp', credit_note: 'creditNote' } as const satisfies Record<NumberedDocument, string>;

function viewOf(formats: DocumentNumberFormats): NumberFormatsView {
  return { purchase: formats.purchase, monthly: formats.monthly, topUp: formats.top_up, creditNote: formats.credit_note, top_up: formats.top_up };
}

/**
 * The formats a request changes, by their stored keys. `topUp` and `top_up` name one format: either may be sent, or both
 * with the same value (a client sending back what it read); both with different values is a well-formed request that
 * cannot be followed: 422 `rule_violation` naming both, nothing written.
 */
export function requestedNumberFormats(input: NumberFormatsInput | undefined): Partial<DocumentNumberFormats> {
  if (!input) return {};
  if (input.topUp !== undefined && input.top_up !== undefined && input.topUp !== input.top_up) {
    throw new DomainError('rule_violation', 'numberFormats.topUp and numberFormats.top_up (its deprecated name) differ: send topUp only', [
      { path: 'numberFormats.topUp', message: 'differs from numberFormats.top_up, the same format: send topUp only' },
      { path: 'numberFormats.top_up', message: 'deprecated name of numberFormats.topUp, with another value: send topUp only' },
    ]);
  }
  const topUp = input.topUp ?? input.top_up;
  return {
    ...(input.purchase !== undefined ? { purchase: input.purchase } : {}),
    ...(input.monthly !== undefined ? { monthly: input.monthly } : {}),
    ...(topUp !== undefined ? { top_up: topUp } : {}),
    ...(input.creditNote !== undefined ? { credit_note: input.creditNote } : {}),
  };
}

export const invoicingSettingsSchema = z.object({
  numberFormats: numberFormatsSchema,
  dueDays: z.number().int(),
  taxRateBps: z.number().int().describe('read-only here'),
  legalName: z.string().nullable(),
  address: z.string().nullable(),
  taxId: z.string().nullable(),
  email: z.string().nullable(),
  paymentInstructions: z.string().nullable(),
  hasLogo: z.boolean(),
});
export type InvoicingSettings = z.infer<typeof invoicingSettingsSchema>;

export interface VersionedInvoicingSettings {
  settings: InvoicingSettings;
  etag: string;
}

export interface UpdateInvoicingSettingsInput {
  numberFormats?: NumberFormatsInput | undefined;
  dueDays?: number | undefined;
  legalName?: string | null | undefined;
  address?: string | null | undefined;
  taxId?: string | null | undefined;
  email?: string | null | undefined;
  paymentInstructions?: string | null | undefined;
  ifMatch?: string | undefined;
}

/** The settings row (created with defaults when missing), locked when asked, as the API shows it, with its ETag. */
export async function loadInvoicingSettings(trx: Trx, partnerId: string, options: { lock: boolean }): Promise<VersionedInvoicingSettings> {
  const { versioned } = await loadStored(trx, partnerId, options);
  return versioned;
}

/** The same, with the number formats as stored (the API's view is made from them). */
async function loadStored(trx: Trx, partnerId: string, options: { lock: boolean }): Promise<{ versioned: VersionedInvoicingSettings; formats: DocumentNumberFormats }> {
  await trx.insertInto('partnerSettings').values({ partnerId, contactSalesEmail: null, updatedAt: sql`now()` }).onConflict((oc) => oc.column('partnerId').doNothing()).execute();
  const row = await trx
    .selectFrom('partnerSettings')
    .select([
      storedFormatsText.as('formats'), 'invoiceDueDays', 'taxRateBps', 'invoiceLegalName', 'invoiceAddress', 'invoiceTaxId', 'invoiceEmail',
      'invoicePaymentInstructions', sql<boolean>`invoice_logo is not null`.as('hasLogo'),
      sql<string>`(extract(epoch from updated_at) * 1000000)::bigint::text`.as('version'),
    ])
    .where('partnerId', '=', partnerId)
    .$if(options.lock, (qb) => qb.forUpdate())
    .executeTakeFirstOrThrow();
  const formats = storedNumberFormats(row.formats);
  return {
    formats,
    versioned: {
      settings: {
        numberFormats: viewOf(formats),
        dueDays: row.invoiceDueDays, taxRateBps: row.taxRateBps, legalName: row.invoiceLegalName, address: row.invoiceAddress, taxId: row.invoiceTaxId,
        email: row.invoiceEmail, paymentInstructions: row.invoicePaymentInstructions, hasLogo: row.hasLogo,
      },
      etag: `"${sha256Hex(`invoicing:${partnerId}:${row.version}`).slice(0, 32)}"`,
    },
  };
}

const BUMP = sql<Date>`greatest(clock_timestamp(), updated_at + interval '1 microsecond')`;

export async function getInvoicingSettings(ctx: Ctx): Promise<VersionedInvoicingSettings> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), (trx) => loadInvoicingSettings(trx, partnerId, { lock: false }));
}

/** The partner's invoice logo as stored; 404 when none is set. */
export async function getInvoiceLogo(ctx: Ctx): Promise<InvoiceLogo> {
  const { partnerId } = partnerCaller(ctx.principal);
  const logo = await inScope(ctx.db, scopeOf(ctx.principal), (trx) => loadInvoiceLogo(trx, partnerId));
  if (!logo) throw notFound('Logo');
  return logo;
}

/**
 * Change any of the invoicing settings (fields left out keep their value; null clears a text). Number formats (the
 * invoice types' and the credit notes') are checked together (checkInvoiceNumberFormats: one counter placeholder, fixed
 * prefixes apart), and a changed one against the numbers already issued (checkFormatsNeverRepeat: it must never render
 * one of them for a counter still to come; docs/adr/0041). A format the schema accepts (1 to 40 characters) that breaks one of those rules is well-formed but
 * unacceptable: 422 `rule_violation` naming `numberFormats.<field>` as the request spells it (`top_up` when it was sent
 * so; ../shared/api-conventions.md, "Errors"); a malformed body stays a 400. `If-Match` with a stale ETag writes nothing
 * (412). A request that changes nothing writes nothing; a change is audited with the formats before and after, by the
 * API's names (`topUp`, `creditNote`).
 */
export async function updateInvoicingSettings(ctx: Ctx, input: UpdateInvoicingSettingsInput): Promise<VersionedInvoicingSettings> {
  const { partnerId } = partnerCaller(ctx.principal);
  const requested = requestedNumberFormats(input.numberFormats);
  const fieldOf = (d: NumberedDocument) => `numberFormats.${d === 'top_up' && input.numberFormats?.topUp === undefined && input.numberFormats?.top_up !== undefined ? 'top_up' : API_FIELD[d]}`;
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const { versioned: before, formats } = await loadStored(trx, partnerId, { lock: true });
    if (input.ifMatch !== undefined && !ifMatchMatches(input.ifMatch, before.etag)) {
      throw new DomainError('precondition_failed', 'The invoicing settings changed since you read them; reload and try again');
    }
    const b = before.settings;
    const pick = <T>(value: T | undefined, old: T): T => (value === undefined ? old : value);
    const next = {
      numberFormats: { ...formats, ...requested },
      dueDays: pick(input.dueDays, b.dueDays),
      legalName: pick(input.legalName, b.legalName),
      address: pick(input.address, b.address),
      taxId: pick(input.taxId, b.taxId),
      email: pick(input.email, b.email),
      paymentInstructions: pick(input.paymentInstructions, b.paymentInstructions),
    };
    const formatErrors = checkInvoiceNumberFormats(next.numberFormats, fieldOf);
    // A changed format must never issue a number already issued (docs/adr/0041): checked with the changed formats'
    // counters locked until this commits, so no document issued meanwhile slips past.
    if (formatErrors.length === 0) formatErrors.push(...(await checkFormatsNeverRepeat(trx, partnerId, formats, next.numberFormats, fieldOf)));
    if (formatErrors.length > 0) {
      throw new DomainError('rule_violation', formatErrors.map((e) => `${e.path}: ${e.message}`).join('; '), formatErrors);
    }
    const { hasLogo: _h, taxRateBps: _t, numberFormats: _n, ...comparable } = b;
    // The formats by the API's names, without the deprecated one (the same as topUp).
    const named = (f: DocumentNumberFormats) => {
      const { top_up: _deprecated, ...view } = viewOf(f);
      return view;
    };
    const changes = diff({ ...comparable, numberFormats: JSON.stringify(named(formats)) }, { ...next, numberFormats: JSON.stringify(named(next.numberFormats)) });
    if (Object.keys(changes).length === 0) return before;
    if (changes.numberFormats) changes.numberFormats = { before: named(formats), after: named(next.numberFormats) };
    await trx.updateTable('partnerSettings').set({
      invoiceNumberFormats: JSON.stringify(next.numberFormats), invoiceDueDays: next.dueDays, invoiceLegalName: next.legalName,
      invoiceAddress: next.address, invoiceTaxId: next.taxId, invoiceEmail: next.email, invoicePaymentInstructions: next.paymentInstructions,
      updatedAt: BUMP,
    }).where('partnerId', '=', partnerId).execute();
    await recordAudit(trx, ctx, { partnerId, app: 'settings', action: 'settings.invoicing_updated', targetType: 'partner_settings', targetId: partnerId, changes });
    return loadInvoicingSettings(trx, partnerId, { lock: false });
  });
}

/** What an image's first bytes say it is (PNG signature, JPEG SOI + marker), or null. */
export function imageTypeOf(data: Buffer): 'image/png' | 'image/jpeg' | null {
  if (data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (data.length >= 4 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  return null;
}

/**
 * Set the logo shown on invoices and PDFs: the raw bytes of a PNG or JPEG, at most 256 KiB. The declared type must be
 * PNG or JPEG (415), and the bytes must be that image (422 `image_invalid`).
 */
export async function setInvoiceLogo(ctx: Ctx, input: { contentType: string | undefined; data: Buffer }): Promise<VersionedInvoicingSettings> {
  const { partnerId } = partnerCaller(ctx.principal);
  const declared = (input.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (declared !== 'image/png' && declared !== 'image/jpeg') {
    throw new DomainError('unsupported_media_type', 'Send the logo as the raw bytes of a PNG (image/png) or JPEG (image/jpeg)');
  }
  if (input.data.length > LOGO_MAX_BYTES) throw new DomainError('body_too_large', `The logo is larger than ${LOGO_MAX_BYTES / 1024} KiB`);
  if (input.data.length === 0) throw new DomainError('image_invalid', 'The logo is empty', [{ path: 'body', message: 'an image' }]);
  const actual = imageTypeOf(input.data);
  if (actual !== declared) {
    throw new DomainError('image_invalid', `The body is not a ${declared === 'image/png' ? 'PNG' : 'JPEG'} image`, [{ path: 'body', message: `a ${declared} image` }]);
  }
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await loadInvoicingSettings(trx, partnerId, { lock: true });
    await trx.updateTable('partnerSettings').set({ invoiceLogo: input.data, invoiceLogoType: actual, updatedAt: BUMP }).where('partnerId', '=', partnerId).execute();
    await recordAudit(trx, ctx, {
      partnerId, app: 'settings', action: 'settings.invoicing_updated', targetType: 'partner_settings', targetId: partnerId,
      changes: { logo: { before: before.settings.hasLogo ? 'set' : null, after: `${actual}, ${input.data.length} bytes, sha256 ${createHash('sha256').update(input.data).digest('hex').slice(0, 16)}` } },
    });
    return loadInvoicingSettings(trx, partnerId, { lock: false });
  });
}

/** Remove the logo (nothing to do when there is none). */
export async function removeInvoiceLogo(ctx: Ctx): Promise<VersionedInvoicingSettings> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await loadInvoicingSettings(trx, partnerId, { lock: true });
    if (!before.settings.hasLogo) return before;
    await trx.updateTable('partnerSettings').set({ invoiceLogo: null, invoiceLogoType: null, updatedAt: BUMP }).where('partnerId', '=', partnerId).execute();
    await recordAudit(trx, ctx, {
      partnerId, app: 'settings', action: 'settings.invoicing_updated', targetType: 'partner_settings', targetId: partnerId,
      changes: { logo: { before: 'set', after: null } },
    });
    return loadInvoicingSettings(trx, partnerId, { lock: false });
  });
}
