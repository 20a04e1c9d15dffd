import { Readable } from 'node:stream';
import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf, sendAsBuilt } from '../platform/server.ts';
import { customerPortal, staffApp } from '../platform/access-policy.ts';
import { idOf, problems } from '../platform/schemas.ts';
import { inScope, type Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { formatDecimal, isCurrency } from '../money/money.ts';
import { csvCell } from '../audit/csv.ts';
import { readFeedPage, listTransactions, TRANSACTION_TYPES, type TransactionType } from './list-transactions.ts';
import { transactionIds } from './transaction-ids.ts';
import { readWallet } from './wallets.repo.ts';

/** Strict: the tests hold the feed's answers to this schema, and see any field it does not document. */
const transactionSchema = z.strictObject({
  id: z.string().describe('The transaction\'s id: txn_ and 22 characters, opaque (it tells nothing of other transactions), the same on every page and in the CSV'),
  occurredAt: z.string(), type: z.string(), kind: z.string(), description: z.string(),
  amount: z.string(), balanceAfter: z.string(), currency: z.string(), cause: z.strictObject({ type: z.string(), id: z.string() }),
});
export const feedSchema = z.strictObject({
  data: z.array(transactionSchema),
  nextCursor: z.string().nullable(),
  totals: z.array(z.strictObject({ type: z.string(), count: z.number().int(), total: z.string() })),
});
const feedResponses = {
  200: {
    description: 'A page of transactions (JSON), or every matching transaction (CSV, streamed)',
    content: {
      'application/json': { schema: feedSchema },
      'text/csv': { schema: z.string().describe('RFC 4180 CSV with a header row') },
    },
  },
  ...problems,
};
const walletSchema = z.object({
  currency: z.string(), points: z.string(), reserved: z.string(), creditLimit: z.string(), creditLimitExpiresAt: z.string().nullable(), usable: z.string(),
});
const feedQuery = z.strictObject({
  type: z.enum(TRANSACTION_TYPES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(100),
  cursor: z.string().max(40).optional().describe('The nextCursor of the page before: the transactions older than it'),
  format: z.enum(['json', 'csv']).optional(),
});
type FeedQuery = z.infer<typeof feedQuery>;

const CSV_BATCH = 500;

async function customerCurrency(db: Db, partnerId: string, customerId: string): Promise<string> {
  const c = await inScope(db, { kind: 'partner', partnerId }, (trx) =>
    trx.selectFrom('customers').select('currency').where('partnerId', '=', partnerId).where('id', '=', customerId).executeTakeFirst(),
  );
  if (!c) throw new DomainError('not_found', 'Customer not found');
  return c.currency;
}

function wantsCsv(query: FeedQuery, accept: string | undefined): boolean {
  return query.format === 'csv' || (query.format === undefined && (accept ?? '').includes('text/csv'));
}

/** Every page, newest first, in bounded batches, as CSV. */
function feedCsv(db: Db, scope: Parameters<typeof inScope>[1], partnerId: string, customerId: string, currency: string, type: TransactionType | undefined): Readable {
  async function* rows(): AsyncGenerator<string> {
    yield 'id,occurredAt,type,description,amount,balanceAfter,currency\r\n'; // the JSON's names, as every CSV writes them
    const ids = await transactionIds(db);
    let cursor: string | null = null;
    for (;;) {
      const after: string | null = cursor;
      const page: Awaited<ReturnType<typeof listTransactions>> = await inScope(db, scope, (trx) => listTransactions(trx, { partnerId, customerId, currency, ...(type ? { type } : {}), limit: CSV_BATCH, afterPostingId: after, ids }));
      for (const { view: t } of page.data) {
        // amounts are decimal strings we formatted ourselves, safe as they are
        yield `${[t.id, t.occurredAt, t.type, csvCell(t.description)].join(',')},${t.amount},${t.balanceAfter},${t.currency}\r\n`;
      }
      cursor = page.lastPostingId;
      if (!cursor) return;
    }
  }
  return Readable.from(rows());
}

export function walletRoutes(app: FolioApp, deps: ServerDeps): void {
  /** One round trip (a read-only transaction of its own): the customer's feed account, the page, and the totals by type over the whole history. */
  const feed = async (scope: Parameters<typeof inScope>[1], partnerId: string, customerId: string, query: FeedQuery) => {
    const ids = await transactionIds(deps.db);
    const after = query.cursor ? ids.postingIdOf(query.cursor) : null;
    if (query.cursor && !after) throw new DomainError('validation_failed', 'cursor is not valid', [{ path: 'cursor', message: 'not a cursor from this list' }]);
    const page = await readFeedPage(deps.db, scope, { partnerId, customerId, ...(query.type ? { type: query.type } : {}), limit: query.limit, afterPostingId: after, ids });
    if (!page) throw new DomainError('not_found', 'Customer not found');
    return { data: page.data.map((r) => r.view), nextCursor: page.nextCursor, totals: page.totals };
  };
  const wallet = async (scope: Parameters<typeof inScope>[1], partnerId: string, customerId: string) => {
    const currency = await customerCurrency(deps.db, partnerId, customerId);
    const cur = isCurrency(currency) ? currency : 'SGD';
    const w = await inScope(deps.db, scope, (trx) => readWallet(trx, { partnerId, customerId, currency }));
    const fmt = (m: bigint) => formatDecimal(m, cur);
    return {
      currency,
      points: fmt(w?.pointsMicros ?? 0n), reserved: fmt(w?.reservedMicros ?? 0n), creditLimit: fmt(w?.creditLimitMicros ?? 0n),
      creditLimitExpiresAt: w?.creditLimitExpiresAt?.toISOString() ?? null, usable: fmt(w?.usableMicros ?? 0n),
    };
  };

  app.get('/api/v1/customers/:customerId/transactions', {
    config: { access: staffApp('customer') },
    schema: {
      operationId: 'listTransactions', tags: ['Customer'],
      summary: "A customer's points transactions, newest first (100 by default), with totals by type over the whole history; CSV with Accept: text/csv or ?format=csv",
      params: z.strictObject({ customerId: idOf('cus') }), querystring: feedQuery,
      response: feedResponses,
    },
  }, async (req, reply) => {
    const p = ctxOf(req, deps).principal;
    if (p.kind !== 'staff' && p.kind !== 'api_key') throw new DomainError('forbidden', 'Partner staff only');
    if (wantsCsv(req.query, req.headers.accept)) {
      const currency = await customerCurrency(deps.db, p.partnerId, req.params.customerId);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="transactions-${req.params.customerId}.csv"`)
        .send(feedCsv(deps.db, { kind: 'partner', partnerId: p.partnerId }, p.partnerId, req.params.customerId, currency, req.query.type) as unknown as string);
    }
    // The page is assembled field by field by our own code (TransactionView): the route's zod encode would only copy
    // every row once more (ADR 0005 amendment).
    return sendAsBuilt(reply, await feed({ kind: 'partner', partnerId: p.partnerId }, p.partnerId, req.params.customerId, req.query));
  });

  app.get('/api/v1/customers/:customerId/wallet', {
    config: { access: staffApp('customer') },
    schema: {
      operationId: 'getCustomerWallet', tags: ['Customer'], summary: "A customer's points: balance, reserved, credit limit, usable",
      params: z.strictObject({ customerId: idOf('cus') }), response: { 200: walletSchema, ...problems },
    },
  }, async (req, reply) => {
    const p = ctxOf(req, deps).principal;
    if (p.kind !== 'staff' && p.kind !== 'api_key') throw new DomainError('forbidden', 'Partner staff only');
    return reply.send(await wallet({ kind: 'partner', partnerId: p.partnerId }, p.partnerId, req.params.customerId));
  });

  // Members and guests cannot see company credits (domain.md): owners and admins only.
  const companyCredits = customerPortal({ roles: ['owner', 'admin'], tab: 'points' });

  app.get('/api/v1/portal/transactions', {
    config: { access: companyCredits },
    schema: {
      operationId: 'portalListTransactions', tags: ['Portal'], summary: "Your organisation's points transactions, newest first, with totals by type over the whole history; CSV too",
      querystring: feedQuery, response: feedResponses,
    },
  }, async (req, reply) => {
    const p = ctxOf(req, deps).principal;
    if (p.kind !== 'customer') throw new DomainError('forbidden', 'Portal users only');
    const scope = { kind: 'customer' as const, partnerId: p.partnerId, customerId: p.customerId };
    if (wantsCsv(req.query, req.headers.accept)) {
      const currency = await customerCurrency(deps.db, p.partnerId, p.customerId);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="transactions.csv"')
        .send(feedCsv(deps.db, scope, p.partnerId, p.customerId, currency, req.query.type) as unknown as string);
    }
    return sendAsBuilt(reply, await feed(scope, p.partnerId, p.customerId, req.query));
  });

  app.get('/api/v1/portal/wallet', {
    config: { access: companyCredits },
    schema: { operationId: 'portalGetWallet', tags: ['Portal'], summary: "Your organisation's points", response: { 200: walletSchema, ...problems } },
  }, async (req, reply) => {
    const p = ctxOf(req, deps).principal;
    if (p.kind !== 'customer') throw new DomainError('forbidden', 'Portal users only');
    return reply.send(await wallet({ kind: 'customer', partnerId: p.partnerId, customerId: p.customerId }, p.partnerId, p.customerId));
  });
}
