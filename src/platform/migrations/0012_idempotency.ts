import { sql, type Kysely } from 'kysely';

/**
 * Idempotency keys for money-moving POSTs (src/platform/idempotency.ts): the first answer to a key is stored and
 * replayed for the same request. A key belongs to one caller of one partner (principal kind + id: a user for staff,
 * customer users and the operator, an API key), so two callers never see each other's keys.
 * - `request_method` + `request_route` + `request_hash` fingerprint the request (the hash also covers the path
 *   parameters, the query and the canonical JSON body); the same key with another fingerprint is refused.
 * - `in_progress` rows are claims held while the handler runs; `claim_token` names the request holding the claim,
 *   so only it may complete or release the claim (a stale claim can be taken over by a retry).
 * - Rows live at least 24 hours; `cleanupExpiredIdempotencyKeys` deletes expired ones in bounded batches.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table idempotency_keys (
      id bigint generated always as identity primary key,
      partner_id text references partners(id),
      customer_id text references customers(id),
      principal_kind text not null check (principal_kind in ('operator', 'staff', 'api_key', 'customer')),
      principal_id text not null,
      key text not null check (length(key) between 1 and 255),
      request_method text not null,
      request_route text not null,
      request_hash text not null check (request_hash ~ '^[0-9a-f]{64}$'),
      status text not null default 'in_progress' check (status in ('in_progress', 'completed')),
      claim_token text,
      claimed_at timestamptz not null default now(),
      response_status integer check (response_status between 100 and 599),
      response_content_type text,
      response_body bytea,
      created_at timestamptz not null default now(),
      completed_at timestamptz,
      expires_at timestamptz not null,
      check (expires_at >= created_at + interval '24 hours'),
      check ((principal_kind = 'operator') = (partner_id is null)),
      check ((principal_kind = 'customer') = (customer_id is not null)),
      check ((status = 'in_progress') = (claim_token is not null)),
      check ((status = 'completed') = (response_status is not null and completed_at is not null))
    );
    -- One row per caller and key. The operator has no partner: NULLs compare equal here so its keys are unique too.
    create unique index idempotency_keys_caller_key on idempotency_keys (partner_id, principal_kind, principal_id, key) nulls not distinct;
    -- Expiry cleanup walks this index.
    create index idempotency_keys_expires_idx on idempotency_keys (expires_at);

    alter table idempotency_keys enable row level security;
    create policy tenant_wall on idempotency_keys to folio_app
      using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    grant select, insert, update, delete on idempotency_keys to folio_app;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists idempotency_keys`.execute(db);
}
