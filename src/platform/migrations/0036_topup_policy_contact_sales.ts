import { sql, type Kysely } from 'kysely';

/**
 * Issue 8, §2 and §3: the minimum top-up policy change, and the customisable contact-sales email.
 * - `top_up_policies` get an id (`tpv_...`, the version's name in the API and on top-ups) and may be withdrawn before
 *   they take effect (`withdrawn_at`, `withdrawn_by`): the only columns the app role may ever update, once. A withdrawn
 *   version never applies and frees its date for another version (the date is unique among versions not withdrawn).
 * - `top_ups.policy_version_id`: the version that applied to the top-up (null: the built-in default), a foreign key,
 *   frozen like the rest of what was asked for. Filled in for existing top-ups from `policy_effective_from`.
 * - `top_up_policy_notices`: one row per customer and version once the customer was told of the change (the notice
 *   job's idempotency: never twice for the same version), with the notification sent.
 * - `partner_settings.contact_sales_reply_to_name`: the name shown with the contact-sales address.
 * - `notifications.reply_to_email` / `reply_to_name`: the Reply-To a notification was sent with (sales notifications:
 *   the partner's contact-sales address; a contact-sales message: the customer who wrote it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table top_up_policies
      add column id text not null default ('tpv_' || replace(gen_random_uuid()::text, '-', '')) check (id ~ '^tpv_[0-9a-z]{10,40}$'),
      add column withdrawn_at timestamptz,
      add column withdrawn_by text;
    alter table top_up_policies drop constraint top_up_policies_pkey;
    alter table top_up_policies add primary key (id);
    create unique index top_up_policies_one_per_day on top_up_policies (partner_id, currency, effective_from) where withdrawn_at is null;

    -- Withdrawn once, and only that: every other column stays as it was added.
    create function top_up_policies_guard() returns trigger language plpgsql as $f$
      begin
        if old.withdrawn_at is not null then
          raise exception 'top-up policy version % is withdrawn, and is never changed again', old.id using errcode = '23514';
        end if;
        if new.id <> old.id or new.partner_id <> old.partner_id or new.currency <> old.currency or new.effective_from <> old.effective_from
          or new.minimum_micros <> old.minimum_micros or new.fee_threshold_micros <> old.fee_threshold_micros or new.fee_micros <> old.fee_micros
          or new.created_by is distinct from old.created_by or new.created_at <> old.created_at or new.withdrawn_at is null then
          raise exception 'a top-up policy version is never edited, only withdrawn' using errcode = '23514';
        end if;
        return new;
      end
    $f$;
    create trigger top_up_policies_guard before update on top_up_policies for each row execute function top_up_policies_guard();
    grant update (withdrawn_at, withdrawn_by) on top_up_policies to folio_app;

    alter table top_ups add column policy_version_id text references top_up_policies(id);
    update top_ups t set policy_version_id = p.id
      from top_up_policies p
      where p.partner_id = t.partner_id and p.currency = t.currency and p.effective_from = t.policy_effective_from;
    create function top_ups_policy_version_frozen() returns trigger language plpgsql as $f$
      begin
        if new.policy_version_id is distinct from old.policy_version_id then
          raise exception 'top-up % keeps the policy version that applied', old.id using errcode = '23514';
        end if;
        return new;
      end
    $f$;
    create trigger top_ups_policy_version_frozen before update on top_ups for each row execute function top_ups_policy_version_frozen();

    create table top_up_policy_notices (
      policy_version_id text not null references top_up_policies(id),
      partner_id text not null references partners(id),
      customer_id text not null,
      -- The notice about the change, and (when the version was withdrawn after it) the notice that it will not happen.
      notification_ids text[] not null,
      withdrawal_notification_ids text[],
      created_at timestamptz not null default now(),
      primary key (policy_version_id, customer_id),
      foreign key (partner_id, customer_id) references customers(partner_id, id)
    );
    create index top_up_policy_notices_customer on top_up_policy_notices (partner_id, customer_id);
    alter table top_up_policy_notices enable row level security;
    create policy tenant_wall on top_up_policy_notices to folio_app
      using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    revoke delete, truncate on top_up_policy_notices from folio_app;

    alter table partner_settings
      add column contact_sales_reply_to_name text check (length(contact_sales_reply_to_name) between 1 and 100),
      add constraint partner_settings_contact_sales_email_length check (length(contact_sales_email) between 3 and 254);

    alter table notifications
      add column reply_to_email text check (length(reply_to_email) between 3 and 254),
      add column reply_to_name text check (length(reply_to_name) between 1 and 200);
    create index notifications_customer_kind on notifications (partner_id, customer_id, kind, created_at desc);
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the top-up policy / contact-sales migration is not reversible');
}
