import { sql, type Kysely } from 'kysely';

/**
 * Rate table CSV imports (Product app, src/products/rate-import.ts). An import is a record the UI polls:
 * uploaded -> `validated` (every row checked: per-row errors kept, with line, column and message) -> `importing`
 * (`processed_rows` moves as chunks are written) -> `imported` | `failed`. The uploaded text is kept until the import
 * is applied (or abandoned: `csv` is cleared once imported). Nothing is written to `rates` from a file with errors
 * unless the user asks for only its valid rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table rate_imports (
      id text primary key,
      partner_id text not null references partners(id),
      rate_plan_id text not null references rate_plans(id),
      file_name text not null check (length(file_name) between 1 and 255),
      csv text,
      status text not null check (status in ('validated', 'importing', 'imported', 'failed')),
      row_count int not null check (row_count >= 0),
      valid_count int not null check (valid_count >= 0),
      error_count int not null check (error_count >= 0),
      errors jsonb not null default '[]',
      only_valid_rows boolean,
      processed_rows int not null default 0 check (processed_rows >= 0),
      failure text,
      created_by text not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      completed_at timestamptz
    );
    create index rate_imports_plan on rate_imports (partner_id, rate_plan_id, id desc);

    alter table rate_imports enable row level security;
    create policy tenant_wall on rate_imports to folio_app using (folio_partner_row(partner_id)) with check (folio_partner_row(partner_id));
    revoke delete, truncate on rate_imports from folio_app;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the catalog import migration is not reversible');
}
