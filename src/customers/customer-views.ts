import { sql, type Expression, type SqlBool } from 'kysely';
import { z } from 'zod';
import type { Executor } from '../platform/database.ts';
import { customerRole, timestamp } from '../platform/schemas.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { CURRENCIES, formatDecimal, isCurrency, MICROS_PER_UNIT, type Currency } from '../money/money.ts';
import { ROLE_ORDER } from '../portal/member-views.ts';
import { usableMicrosSql } from '../wallet/wallets.repo.ts';

/** Currencies a customer organisation can be billed in (those the platform knows the minor unit of). */
export const CUSTOMER_CURRENCIES = ['SGD', 'MYR', 'HKD', 'AUD', 'USD', 'VND'] as const;
export const CUSTOMER_STATUSES = ['active', 'suspended', 'closed'] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

/**
 * "Low points": usable points below this many units of the customer's currency (our own default, about 10 SGD everywhere;
 * the list and the dashboard accept another threshold with `usableBelow`).
 */
export const LOW_POINTS_UNITS: Readonly<Record<(typeof CUSTOMER_CURRENCIES)[number], bigint>> = {
  SGD: 10n, USD: 10n, AUD: 10n, HKD: 80n, MYR: 30n, VND: 200_000n,
};

export function lowPointsThresholdMicros(currency: string): bigint {
  return (LOW_POINTS_UNITS[currency as keyof typeof LOW_POINTS_UNITS] ?? 10n) * MICROS_PER_UNIT;
}

export const billingContactSchema = z.object({
  name: z.string().nullable(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  address: z.string().nullable(),
});
export type BillingContact = z.infer<typeof billingContactSchema>;

export const customerSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  currency: z.string(),
  status: z.enum(CUSTOMER_STATUSES),
  /** Users of the organisation who are not disabled (invited ones included). */
  userCount: z.number().int(),
  billingContact: billingContactSchema,
  /** Points balance in the customer's currency (decimal string). */
  points: z.string(),
  /** Points − reserved + credit limit in force. */
  usable: z.string(),
  /** Usable below the low-points threshold of its currency. */
  lowPoints: z.boolean(),
  createdAt: timestamp,
  updatedAt: timestamp,
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

export const customerDetailSchema = customerSummarySchema.extend({
  users: z.array(customerUserSchema),
  /** Money has moved for this customer (a journal entry names it): its currency can no longer change. */
  currencyLocked: z.boolean(),
  /** Its issued invoices still due (awaiting payment or partly paid) and what they still ask for, in its currency. */
  openInvoices: z.object({ count: z.number().int(), amountDue: z.string() }),
  /** Its subscriptions that are active (closing the customer turns their auto-renew off: they expire at the period's end, ADR 0038). */
  activeSubscriptions: z.number().int(),
});
export type CustomerDetail = z.infer<typeof customerDetailSchema>;

/** Usable points of wallet `w` with its points account `a`, in micros: points - reserved + the credit limit in force. */
const USABLE_OF_WALLET = usableMicrosSql('now');

/** In a `selectCustomers` query: the customer's usable points in micros (0 without a wallet). */
export const USABLE_MICROS = sql<string>`coalesce(${sql.ref('wa.usableMicros')}, 0)`;

/** The low-points threshold of `c.currency`, in micros (one CASE over the fixed table above). */
export function lowPointsThresholdSql(): Expression<string> {
  const cases = CUSTOMER_CURRENCIES.map((code) => sql`when ${code} then ${(LOW_POINTS_UNITS[code] * MICROS_PER_UNIT).toString()}::bigint`);
  return sql<string>`(case c.currency ${sql.join(cases, sql` `)} else ${(10n * MICROS_PER_UNIT).toString()}::bigint end)`;
}

/**
 * Condition on `c` alone (no join): the customer's usable points, read by a correlated lookup of its wallet and points
 * account, are below `belowMicros` (or its currency's threshold). A list ordered by id can then walk `customers_partner_id`
 * and stop as soon as its page is full, instead of computing every customer's points first.
 */
export function usableBelowLookup(belowMicros: bigint | null): Expression<SqlBool> {
  const usable = sql`coalesce((
    select ${USABLE_OF_WALLET} from wallets w join ledger_accounts a on a.id = w.points_account_id
     where w.partner_id = c.partner_id and w.customer_id = c.id and w.currency = c.currency), 0)`;
  return belowMicros === null ? sql<SqlBool>`${usable} < ${lowPointsThresholdSql()}` : sql<SqlBool>`${usable} < ${belowMicros.toString()}::bigint`;
}

/**
 * Customers of one partner with their user counts and points; callers add filters. The wallet is read by a LATERAL lookup
 * per customer row (its primary key), so the plan stays one index probe per row shown whatever the row estimates.
 */
export function selectCustomers(db: Executor, partnerId: string) {
  return db
    .selectFrom('customers as c')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('wallets as w')
          .innerJoin('ledgerAccounts as a', 'a.id', 'w.pointsAccountId')
          .select([sql<string>`-a.balance_micros`.as('pointsMicros'), sql<string>`${USABLE_OF_WALLET}`.as('usableMicros')])
          .whereRef('w.partnerId', '=', 'c.partnerId')
          .whereRef('w.customerId', '=', 'c.id')
          .whereRef('w.currency', '=', 'c.currency')
          .as('wa'),
      (join) => join.onTrue(),
    )
    .select([
      'c.id', 'c.name', 'c.currency', 'c.status', 'c.createdAt', 'c.updatedAt',
      'c.billingName', 'c.billingEmail', 'c.billingPhone', 'c.billingAddress',
      sql<number>`(select count(*)::int from users u where u.partner_id = c.partner_id and u.customer_id = c.id and u.status <> 'disabled')`.as('userCount'),
      sql<string>`coalesce(${sql.ref('wa.pointsMicros')}, 0)::text`.as('pointsMicros'),
      sql<string>`(${USABLE_MICROS})::text`.as('usableMicros'),
      sql<string>`(${lowPointsThresholdSql()})::text`.as('thresholdMicros'),
    ])
    .where('c.partnerId', '=', partnerId);
}

type CustomerRow = Awaited<ReturnType<ReturnType<typeof selectCustomers>['executeTakeFirstOrThrow']>>;

export function currencyOf(code: string): Currency {
  return isCurrency(code) ? code : 'SGD';
}

export function toCustomerSummary(row: CustomerRow): CustomerSummary {
  const currency = currencyOf(row.currency);
  const usable = BigInt(row.usableMicros);
  return {
    id: row.id, name: row.name, currency: row.currency, status: row.status, userCount: row.userCount,
    billingContact: { name: row.billingName, email: row.billingEmail, phone: row.billingPhone, address: row.billingAddress },
    points: formatDecimal(BigInt(row.pointsMicros), currency, CURRENCIES[currency]),
    usable: formatDecimal(usable, currency, CURRENCIES[currency]),
    lowPoints: usable < BigInt(row.thresholdMicros),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** A strong ETag of one customer's editable fields: a hash of its id and `updated_at` (to the microsecond). */
export function customerEtag(customerId: string, version: string): string {
  return `"${sha256Hex(`${customerId}:${version}`).slice(0, 32)}"`;
}

/** The customer's version (for its ETag); undefined when unknown or another partner's. Locks the row when asked. */
export async function customerVersion(db: Executor, partnerId: string, customerId: string, options: { lock: boolean }): Promise<string | undefined> {
  const row = await db
    .selectFrom('customers')
    .select(sql<string>`(extract(epoch from updated_at) * 1000000)::bigint::text`.as('version'))
    .where('partnerId', '=', partnerId)
    .where('id', '=', customerId)
    .$if(options.lock, (qb) => qb.forUpdate())
    .executeTakeFirst();
  return row?.version;
}

/**
 * True once money has moved for the customer, or can move in its currency: a journal entry names it, an invoice (a
 * draft too), a subscription or a payment is its, or it has a points wallet (opened by the first money to move for it,
 * a hold or a credit limit). Its currency is then fixed: a hold charged, a draft issued or a limit used after a change
 * would land in the old currency's books, out of the customer's sight. A wallet being opened holds the customer row
 * until it commits (ensureWallet), so a change waiting for it sees the wallet.
 */
export async function moneyHasMoved(db: Executor, partnerId: string, customerId: string): Promise<boolean> {
  const { rows } = await sql<{ moved: boolean }>`
    select exists (select 1 from journal_entries where partner_id = ${partnerId} and customer_id = ${customerId})
        or exists (select 1 from invoices where partner_id = ${partnerId} and customer_id = ${customerId})
        or exists (select 1 from subscriptions where partner_id = ${partnerId} and customer_id = ${customerId})
        or exists (select 1 from payments where partner_id = ${partnerId} and customer_id = ${customerId})
        or exists (select 1 from wallets where partner_id = ${partnerId} and customer_id = ${customerId}) as moved`.execute(db);
  return rows[0]!.moved;
}

/** One customer of the partner with its users (owner first, removed ones last), or undefined when unknown or another partner's. */
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
  const currency = currencyOf(row.currency);
  // The open invoices counted and summed in one read of them.
  const { rows: [open] } = await sql<{ invoices: number; dueMicros: string; subscriptions: number }>`
    select o.invoices, o.due_micros as "dueMicros",
           (select count(*)::int from subscriptions s where s.partner_id = ${partnerId} and s.customer_id = ${customerId} and s.status = 'active') as subscriptions
      from (select count(*)::int as invoices, coalesce(sum(i.amount_due_micros), 0)::text as due_micros
              from invoices i where i.partner_id = ${partnerId} and i.customer_id = ${customerId}
               and i.status in ('awaiting_payment', 'partially_paid') and i.currency = ${currency}) o`.execute(db);
  return {
    ...toCustomerSummary(row),
    currencyLocked: await moneyHasMoved(db, partnerId, customerId),
    openInvoices: { count: open!.invoices, amountDue: formatDecimal(BigInt(open!.dueMicros), currency, CURRENCIES[currency]) },
    activeSubscriptions: open!.subscriptions,
    users: users
      .map((u) => ({
        id: u.id, email: u.email, name: u.name, role: u.customerRole ?? 'guest', status: u.status,
        emailVerified: u.emailVerifiedAt !== null, lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
      }))
      // owner first, by role; people who were removed (disabled) last
      .sort((a, b) => Number(a.status === 'disabled') - Number(b.status === 'disabled') || ROLE_ORDER[a.role] - ROLE_ORDER[b.role]),
  };
}
