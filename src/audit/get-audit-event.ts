import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { partnerIdOf, scopeOf } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { AUDIT_APP_LABELS, AUTH_METHOD_LABELS, actionLabel, isAuditApp } from './audit-catalog.ts';
import { AUDIT_COLUMNS, auditEventSchema, toAuditView } from './audit-view.ts';

export const diffEntrySchema = z.object({ field: z.string(), before: z.unknown(), after: z.unknown() });
export type DiffEntry = z.infer<typeof diffEntrySchema>;

const linkSchema = z.object({ type: z.string(), id: z.string(), label: z.string(), path: z.string().nullable() });

export const auditEventDetailSchema = auditEventSchema.extend({
  actor: z.object({
    type: z.enum(['user', 'api_key', 'system', 'operator']),
    id: z.string().nullable(),
    label: z.string().nullable(),
    /** The person's or key's name today (the label is what was recorded then). */
    name: z.string().nullable(),
    kind: z.enum(['staff', 'customer', 'operator', 'api_key', 'system']),
  }),
  authMethodLabel: z.string().nullable(),
  appLabel: z.string(),
  actionLabel: z.string(),
  diff: z.array(diffEntrySchema),
  customer: z.object({ id: z.string(), name: z.string().nullable(), path: z.string() }).nullable(),
  links: z.array(linkSchema),
  chain: z.object({ seq: z.number().int(), hash: z.string(), prevHash: z.string() }),
});
export type AuditEventDetail = z.infer<typeof auditEventDetailSchema>;

/** The stored before/after of each changed field, as a list sorted by field (a missing side is null). */
export function diffOf(changes: Record<string, { before?: unknown; after?: unknown }>): DiffEntry[] {
  return Object.keys(changes)
    .sort()
    .map((field) => ({ field, before: changes[field]?.before ?? null, after: changes[field]?.after ?? null }));
}

/**
 * Where the admin portal shows a target; null when it has none. A target shown on another record's page (a variant or
 * price on its product's, a bank statement line on its statement's) needs that record's id, `ownerId`
 * (`targetOwnerId`). The path is the same whoever reads it: the page's own app gate decides who may open it.
 */
export function targetPath(type: string, id: string, customerId: string | null, ownerId: string | null = null): string | null {
  switch (type) {
    case 'customer':
      return `/admin/customer/${id}`;
    case 'invoice':
      return `/admin/invoice/${id}`;
    case 'product':
      return `/admin/product/${id}`;
    case 'product_variant':
    case 'product_price':
      return ownerId ? `/admin/product/${ownerId}` : null;
    case 'rate_plan':
      return '/admin/product?tab=rates';
    case 'payment':
      return `/admin/finance/payments/${id}`;
    case 'credit_note':
      return `/admin/finance/credit-notes/${id}`;
    case 'bank_statement':
      return `/admin/finance/bank-import/${id}`;
    case 'bank_statement_line':
      return ownerId ? `/admin/finance/bank-import/${ownerId}` : null;
    case 'discount':
      return `/admin/discount/${id}`;
    case 'partner_settings':
    case 'top_up_policy':
      return '/admin/settings';
    case 'api_key':
      return '/admin/access?tab=api-keys';
    case 'access_request':
      return '/admin/access?tab=requests';
    case 'invitation':
      return customerId ? `/admin/customer/${customerId}?tab=members` : '/admin/access?tab=invitations';
    case 'user':
      return customerId ? `/admin/customer/${customerId}?tab=members` : '/admin/access';
    case 'notification':
      return customerId ? `/admin/customer/${customerId}?tab=notifications` : null;
    case 'subscription':
    case 'virtual_line':
    case 'wallboard':
    case 'top_up':
    case 'saved_card':
      return customerId ? `/admin/customer/${customerId}` : null;
    default:
      return null;
  }
}

/** The record whose page shows a target that has no page of its own (see `targetPath`); null for any other target. */
async function targetOwnerId(trx: Trx, partnerId: string, type: string, id: string): Promise<string | null> {
  if (type === 'product_variant') {
    const row = await trx.selectFrom('productVariants').select('productId').where('partnerId', '=', partnerId).where('id', '=', id).executeTakeFirst();
    return row?.productId ?? null;
  }
  if (type === 'product_price') {
    const row = await trx
      .selectFrom('productPrices')
      .innerJoin('productVariants', 'productVariants.id', 'productPrices.variantId')
      .select('productVariants.productId')
      .where('productPrices.partnerId', '=', partnerId)
      .where('productVariants.partnerId', '=', partnerId)
      .where('productPrices.id', '=', id)
      .executeTakeFirst();
    return row?.productId ?? null;
  }
  if (type === 'bank_statement_line') {
    const row = await trx.selectFrom('bankStatementLines').select('statementId').where('partnerId', '=', partnerId).where('id', '=', id).executeTakeFirst();
    return row?.statementId ?? null;
  }
  return null;
}

function humanType(type: string): string {
  const text = type.replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * One event of the caller's partner, in full: who (name today, kind, how they signed in), when, from where, what
 * (field-by-field diff) and links to its target and customer. Another partner's event, or none, is 404.
 */
export async function getAuditEvent(ctx: Ctx, eventId: string): Promise<AuditEventDetail> {
  const partnerId = partnerIdOf(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const row = await trx
      .selectFrom('auditEvents')
      .select([...AUDIT_COLUMNS, 'auditEvents.hash', 'auditEvents.prevHash'])
      .where('auditEvents.partnerId', '=', partnerId)
      .where('auditEvents.id', '=', eventId)
      .executeTakeFirst();
    if (!row) throw notFound('Audit event');
    const view = toAuditView(row);

    let name: string | null = null;
    let kind: AuditEventDetail['actor']['kind'] = row.actorType === 'api_key' ? 'api_key' : row.actorType === 'system' ? 'system' : row.actorType === 'operator' ? 'operator' : 'staff';
    if ((row.actorType === 'user' || row.actorType === 'operator') && row.actorId) {
      const user = await trx.selectFrom('users').select(['name', 'kind']).where('id', '=', row.actorId).executeTakeFirst();
      if (user) {
        name = user.name;
        kind = user.kind === 'customer' ? 'customer' : user.kind === 'operator' ? 'operator' : 'staff';
      }
    } else if (row.actorType === 'api_key' && row.actorId) {
      const key = await trx.selectFrom('apiKeys').select('name').where('id', '=', row.actorId).where('partnerId', '=', partnerId).executeTakeFirst();
      name = key?.name ?? null;
    }
    if (name === null && row.actorType !== 'system') name = row.actorLabel;

    let customer: AuditEventDetail['customer'] = null;
    if (row.customerId) {
      const c = await trx.selectFrom('customers').select('name').where('id', '=', row.customerId).where('partnerId', '=', partnerId).executeTakeFirst();
      customer = { id: row.customerId, name: c?.name ?? null, path: `/admin/customer/${row.customerId}` };
    }

    const links: AuditEventDetail['links'] = [];
    if (row.targetId) {
      const ownerId = await targetOwnerId(trx, partnerId, row.targetType, row.targetId);
      links.push({ type: row.targetType, id: row.targetId, label: `${humanType(row.targetType)} ${row.targetId}`, path: targetPath(row.targetType, row.targetId, row.customerId, ownerId) });
    }
    if (customer && !(row.targetType === 'customer' && row.targetId === customer.id)) {
      links.push({ type: 'customer', id: customer.id, label: customer.name ?? `Customer ${customer.id}`, path: customer.path });
    }

    return {
      ...view,
      actor: { ...view.actor, name, kind },
      authMethodLabel: row.authMethod ? AUTH_METHOD_LABELS[row.authMethod] : null,
      appLabel: isAuditApp(row.app) ? AUDIT_APP_LABELS[row.app] : row.app,
      actionLabel: actionLabel(row.action),
      diff: diffOf(row.changes),
      customer,
      links,
      chain: { seq: view.seq, hash: row.hash, prevHash: row.prevHash },
    };
  });
}
