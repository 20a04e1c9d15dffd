import { sql, type Kysely } from 'kysely';

/**
 * Low balance alerts (src/wallet/low-balance.ts, low-balance-sweep.ts): one row per customer wallet (partner, customer,
 * currency).
 * - `enabled`: the customer's setting (on unless turned off in the portal's Points tab).
 * - `threshold_micros`: the customer's threshold; null is the built-in default of the currency
 *   (`LOW_BALANCE_DEFAULT_MICROS`).
 * - `state`: 'above' (armed: usable points were above the threshold since the last alert) or 'alerted' (the alert was
 *   sent, or the setting was saved at or below the balance; it is armed again once usable points rise above the
 *   threshold). A customer is alerted once per fall, and never before it was above the threshold.
 * - `changed_at`: when the state or the setting last changed; `updated_by`: the portal user who last changed the
 *   setting (null for rows the sweep made).
 * Rows are written by the sweep (system scope) and the portal (customer scope); never deleted.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table low_balance_alerts (
      partner_id text not null references partners(id),
      customer_id text not null,
      currency char(3) not null,
      enabled boolean not null default true,
      threshold_micros bigint check (threshold_micros >= 0),
      state text not null check (state in ('above', 'alerted')),
      changed_at timestamptz not null,
      updated_by text,
      primary key (partner_id, customer_id, currency),
      foreign key (partner_id, customer_id) references customers(partner_id, id)
    );

    alter table low_balance_alerts enable row level security;
    -- folio_customer_row written out, each setting a scalar subquery: read once per statement, not per row (migration 0046).
    create policy tenant_wall on low_balance_alerts to folio_app
      using (coalesce((select current_setting('folio.scope', true)), '') = 'system'
             or (partner_id = nullif((select current_setting('folio.partner_id', true)), '')
                 and (coalesce((select current_setting('folio.customer_id', true)), '') = ''
                      or customer_id = (select current_setting('folio.customer_id', true)))))
      with check (coalesce((select current_setting('folio.scope', true)), '') = 'system'
             or (partner_id = nullif((select current_setting('folio.partner_id', true)), '')
                 and (coalesce((select current_setting('folio.customer_id', true)), '') = ''
                      or customer_id = (select current_setting('folio.customer_id', true)))));
    grant select, insert, update on low_balance_alerts to folio_app;
    revoke delete, truncate on low_balance_alerts from folio_app;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table low_balance_alerts`.execute(db);
}
