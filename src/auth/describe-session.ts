import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { scopeOf } from '../platform/context.ts';
import { DomainError } from '../platform/errors.ts';
import { appName, customerRole } from '../platform/schemas.ts';
import type { AppName } from '../platform/db-types.ts';

export const APP_ORDER: readonly AppName[] = ['customer', 'product', 'invoice', 'finance', 'audit', 'discount', 'settings', 'access'];

export const sessionSchema = z.object({
  user: z.object({
    id: z.string(), email: z.string(), name: z.string(), kind: z.enum(['operator', 'staff', 'customer']), emailVerified: z.boolean(),
    twoFactorEnabled: z.boolean(),
  }),
  /** The partner's contact-sales address, shown to portal users (null when the partner has not set one). */
  contactSalesEmail: z.string().nullable(),
  partner: z.object({ id: z.string(), name: z.string() }).nullable(),
  /** The signed-in customer user's organisation; `status` closed: the portal reads, pays what is due and buys nothing new. */
  customer: z.object({ id: z.string(), name: z.string(), role: customerRole, status: z.enum(['active', 'suspended', 'closed']) }).nullable(),
  /** Admin-portal apps the staff member holds, in sidebar order. */
  apps: z.array(appName),
  /** User-portal tabs the partner shows. */
  portalTabs: z.object({ invoices: z.boolean(), audit: z.boolean(), services: z.boolean(), points: z.boolean() }).nullable(),
  csrfToken: z.string(),
});
export type SessionView = z.infer<typeof sessionSchema>;

export async function describeSession(ctx: Ctx, csrfToken: string): Promise<SessionView> {
  const p = ctx.principal;
  if (p.kind !== 'operator' && p.kind !== 'staff' && p.kind !== 'customer') throw new DomainError('forbidden', 'Not a personal session');
  return inScope(ctx.db, scopeOf(p), async (trx: Trx) => {
    const user = await trx.selectFrom('users').select(['id', 'email', 'name', 'kind', 'emailVerifiedAt', 'twoFactorEnabled']).where('id', '=', p.userId).executeTakeFirstOrThrow();
    const base = {
      user: { id: user.id, email: user.email, name: user.name, kind: user.kind, emailVerified: user.emailVerifiedAt !== null, twoFactorEnabled: user.twoFactorEnabled },
      csrfToken,
      contactSalesEmail: null as string | null,
    };
    if (p.kind === 'operator') return { ...base, partner: null, customer: null, apps: [], portalTabs: null };
    const partner = await trx.selectFrom('partners').select(['id', 'name']).where('id', '=', p.partnerId).executeTakeFirstOrThrow();
    if (p.kind === 'staff') {
      return { ...base, partner, customer: null, apps: APP_ORDER.filter((a) => p.apps.has(a)), portalTabs: null };
    }
    const customer = await trx.selectFrom('customers').select(['id', 'name', 'status']).where('partnerId', '=', p.partnerId).where('id', '=', p.customerId).executeTakeFirstOrThrow();
    const settings = await trx.selectFrom('partnerSettings').select(['portalTabs', 'contactSalesEmail']).where('partnerId', '=', p.partnerId).executeTakeFirst();
    return {
      ...base, contactSalesEmail: settings?.contactSalesEmail ?? null, partner, customer: { ...customer, role: p.role }, apps: [],
      portalTabs: settings?.portalTabs ?? { invoices: true, audit: true, services: true, points: true },
    };
  });
}
