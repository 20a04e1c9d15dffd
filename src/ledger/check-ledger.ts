import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import { checkCreditNotes } from '../credit-notes/check-credit-notes.ts';

export interface LedgerProblem {
  invariant: 'entry_balances' | 'account_balance_matches_postings' | 'trial_balance_zero' | 'usable_not_negative' | 'balance_after_chain'
    | 'receivable_matches_invoices_due' | 'credit_notes_within_invoice' | 'feed_totals_match_postings' | 'posting_customer_matches_account'
    | 'points_in_customer_currency';
  /** The partner whose books it is in (null only for a row that names none). */
  partnerId: string | null;
  /** What is wrong, without amounts: stays the same while the same thing stays wrong (a scheduled check alerts once per new one). */
  subject: string;
  detail: string;
}

/**
 * Problems listed per check and partner at most (in a stable order: the same ones each run), so that one partner's
 * many (a broken balance-after chain names every later posting of its account) never crowd out another's.
 */
export const LISTED_PER_PARTNER = 100;

/**
 * The ledger's invariants (../shared/ledger-design.md), checkable on a live database. Run it with a connection that
 * sees every row (the owner, or system scope). Returns every violation found; an empty list means the books are sound.
 */
export async function checkLedger(db: Executor, partnerId?: string): Promise<LedgerProblem[]> {
  const partner = partnerId ?? null;
  const problems: LedgerProblem[] = [];

  const unbalanced = await sql<{ id: string; partnerId: string; n: number; total: string }>`
    select * from (
      select e.id, e.partner_id as "partnerId", count(p.id)::int as n, coalesce(sum(p.amount_micros), 0)::text as total,
             row_number() over (partition by e.partner_id order by e.id) as listed
      from journal_entries e left join postings p on p.entry_id = e.id
      where (${partner}::text is null or e.partner_id = ${partner})
      group by e.id, e.partner_id having count(p.id) < 2 or coalesce(sum(p.amount_micros), 0) <> 0
         or bool_or(p.currency <> e.currency)
    ) x where listed <= ${LISTED_PER_PARTNER}`.execute(db);
  for (const r of unbalanced.rows) problems.push({ invariant: 'entry_balances', partnerId: r.partnerId, subject: `entry ${r.id}`, detail: `entry ${r.id}: ${r.n} postings summing to ${r.total}` });

  const drifted = await sql<{ id: string; partnerId: string; stored: string; summed: string }>`
    select * from (
      select a.id, a.partner_id as "partnerId", a.balance_micros::text as stored, coalesce(s.total, 0)::text as summed,
             row_number() over (partition by a.partner_id order by a.id) as listed
      from ledger_accounts a
      left join (select account_id, sum(amount_micros) as total from postings group by account_id) s on s.account_id = a.id
      where (${partner}::text is null or a.partner_id = ${partner}) and a.balance_micros <> coalesce(s.total, 0)
    ) x where listed <= ${LISTED_PER_PARTNER}`.execute(db);
  for (const r of drifted.rows) problems.push({ invariant: 'account_balance_matches_postings', partnerId: r.partnerId, subject: `account ${r.id}`, detail: `account ${r.id}: stored ${r.stored}, postings sum to ${r.summed}` });

  const trial = await sql<{ partnerId: string; currency: string; total: string }>`
    select partner_id as "partnerId", currency, sum(balance_micros)::text as total
    from ledger_accounts where (${partner}::text is null or partner_id = ${partner})
    group by partner_id, currency having sum(balance_micros) <> 0`.execute(db);
  for (const r of trial.rows) problems.push({ invariant: 'trial_balance_zero', partnerId: r.partnerId, subject: `trial balance ${r.currency}`, detail: `partner ${r.partnerId} ${r.currency}: balances sum to ${r.total}` });

  const overdrawn = await sql<{ customerId: string; partnerId: string; currency: string; usable: string }>`
    select "customerId", "partnerId", currency, usable::text as usable from (
      select w.customer_id as "customerId", w.partner_id as "partnerId", w.currency,
        -- A temporary limit that expired while in use still covered the spending made under it.
        -a.balance_micros - w.reserved_micros + w.credit_limit_micros as usable
      from wallets w join ledger_accounts a on a.id = w.points_account_id
      where (${partner}::text is null or w.partner_id = ${partner})
    ) u where usable < 0`.execute(db);
  for (const r of overdrawn.rows) problems.push({ invariant: 'usable_not_negative', partnerId: r.partnerId, subject: `wallet ${r.customerId} ${r.currency}`, detail: `customer ${r.customerId} ${r.currency}: usable ${r.usable}` });

  // A customer's currency is fixed once money has moved for it (updateCustomer, ensureWallet): its points are never held
  // in another, where the customer would never see or spend them.
  const foreign = await sql<{ accountId: string; partnerId: string; customerId: string; code: string; currency: string; customerCurrency: string; balance: string }>`
    select * from (
      select a.id as "accountId", a.partner_id as "partnerId", a.customer_id as "customerId", a.code, a.currency, c.currency as "customerCurrency",
             a.balance_micros::text as balance, row_number() over (partition by a.partner_id order by a.id) as listed
      from ledger_accounts a join customers c on c.partner_id = a.partner_id and c.id = a.customer_id
      where a.customer_id is not null and a.code = 'points' and a.currency <> c.currency and a.balance_micros <> 0
        and (${partner}::text is null or a.partner_id = ${partner})
    ) x where listed <= ${LISTED_PER_PARTNER}`.execute(db);
  for (const r of foreign.rows) {
    problems.push({
      invariant: 'points_in_customer_currency', partnerId: r.partnerId, subject: `account ${r.accountId}`,
      detail: `account ${r.accountId} (${r.code}) of customer ${r.customerId} holds ${r.balance} ${r.currency}; the customer's currency is ${r.customerCurrency}`,
    });
  }

  const chain = await sql<{ id: string; accountId: string; partnerId: string }>`
    select id::text, account_id as "accountId", partner_id as "partnerId" from (
      select x.*, row_number() over (partition by x.partner_id order by x.id) as listed from (
        select p.id, p.account_id, p.partner_id, p.balance_after_micros,
          sum(p.amount_micros) over (partition by p.account_id order by p.id) as running
        from postings p where p.balance_after_micros is not null and (${partner}::text is null or p.partner_id = ${partner})
      ) x where x.balance_after_micros <> x.running
    ) y where listed <= ${LISTED_PER_PARTNER}`.execute(db);
  for (const r of chain.rows) problems.push({ invariant: 'balance_after_chain', partnerId: r.partnerId, subject: `balance after on ${r.accountId}`, detail: `posting ${r.id} on ${r.accountId}: balance after does not follow the postings before it` });

  // Every posting names its account's customer (none for the partner's own accounts): the feed's type, totals and the
  // portal's row-level wall follow the posting's own customer_id. The postings' trigger refuses a new one that does not
  // (migration 0052); this finds any written before.
  const misnamed = await sql<{ id: string; accountId: string; partnerId: string; named: string | null; holder: string | null }>`
    select * from (
      select p.id::text, p.account_id as "accountId", p.partner_id as "partnerId", p.customer_id as named, a.customer_id as holder,
             row_number() over (partition by p.partner_id order by p.id) as listed
        from postings p join ledger_accounts a on a.id = p.account_id
       where p.customer_id is distinct from a.customer_id and (${partner}::text is null or p.partner_id = ${partner})
    ) x where listed <= ${LISTED_PER_PARTNER}`.execute(db);
  for (const r of misnamed.rows) {
    problems.push({ invariant: 'posting_customer_matches_account', partnerId: r.partnerId, subject: `posting ${r.id}`, detail: `posting ${r.id} on ${r.accountId}: names customer ${r.named ?? 'none'}, the account's is ${r.holder ?? 'none'}` });
  }

  // The customers' feed totals (kept by the postings' trigger for the transactions feed: calls on the account's row,
  // the other types in points_feed_totals) count and sum exactly the postings of their account and type.
  const totals = await sql<{ accountId: string; partnerId: string; feedType: string; kept: string; summed: string }>`
    with summed as (
      select account_id, partner_id, feed_type, count(*) as postings, sum(amount_micros) as total_micros from postings
       where feed_type is not null and (${partner}::text is null or partner_id = ${partner}) group by account_id, partner_id, feed_type
    ), kept as (
      select account_id, partner_id, feed_type, sum(postings) as postings, sum(total_micros) as total_micros from (
        select account_id, partner_id, feed_type, postings, total_micros from points_feed_totals where (${partner}::text is null or partner_id = ${partner})
        union all
        select id, partner_id, 'call', call_postings, call_total_micros from ledger_accounts
         where (call_postings <> 0 or call_total_micros <> 0) and (${partner}::text is null or partner_id = ${partner})
      ) k group by account_id, partner_id, feed_type
    )
    select * from (
      select coalesce(k.account_id, s.account_id) as "accountId", coalesce(k.partner_id, s.partner_id) as "partnerId", coalesce(k.feed_type, s.feed_type) as "feedType",
             coalesce(k.postings, 0) || ' postings, ' || coalesce(k.total_micros, 0) as kept,
             coalesce(s.postings, 0) || ' postings, ' || coalesce(s.total_micros, 0) as summed,
             row_number() over (partition by coalesce(k.partner_id, s.partner_id) order by coalesce(k.account_id, s.account_id), coalesce(k.feed_type, s.feed_type)) as listed
        from kept k full join summed s on s.account_id = k.account_id and s.feed_type = k.feed_type
       where coalesce(k.postings, 0) <> coalesce(s.postings, 0) or coalesce(k.total_micros, 0) <> coalesce(s.total_micros, 0)
    ) x where listed <= ${LISTED_PER_PARTNER}`.execute(db);
  for (const r of totals.rows) problems.push({ invariant: 'feed_totals_match_postings', partnerId: r.partnerId, subject: `feed totals ${r.accountId} ${r.feedType}`, detail: `account ${r.accountId} ${r.feedType}: totals keep ${r.kept}, postings are ${r.summed}` });

  // Invariant 5 (ledger-design.md), per customer and currency: what the receivable holds is exactly what is still due on
  // the invoices that bill a supply (issued Purchase invoices, open, not void). Top-up invoices ask for a deposit and
  // post no receivable; a Monthly statement is informational; a void invoice's receivable was reversed.
  const receivable = await sql<{ customerId: string; partnerId: string; currency: string; held: string; due: string }>`
    with held as (
      select a.partner_id, a.customer_id, a.currency, a.balance_micros as held
      from ledger_accounts a where a.code = 'receivable' and (${partner}::text is null or a.partner_id = ${partner})
    ), due as (
      select i.partner_id, i.customer_id, i.currency, sum(i.amount_due_micros) as due
      from invoices i
      where i.status in ('awaiting_payment', 'partially_paid') and i.type <> 'top_up' and not i.informational
        and (${partner}::text is null or i.partner_id = ${partner})
      group by i.partner_id, i.customer_id, i.currency
    )
    select * from (
      select coalesce(h.customer_id, d.customer_id) as "customerId", coalesce(h.partner_id, d.partner_id) as "partnerId", coalesce(h.currency, d.currency) as currency,
        coalesce(h.held, 0)::text as held, coalesce(d.due, 0)::text as due,
        row_number() over (partition by coalesce(h.partner_id, d.partner_id) order by coalesce(h.customer_id, d.customer_id), coalesce(h.currency, d.currency)) as listed
      from held h full join due d on d.partner_id = h.partner_id and d.customer_id = h.customer_id and d.currency = h.currency
      where coalesce(h.held, 0) <> coalesce(d.due, 0)
    ) x where listed <= ${LISTED_PER_PARTNER}`.execute(db);
  for (const r of receivable.rows) {
    problems.push({ invariant: 'receivable_matches_invoices_due', partnerId: r.partnerId, subject: `receivable ${r.customerId} ${r.currency}`, detail: `customer ${r.customerId} ${r.currency}: receivable ${r.held}, open invoices due ${r.due}` });
  }

  problems.push(...await checkCreditNotes(db, partner, LISTED_PER_PARTNER)); // invariant 7: src/credit-notes/check-credit-notes.ts
  return problems;
}
