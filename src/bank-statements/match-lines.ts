import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';

/** The most invoices one combination suggestion may span (the oldest-first prefix of a customer's open invoices). */
export const MAX_COMBINATION_INVOICES = 20;

/**
 * Propose a customer and invoices for every `unmatched` credit line of a statement, set-based: a fixed number of
 * statements per import whatever its size (never one query per line). Only this partner's invoices in the line's currency
 * are ever considered; "open" means a Purchase or Top-up invoice awaiting payment or partly paid (what allocatePayment takes).
 *
 * 1. Reference: a token of the reference (letters, digits, joined by - _ / .) equals an invoice number, case-insensitive.
 *    The customer with most named invoices is proposed, with its named open invoices (oldest due first). Confidence high
 *    when they are open invoices of one customer; medium when the named invoices are no longer open or belong to several customers.
 * 2. Amount: the amount equals one open invoice's amount due, or the sum of a customer's oldest-first open invoices
 *    (2 to MAX_COMBINATION_INVOICES of them; all of them included). Proposed only when every candidate is one customer's
 *    (medium), or when the payer name equals one candidate customer's name (high).
 * 3. Payer name: the payer name equals the name of exactly one customer in that currency (low, no invoices).
 * Lines left unmatched get the reason why.
 */
export async function matchStatementLines(trx: Trx, partnerId: string, statementId: string): Promise<void> {
  // The lines were inserted in this transaction: the planner has no statistics on them yet and would pick nested loops
  // over the invoices for every line. These passes are bulk joins by nature: hash joins only, for this transaction's
  // matching (set back on right after).
  await sql`select set_config('enable_nestloop', 'off', true)`.execute(trx);
  try {
    await matchPasses(trx, partnerId, statementId);
  } finally {
    await sql`select set_config('enable_nestloop', 'on', true)`.execute(trx);
  }
}

async function matchPasses(trx: Trx, partnerId: string, statementId: string): Promise<void> {
  const max = MAX_COMBINATION_INVOICES;
  // 1. Reference names invoice numbers.
  await sql`
    with lines as (
      select id, currency, reference from bank_statement_lines
      where partner_id = ${partnerId} and statement_id = ${statementId} and status = 'unmatched' and reference is not null
    ),
    tokens as (
      select l.id as line_id, lower(t[1]) as token from lines l
        cross join lateral regexp_matches(l.reference, '[A-Za-z0-9#]+(?:[-_/.][A-Za-z0-9#]+)*', 'g') as t
      union
      select l.id, lower(t[1]) from lines l
        cross join lateral regexp_matches(l.reference, '[A-Za-z0-9#]+(?:[-_.][A-Za-z0-9#]+)*', 'g') as t
    ),
    hits as (
      select k.line_id, i.id, i.customer_id, i.number, i.due_at, i.issued_at,
        (i.status in ('awaiting_payment', 'partially_paid') and not i.informational) as open
      from tokens k
        join lines l on l.id = k.line_id
        join invoices i on i.partner_id = ${partnerId} and lower(i.number) = k.token and i.currency = l.currency
      where i.status not in ('draft', 'void') and i.type in ('purchase', 'top_up')
    ),
    per_customer as (
      select line_id, customer_id, count(*) as named,
        coalesce(array_agg(id order by due_at nulls last, issued_at, id) filter (where open), '{}') as open_ids,
        string_agg(number, ', ' order by number) as numbers,
        string_agg(number, ', ' order by number) filter (where not open) as closed_numbers
      from hits group by line_id, customer_id
    ),
    ranked as (
      select *, row_number() over (partition by line_id order by cardinality(open_ids) desc, named desc, customer_id) as rn,
        count(*) over (partition by line_id) as customers
      from per_customer
    )
    update bank_statement_lines b set
      status = 'suggested', match_kind = 'reference', suggested_customer_id = r.customer_id, suggested_invoice_ids = r.open_ids,
      confidence = case when cardinality(r.open_ids) > 0 and r.customers = 1 then 'high' else 'medium' end,
      reason = 'reference names ' || r.numbers
        || case when r.closed_numbers is not null then ' (' || r.closed_numbers || ': no longer open)' else '' end
        || case when r.customers > 1 then '; the reference also names invoices of ' || (r.customers - 1) || ' other customer(s)' else '' end
    from ranked r
    where r.rn = 1 and b.id = r.line_id and b.statement_id = ${statementId} and b.partner_id = ${partnerId} and b.status = 'unmatched'
  `.execute(trx);

  // 2. Amount equals one open invoice, or an oldest-first run of one customer's open invoices.
  await sql`
    with lines as (
      select id, currency, amount_micros, payer_name from bank_statement_lines
      where partner_id = ${partnerId} and statement_id = ${statementId} and status = 'unmatched'
    ),
    open_inv as (
      select i.id, i.customer_id, i.currency, i.number, i.amount_due_micros,
        row_number() over w as k, (sum(i.amount_due_micros) over w)::bigint as running, count(*) over (partition by i.customer_id, i.currency) as open_count
      from invoices i
      where i.partner_id = ${partnerId} and i.status in ('awaiting_payment', 'partially_paid') and i.type in ('purchase', 'top_up')
        and not i.informational and i.amount_due_micros > 0 and i.currency in (select distinct currency from lines)
      window w as (partition by i.customer_id, i.currency order by i.due_at nulls last, i.issued_at, i.id rows between unbounded preceding and current row)
    ),
    cand as (
      select l.id as line_id, o.customer_id, o.currency, 'amount' as kind, o.k, o.id as invoice_id, o.number, o.open_count
      from lines l join open_inv o on o.currency = l.currency and o.amount_due_micros = l.amount_micros
      union all
      select l.id, o.customer_id, o.currency, 'combination', o.k, null, null, o.open_count
      from lines l join open_inv o on o.currency = l.currency and o.running = l.amount_micros and o.k between 2 and ${max}
    ),
    named as (
      select c.*, (l.payer_name is not null and lower(cu.name) = lower(l.payer_name)) as name_match
      from cand c join lines l on l.id = c.line_id
        join customers cu on cu.partner_id = ${partnerId} and cu.id = c.customer_id
    ),
    per_line as (
      select line_id,
        count(distinct customer_id) as customers,
        count(distinct customer_id) filter (where name_match) as named_customers,
        count(*) filter (where kind = 'amount') as single_count
      from named group by line_id
    ),
    chosen as (
      select * from (
        select n.*, p.customers, p.named_customers, p.single_count,
          row_number() over (partition by n.line_id order by n.name_match desc, (n.kind = 'amount') desc, n.k) as rn
        from named n join per_line p on p.line_id = n.line_id
        where p.named_customers = 1 or p.customers = 1
      ) x where x.rn = 1 and (x.name_match or x.customers = 1)
    ),
    runs as (
      select c.line_id, array_agg(o.id order by o.k) as invoice_ids
      from chosen c join open_inv o on o.customer_id = c.customer_id and o.currency = c.currency and o.k <= c.k
      where c.kind = 'combination'
      group by c.line_id
    ),
    proposal as (
      select c.line_id, c.customer_id, c.kind, c.name_match, c.single_count, c.k, c.open_count, c.number,
        case when c.kind = 'amount' then array[c.invoice_id] else r.invoice_ids end as invoice_ids
      from chosen c left join runs r on r.line_id = c.line_id
    )
    update bank_statement_lines b set
      status = 'suggested', match_kind = p.kind::text, suggested_customer_id = p.customer_id, suggested_invoice_ids = p.invoice_ids,
      confidence = case when p.name_match then 'high' else 'medium' end,
      reason = case
        when p.kind = 'amount' and p.single_count = 1 then 'amount matches 1 open invoice (' || p.number || ')'
        when p.kind = 'amount' then 'amount matches open invoice ' || p.number || ', the oldest of ' || p.single_count || ' of this customer with that amount due'
        when p.k = p.open_count then 'amount equals all ' || p.k || ' open invoices of the customer'
        else 'amount equals the ' || p.k || ' oldest open invoices of the customer' end
        || case when p.name_match then '; payer name matches the customer' else '' end
    from proposal p
    where b.id = p.line_id and b.statement_id = ${statementId} and b.partner_id = ${partnerId} and b.status = 'unmatched'
  `.execute(trx);

  // 3. Payer name names exactly one customer in the line's currency.
  await sql`
    with lines as (
      select id, currency, payer_name from bank_statement_lines
      where partner_id = ${partnerId} and statement_id = ${statementId} and status = 'unmatched' and payer_name is not null
    ),
    named as (
      select l.id as line_id, min(c.id) as customer_id, count(*) as n
      from lines l join customers c on c.partner_id = ${partnerId} and lower(c.name) = lower(l.payer_name) and c.currency = l.currency
      group by l.id
    )
    update bank_statement_lines b set
      status = 'suggested', match_kind = 'payer_name', suggested_customer_id = n.customer_id, confidence = 'low',
      reason = 'payer name matches the customer; no open invoice matches the reference or the amount'
    from named n
    where b.id = n.line_id and n.n = 1 and b.statement_id = ${statementId} and b.partner_id = ${partnerId} and b.status = 'unmatched'
  `.execute(trx);

  // Why the rest stays unmatched.
  await sql`
    update bank_statement_lines b set reason = case
        when (b.currency, b.amount_micros) in (
          select i.currency, i.amount_due_micros from invoices i
          where i.partner_id = ${partnerId} and i.status in ('awaiting_payment', 'partially_paid') and i.type in ('purchase', 'top_up') and not i.informational
        ) then 'amount matches open invoices of several customers: choose the customer'
        else 'no open invoice matches the reference or the amount' end
    where b.partner_id = ${partnerId} and b.statement_id = ${statementId} and b.status = 'unmatched'
  `.execute(trx);
}
