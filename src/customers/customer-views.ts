import { sql } from 'kysely';
import { z } from 'zod';
import type { Executor } from '../platform/database.ts';
import { customerRole, timestamp } from '../platform/schemas.ts';
import { ROLE_ORDER } from '../portal/member-views.ts';

/** Currencies a customer organisation can be billed in (those the platform knows the minor unit of). */
export const CUSTOMER_CURRENCIES = ['SGD', 'MYR', 'HKD', 'AUD', 'USD', 'VND'] as const;

export const customerSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  currency: z.string(),
  status: z.enum(['active', 'suspended', 'closed']),
  /** Users of the organisation who are not disabled (invited ones included). */
  userCount: z.number().int(),
  createdAt: timestamp,
});
export type CustomerSummary = z.infer<typeof customerSummarySchema>;

export const customerUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: customerRole,
  status: z.enum(['invited', 'active', 'disabled']),
  emailVerified: z.boolean(),
  lastLoginAt: timestamp.nullable(),
});

export const customerDetailSchema = customerSummarySchema.extend({ users: z.array(customerUserSchema) });
export type CustomerDetail = z.infer<typeof customerDetailSchema>;

/** Customers of one partner with their user counts; callers add filters. */
export function selectCustomers(db: Executor, partnerId: string) {
  return db
    .selectFrom('customers as c')
    .select([
      'c.id', 'c.name', 'c.currency', 'c.status', 'c.createdAt',
      sql<number>`(select count(*)::int from users u where u.partner_id = c.partner_id and u.customer_id = c.id and u.status <> 'disabled')`.as('userCount'),
    ])
    .where('c.partnerId', '=', partnerId);
}

type CustomerRow = Awaited<ReturnType<ReturnType<typeof selectCustomers>['executeTakeFirstOrThrow']>>;

export function toCustomerSummary(row: CustomerRow): CustomerSummary {
  return { ...row, createdAt: row.createdAt.toISOString() };
}

/** One customer of the partner with its users (owner first), or undefined when unknown or another partner's. */
export async function findCustomerDetail(db: Executor, partnerId: string, customerId: string): Promise<CustomerDetail | undefined> {
  const row = await selectCustomers(db, partnerId).where('c.id', '=', customerId).executeTakeFirst();
  if (!row) return undefined;
  const users = await db
    .selectFrom('users')
    .select(['id', 'email', 'name', 'customerRole', 'status', 'emailVerifiedAt', 'lastLoginAt'])
    .where('partnerId', '=', partnerId)
    .where('customerId', '=', customerId)
    .orderBy('createdAt')
    .orderBy('id')
    .execute();
  return {
    ...toCustomerSummary(row),
    users: users
      .map((u) => ({
        id: u.id, email: u.email, name: u.name, role: u.customerRole ?? 'guest', status: u.status,
        emailVerified: u.emailVerifiedAt !== null, lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
      }))
      .sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role]),
  };
}
