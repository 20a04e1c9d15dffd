import { sql, type Kysely } from 'kysely';

/**
 * Foundation: tenants, people, access, sessions, API keys, the hash-chained audit trail, the notifications outbox,
 * and the row-level-security wall. Applied migrations are never edited: add a new file instead.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    do $$ begin
      if not exists (select 1 from pg_roles where rolname = 'folio_app') then
        create role folio_app nologin nosuperuser nobypassrls;
      end if;
    end $$;
    -- The migrating user's connections switch to folio_app at run time (SET ROLE), so it must be a member.
    grant folio_app to current_user;

    -- Row visibility for the app role (the second wall; every query also states its partner, and customer on the portal).
    -- Scope 'system' (sign-in, operator console, jobs) sees everything. Scope 'partner' sees its partner's rows.
    -- Scope 'customer' (a portal request) sees its partner's shared rows and its own customer's rows, never staff-only rows.
    create function folio_shared_row(row_partner_id text) returns boolean
      language sql stable parallel safe as $f$
        select coalesce(current_setting('folio.scope', true), '') = 'system'
          or row_partner_id = nullif(current_setting('folio.partner_id', true), '')
      $f$;
    create function folio_partner_row(row_partner_id text) returns boolean
      language sql stable parallel safe as $f$
        select coalesce(current_setting('folio.scope', true), '') = 'system'
          or (row_partner_id = nullif(current_setting('folio.partner_id', true), '')
              and coalesce(current_setting('folio.customer_id', true), '') = '')
      $f$;
    create function folio_customer_row(row_partner_id text, row_customer_id text) returns boolean
      language sql stable parallel safe as $f$
        select coalesce(current_setting('folio.scope', true), '') = 'system'
          or (row_partner_id = nullif(current_setting('folio.partner_id', true), '')
              and (coalesce(current_setting('folio.customer_id', true), '') = ''
                   or row_customer_id = current_setting('folio.customer_id', true)))
      $f$;

    create table partners (
      id text primary key,
      name text not null check (length(name) between 1 and 200),
      slug text not null unique check (slug ~ '^[a-z0-9-]{2,60}$'),
      default_currency char(3) not null default 'SGD',
      status text not null default 'active' check (status in ('active', 'suspended')),
      created_at timestamptz not null default now()
    );

    create table partner_settings (
      partner_id text primary key references partners(id),
      staff_two_factor_required boolean not null default true,
      portal_tabs jsonb not null default '{"invoices": true, "audit": true, "services": true, "points": true}',
      contact_sales_email text,
      updated_at timestamptz not null default now()
    );

    create table customers (
      id text primary key,
      partner_id text not null references partners(id),
      name text not null check (length(name) between 1 and 200),
      currency char(3) not null,
      status text not null default 'active' check (status in ('active', 'suspended', 'closed')),
      created_at timestamptz not null default now(),
      unique (partner_id, id)
    );
    create index customers_partner_idx on customers (partner_id, created_at desc);

    create table users (
      id text primary key,
      kind text not null check (kind in ('operator', 'staff', 'customer')),
      partner_id text references partners(id),
      customer_id text references customers(id),
      customer_role text check (customer_role in ('owner', 'admin', 'member', 'guest')),
      email text not null check (length(email) between 3 and 254),
      name text not null check (length(name) between 1 and 200),
      password_hash text,
      status text not null default 'active' check (status in ('invited', 'active', 'disabled')),
      email_verified_at timestamptz,
      two_factor_enabled boolean not null default false,
      failed_login_count integer not null default 0,
      locked_until timestamptz,
      last_login_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check ((kind = 'operator') = (partner_id is null)),
      check ((kind = 'customer') = (customer_id is not null)),
      check ((kind = 'customer') = (customer_role is not null))
    );
    create unique index users_email_key on users (lower(email));
    create index users_partner_idx on users (partner_id, kind);
    create index users_customer_idx on users (customer_id);
    -- One owner per customer organisation.
    create unique index users_one_owner on users (customer_id) where customer_role = 'owner' and status <> 'disabled';

    create table app_grants (
      partner_id text not null references partners(id),
      user_id text not null references users(id),
      app text not null check (app in ('customer', 'product', 'invoice', 'finance', 'audit', 'discount', 'settings', 'access')),
      granted_by text,
      granted_at timestamptz not null default now(),
      primary key (user_id, app)
    );
    create index app_grants_partner_idx on app_grants (partner_id);

    create table access_requests (
      id text primary key,
      partner_id text not null references partners(id),
      user_id text not null references users(id),
      app text not null check (app in ('finance')),
      note text check (length(note) <= 1000),
      status text not null default 'pending' check (status in ('pending', 'approved', 'declined', 'withdrawn')),
      decided_by text,
      decided_at timestamptz,
      decision_note text check (length(decision_note) <= 1000),
      created_at timestamptz not null default now()
    );
    create unique index access_requests_one_pending on access_requests (user_id, app) where status = 'pending';
    create index access_requests_partner_idx on access_requests (partner_id, created_at desc);
    create index access_requests_status_idx on access_requests (status, created_at desc);

    create table invitations (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text references customers(id),
      user_id text not null references users(id),
      email text not null,
      token_hash text not null unique,
      invited_by text,
      expires_at timestamptz not null,
      accepted_at timestamptz,
      revoked_at timestamptz,
      created_at timestamptz not null default now()
    );
    create index invitations_partner_idx on invitations (partner_id, created_at desc);

    create table user_tokens (
      id text primary key,
      partner_id text references partners(id),
      user_id text not null references users(id),
      purpose text not null check (purpose in ('password_reset', 'email_verification')),
      token_hash text not null unique,
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now()
    );

    create table sessions (
      id text primary key,
      user_id text not null references users(id),
      partner_id text references partners(id),
      token_hash text not null unique,
      csrf_token text not null,
      ip text,
      user_agent text,
      created_at timestamptz not null default now(),
      last_seen_at timestamptz not null default now(),
      idle_expires_at timestamptz not null,
      absolute_expires_at timestamptz not null,
      revoked_at timestamptz
    );
    create index sessions_user_idx on sessions (user_id);

    create table login_challenges (
      id text primary key,
      user_id text not null references users(id),
      partner_id text references partners(id),
      code_hash text not null,
      attempts integer not null default 0,
      expires_at timestamptz not null,
      consumed_at timestamptz,
      ip text,
      created_at timestamptz not null default now()
    );

    create table login_attempts (
      id bigint generated always as identity primary key,
      email text not null,
      ip text not null,
      succeeded boolean not null,
      at timestamptz not null default now()
    );
    create index login_attempts_email_idx on login_attempts (lower(email), at desc);
    create index login_attempts_ip_idx on login_attempts (ip, at desc);

    create table api_keys (
      id text primary key,
      partner_id text not null references partners(id),
      name text not null check (length(name) between 1 and 100),
      token_prefix text not null,
      token_hash text not null unique,
      apps text[] not null,
      created_by text,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    );
    create index api_keys_partner_idx on api_keys (partner_id, created_at desc);

    -- Audit trail: append-only for the app role, hash-chained per partner ('platform' for operator-level events).
    create table audit_events (
      id text primary key,
      partner_id text references partners(id),
      customer_id text,
      seq bigint not null,
      occurred_at timestamptz not null default clock_timestamp(),
      actor_type text not null check (actor_type in ('user', 'api_key', 'system', 'operator')),
      actor_id text,
      actor_label text,
      app text not null,
      action text not null check (action ~ '^[a-z_]+(\\.[a-z_]+)+$'),
      target_type text not null,
      target_id text,
      changes jsonb not null default '{}',
      request_id text,
      ip text,
      user_agent text,
      prev_hash text not null,
      hash text not null
    );
    create unique index audit_events_chain_seq on audit_events (coalesce(partner_id, 'platform'), seq);
    create index audit_events_partner_time on audit_events (partner_id, occurred_at desc);
    create index audit_events_customer_time on audit_events (partner_id, customer_id, occurred_at desc);

    create table audit_chain_heads (
      chain_key text primary key,
      last_seq bigint not null,
      last_hash text not null
    );

    create function audit_event_hash(e audit_events) returns text
      language sql immutable as $f$
        select encode(sha256(convert_to(concat_ws(E'\\x1f',
          e.prev_hash, e.id, coalesce(e.partner_id, '-'), coalesce(e.customer_id, '-'), e.seq::text,
          to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
          e.actor_type, coalesce(e.actor_id, '-'), coalesce(e.actor_label, '-'), e.app, e.action, e.target_type,
          coalesce(e.target_id, '-'), e.changes::text, coalesce(e.request_id, '-'), coalesce(e.ip, '-'),
          coalesce(e.user_agent, '-')), 'UTF8')), 'hex')
      $f$;

    create function audit_events_chain() returns trigger
      language plpgsql security definer set search_path = public as $f$
      declare
        chain text := coalesce(new.partner_id, 'platform');
        head audit_chain_heads%rowtype;
      begin
        insert into audit_chain_heads (chain_key, last_seq, last_hash) values (chain, 0, repeat('0', 64))
          on conflict (chain_key) do nothing;
        select * into head from audit_chain_heads where chain_key = chain for update;
        new.seq := head.last_seq + 1;
        new.prev_hash := head.last_hash;
        new.occurred_at := coalesce(new.occurred_at, clock_timestamp());
        new.hash := audit_event_hash(new);
        update audit_chain_heads set last_seq = new.seq, last_hash = new.hash where chain_key = chain;
        return new;
      end
    $f$;
    create trigger audit_events_chain before insert on audit_events
      for each row execute function audit_events_chain();

    -- Notifications outbox: written in the business transaction, delivered by the worker.
    create table notifications (
      id text primary key,
      partner_id text references partners(id),
      customer_id text,
      user_id text,
      to_email text not null,
      kind text not null,
      subject text not null,
      body_text text not null,
      status text not null default 'queued' check (status in ('queued', 'sent', 'failed')),
      transport text,
      attempts integer not null default 0,
      last_error text,
      created_at timestamptz not null default now(),
      sent_at timestamptz
    );
    create index notifications_partner_idx on notifications (partner_id, created_at desc);
    create index notifications_customer_idx on notifications (partner_id, customer_id, created_at desc);
    create index notifications_email_idx on notifications (lower(to_email), created_at desc);

    create table notification_status_history (
      id bigint generated always as identity primary key,
      notification_id text not null references notifications(id),
      partner_id text,
      customer_id text,
      status text not null check (status in ('queued', 'sent', 'failed', 'retrying')),
      detail text,
      at timestamptz not null default clock_timestamp()
    );
    create index notification_status_history_idx on notification_status_history (notification_id, at);

    -- The app role enqueues jobs only through this door (graphile-worker's own tables stay private to the owner).
    create function folio_enqueue_job(task text, payload json, key text, attempts int) returns void
      language plpgsql security definer set search_path = public as $f$
      begin
        perform graphile_worker.add_job(task, payload, job_key := key, max_attempts := attempts);
      end
    $f$;
    revoke all on function folio_enqueue_job(text, json, text, int) from public;
    grant execute on function folio_enqueue_job(text, json, text, int) to folio_app;
  `.execute(db);

  // Row-level security: the second wall behind every query's own partner filter.
  const tenantTables: Array<[string, string]> = [
    ['partners', 'folio_shared_row(id)'],
    ['partner_settings', 'folio_shared_row(partner_id)'],
    ['customers', 'folio_customer_row(partner_id, id)'],
    ['users', 'folio_customer_row(partner_id, customer_id)'],
    ['app_grants', 'folio_partner_row(partner_id)'],
    ['access_requests', 'folio_partner_row(partner_id)'],
    ['invitations', 'folio_customer_row(partner_id, customer_id)'],
    ['user_tokens', 'folio_partner_row(partner_id)'],
    ['sessions', 'folio_partner_row(partner_id)'],
    ['login_challenges', 'folio_partner_row(partner_id)'],
    ['api_keys', 'folio_partner_row(partner_id)'],
    ['audit_events', 'folio_customer_row(partner_id, customer_id)'],
    ['notifications', 'folio_customer_row(partner_id, customer_id)'],
    ['notification_status_history', 'folio_customer_row(partner_id, customer_id)'],
  ];
  for (const [table, predicate] of tenantTables) {
    await sql`alter table ${sql.table(table)} enable row level security`.execute(db);
    await sql`create policy tenant_wall on ${sql.table(table)} to folio_app using (${sql.raw(predicate)}) with check (${sql.raw(predicate)})`.execute(db);
  }
  await sql`alter table login_attempts enable row level security`.execute(db);
  await sql`create policy system_only on login_attempts to folio_app using (current_setting('folio.scope', true) = 'system') with check (true)`.execute(db);

  await sql`
    grant usage on schema public to folio_app;
    grant select, insert, update, delete on all tables in schema public to folio_app;
    revoke update, delete, truncate on audit_events from folio_app;
    revoke all on audit_chain_heads from folio_app;
    revoke update, delete, truncate on notification_status_history from folio_app;
    grant usage on all sequences in schema public to folio_app;
    revoke all on kysely_migration, kysely_migration_lock from folio_app;
    alter default privileges in schema public grant select, insert, update, delete on tables to folio_app;
    alter default privileges in schema public grant usage on sequences to folio_app;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the foundation migration is not reversible');
}
