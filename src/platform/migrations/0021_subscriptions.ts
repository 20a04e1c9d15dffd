import { sql, type Kysely } from 'kysely';

/**
 * Subscriptions (src/subscriptions): a customer holds a catalog price (product, variant, cycle, currency) x quantity.
 * Time: every instant comes from the injectable clock (src/platform/clock.ts), never from the database's now().
 * Periods are whole UTC days: period boundaries are UTC midnights (checked below). A period is [start, end); `end` is
 * the expiry. Periods follow the ANCHOR: period k runs from anchor + k cycles to anchor + (k+1) cycles, the day of month
 * clamped to the month's length (anchor 31 Jan -> 28 Feb -> 31 Mar), see src/subscriptions/periods.ts.
 *
 * - `subscriptions`: one row per subscription. States:
 *     pending_payment  bought but points fell short: an unpaid Purchase invoice (`pending_invoice_id`) waits; no anchor,
 *                      no period yet. Paying it (`activatePaidSubscription`) activates from the day paid.
 *     active           `anchor_at`, `current_period_start/end`, `activated_at` set. Renews 7 days before `current_period_end`
 *                      (the renewal job: `auto_renew`; `renew_by_card` tops up exactly the fee by card first).
 *                      A failed renewal sets `renewal_failed_at` + `renewal_failure_reason` (cleared when it renews).
 *                      `renewal_notice_for` = the period end whose "renewal coming" notice went out (at most one per period).
 *     expired          the period ended unrenewed (`expired_at`); reactivation within 28 days of `current_period_end`
 *                      charges a full period that runs from the old expiry on the anchor.
 *     terminated       final: on request (refund into points, `refund_*`), automatically on day 29 after expiry, or a pending
 *                      purchase cancelled (`termination_kind` request | automatic; `termination_reason` free text).
 *   `quantity` is the number of units of the main price; renewal price/cost come from the CURRENT catalog price at renewal.
 *   `last_renewed_at`: when the current period was last charged by a renewal (or a reactivation/recovery).
 * - `subscription_add_ons`: extra catalog prices (same currency and cycle) on a subscription. `quantity` is what the customer
 *   has and pays for now; `pending_quantity` (lower, possibly 0) takes effect at the next renewal (no refund for a quantity
 *   down); `removed_at` set when a renewal applies a pending 0. A quantity up is charged pro rata to the period end at once.
 * - `subscription_charges`: one row per thing charged, append-only except that a pending purchase's period is filled in
 *   when it is paid. kind:
 *     purchase | renewal | reactivation  a PERIOD charge: covers the subscription AND its add-ons for [period_start,
 *                      period_end); price_micros = the whole pre-tax price of that period (main x quantity + add-ons),
 *                      activation_fee_micros (purchase only), tax_micros (rounded once for the charge), cost_micros.
 *                      UNIQUE (subscription_id, period_start) for these kinds: one subscription is never charged twice
 *                      for one period. A purchase is at most one per subscription; its period is null while pending_payment.
 *     add_on           a pro rata charge for add-on units added mid-period (add_on_id set; period_start = the day charged
 *                      from, period_end = the current period end); several per period are allowed.
 *   invoice_id: the invoice that billed it; entry_id: the ledger entry that posted it (points, or receivable when unpaid).
 * - `subscription_events`: the history shown in the detail (purchased, activated, renewed, renewal_failed, add_on_added,
 *   quantity_changed, expired, reactivated, terminated, ...), with the amount and invoice where money moved. Append-only.
 * Row-level security: customer rows (folio_customer_row), so the portal reads its own organisation's subscriptions.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function folio_is_utc_midnight(t timestamptz) returns boolean language sql immutable parallel safe as $f$
      select t is null or t = date_trunc('day', t, 'UTC')
    $f$;

    create table subscriptions (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      product_id text not null,
      variant_id text not null,
      price_id text not null,
      currency char(3) not null,
      cycle text not null check (cycle in ('monthly', 'yearly')),
      quantity int not null check (quantity between 1 and 100000),
      status text not null check (status in ('pending_payment', 'active', 'expired', 'terminated')),
      auto_renew boolean not null default true,
      renew_by_card boolean not null default false,
      anchor_at timestamptz,
      current_period_start timestamptz,
      current_period_end timestamptz,
      activated_at timestamptz,
      last_renewed_at timestamptz,
      expired_at timestamptz,
      terminated_at timestamptz,
      termination_kind text check (termination_kind in ('request', 'automatic')),
      termination_reason text check (length(termination_reason) between 1 and 500),
      renewal_failed_at timestamptz,
      renewal_failure_reason text check (length(renewal_failure_reason) between 1 and 500),
      renewal_notice_for timestamptz,
      pending_invoice_id text references invoices(id),
      refund_price_micros bigint check (refund_price_micros >= 0),
      refund_tax_micros bigint check (refund_tax_micros >= 0),
      refund_cost_micros bigint check (refund_cost_micros >= 0),
      refund_entry_id text references journal_entries(id),
      created_by text,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      unique (partner_id, id),
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      foreign key (partner_id, product_id) references products(partner_id, id),
      foreign key (partner_id, variant_id) references product_variants(partner_id, id),
      foreign key (partner_id, price_id) references product_prices(partner_id, id),
      check (folio_is_utc_midnight(anchor_at) and folio_is_utc_midnight(current_period_start) and folio_is_utc_midnight(current_period_end)),
      check ((anchor_at is null) = (current_period_start is null) and (anchor_at is null) = (current_period_end is null)
        and (anchor_at is null) = (activated_at is null)),
      check (current_period_end > current_period_start),
      check (status <> 'pending_payment' or (anchor_at is null and pending_invoice_id is not null)),
      check (status not in ('active', 'expired') or anchor_at is not null),
      check ((status = 'expired') = (expired_at is not null) or status = 'terminated'),
      check ((status = 'terminated') = (terminated_at is not null and termination_kind is not null)),
      check ((renewal_failed_at is null) = (renewal_failure_reason is null)),
      check ((refund_entry_id is null) or (refund_price_micros is not null and refund_tax_micros is not null and refund_cost_micros is not null))
    );
    create index subscriptions_customer on subscriptions (partner_id, customer_id, id desc);
    create index subscriptions_partner on subscriptions (partner_id, id desc);
    create index subscriptions_due on subscriptions (partner_id, status, current_period_end);
    create index subscriptions_renewal_due on subscriptions (current_period_end) where status in ('active', 'expired');

    create table subscription_add_ons (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      subscription_id text not null,
      product_id text not null,
      variant_id text not null,
      price_id text not null,
      quantity int not null check (quantity between 1 and 100000),
      pending_quantity int check (pending_quantity >= 0 and pending_quantity < quantity),
      removed_at timestamptz,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      unique (partner_id, id),
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      foreign key (partner_id, subscription_id) references subscriptions(partner_id, id),
      foreign key (partner_id, price_id) references product_prices(partner_id, id),
      check (removed_at is null or pending_quantity is null)
    );
    create unique index subscription_add_ons_one_per_price on subscription_add_ons (subscription_id, price_id) where removed_at is null;
    create index subscription_add_ons_subscription on subscription_add_ons (subscription_id);

    create table subscription_charges (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      subscription_id text not null,
      add_on_id text references subscription_add_ons(id),
      kind text not null check (kind in ('purchase', 'renewal', 'reactivation', 'add_on')),
      period_start timestamptz,
      period_end timestamptz,
      currency char(3) not null,
      quantity int not null check (quantity >= 1),
      price_micros bigint not null check (price_micros >= 0),
      activation_fee_micros bigint not null default 0 check (activation_fee_micros >= 0),
      tax_micros bigint not null default 0 check (tax_micros >= 0),
      cost_micros bigint not null default 0 check (cost_micros >= 0),
      invoice_id text references invoices(id),
      entry_id text references journal_entries(id),
      charged_at timestamptz not null,
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      foreign key (partner_id, subscription_id) references subscriptions(partner_id, id),
      check (folio_is_utc_midnight(period_start) and folio_is_utc_midnight(period_end)),
      check ((period_start is null) = (period_end is null) and period_end > period_start),
      check (period_start is not null or kind = 'purchase'),
      check ((kind = 'add_on') = (add_on_id is not null)),
      check (kind in ('purchase', 'add_on') or activation_fee_micros = 0)
    );
    -- One subscription is never charged twice for one period.
    create unique index subscription_charges_one_per_period on subscription_charges (subscription_id, period_start)
      where kind in ('purchase', 'renewal', 'reactivation');
    create unique index subscription_charges_one_purchase on subscription_charges (subscription_id) where kind = 'purchase';
    create index subscription_charges_subscription on subscription_charges (subscription_id, charged_at);

    -- A charge never changes, except that a pending purchase gets its period once, when it is paid.
    create function subscription_charges_guard() returns trigger language plpgsql as $f$
      begin
        if old.period_start is not null or new.period_start is null
          or (to_jsonb(new) - 'period_start' - 'period_end' - 'entry_id') <> (to_jsonb(old) - 'period_start' - 'period_end' - 'entry_id')
          or (old.entry_id is not null and new.entry_id is distinct from old.entry_id) then
          raise exception 'subscription charge % never changes (only a pending purchase gets its period, once)', old.id using errcode = '23514';
        end if;
        return new;
      end
    $f$;
    create trigger subscription_charges_guard before update on subscription_charges for each row execute function subscription_charges_guard();

    create table subscription_events (
      id bigint generated always as identity primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      subscription_id text not null,
      kind text not null check (kind ~ '^[a-z_]+$'),
      -- What moved, when money moved: positive = charged to the customer, negative = refunded (tax included).
      amount_micros bigint,
      currency char(3) not null,
      invoice_id text references invoices(id),
      detail text check (length(detail) <= 500),
      data jsonb not null default '{}',
      -- Who: a user id, or 'system:<job>'.
      actor text not null,
      audit_event_id text,
      occurred_at timestamptz not null,
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      foreign key (partner_id, subscription_id) references subscriptions(partner_id, id)
    );
    create index subscription_events_subscription on subscription_events (subscription_id, id desc);

    alter table subscriptions enable row level security;
    alter table subscription_add_ons enable row level security;
    alter table subscription_charges enable row level security;
    alter table subscription_events enable row level security;
    create policy tenant_wall on subscriptions to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    create policy tenant_wall on subscription_add_ons to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    create policy tenant_wall on subscription_charges to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    create policy tenant_wall on subscription_events to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    revoke delete, truncate on subscriptions, subscription_add_ons, subscription_charges from folio_app;
    revoke update, delete, truncate on subscription_events from folio_app;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the subscriptions migration is not reversible');
}
