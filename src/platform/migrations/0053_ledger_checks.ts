import { sql, type Kysely } from 'kysely';

/**
 * The worker's nightly proof of the books (src/ledger/scheduled-ledger-check.ts), per partner: when it last ran, how long
 * it took, and what it found. `checkLedger` runs once over every partner's rows; each partner's row keeps its own
 * problems (the first 20, and how many the check listed: at most 100 per check and partner), which subjects they name
 * (`problem_subjects`, sorted: the same subjects wrong again, or fewer, are the same finding, alerted once), when that
 * finding was first seen and when its alert last went out.
 * The Finance app shows it (GET /api/v1/finance/ledger-check). Rows are replaced by each run, never deleted: a
 * partner's row is its latest result, and the history of what was wrong is in the logs and the alerts sent.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table ledger_checks (
      partner_id text primary key references partners(id),
      checked_at timestamptz not null,
      duration_ms integer not null check (duration_ms >= 0),
      problem_count integer not null default 0 check (problem_count >= 0),
      problems jsonb not null default '[]' check (jsonb_typeof(problems) = 'array' and jsonb_array_length(problems) <= 20),
      problem_subjects text[] not null default '{}',
      problem_detected_at timestamptz,
      problem_alerted_at timestamptz,
      check ((problem_count = 0) = (problem_detected_at is null)),
      check (problem_count >= jsonb_array_length(problems))
    );
    alter table ledger_checks enable row level security;
    -- folio_partner_row written out, each setting a scalar subquery: read once per statement, not per row (migration 0046).
    create policy tenant_wall on ledger_checks to folio_app
      using (coalesce((select current_setting('folio.scope', true)), '') = 'system'
             or (partner_id = nullif((select current_setting('folio.partner_id', true)), '')
                 and coalesce((select current_setting('folio.customer_id', true)), '') = ''))
      with check (coalesce((select current_setting('folio.scope', true)), '') = 'system'
             or (partner_id = nullif((select current_setting('folio.partner_id', true)), '')
                 and coalesce((select current_setting('folio.customer_id', true)), '') = ''));
    grant select, insert, update on ledger_checks to folio_app;
    revoke delete, truncate on ledger_checks from folio_app;
  `.execute(db);
}
