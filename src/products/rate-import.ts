import { sql, type Selectable } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import type { Page } from '../access/paging.ts';
import type { RateImportsTable } from './rate-import.db-types.ts';
import { validateRateCsv, RATE_CSV_COLUMNS } from './rate-csv.ts';
import { currencyOf, deleteRates, findRatePlan, ratePlanView, ratesDigest, zeroRatedCount, type RatePlanView } from './rate-plans.repo.ts';

/**
 * CSV import of a rate table, in two steps the Product app's progress bar follows:
 *
 * 1. Upload (`POST /rate-plans/:id/imports`, the file's text in JSON): the browser shows the upload's own progress
 *    (XMLHttpRequest upload events, the first part of the bar). The server checks every row at once (50,000 rows take
 *    well under a second) and stores an import record, `validated`, with the per-row errors (line, column, message) and
 *    the counts. Nothing touches the rates yet.
 * 2. Apply (`POST /rate-imports/:id/apply`): refused with 422 `import_has_errors` when the file has errors, unless the
 *    user asks for `onlyValidRows`. The plan's table is then replaced in ONE transaction (readers see the old table or
 *    the new one, never half), written in chunks; after each chunk the import's `processed_rows` is committed on a
 *    separate short transaction, so the UI, polling `GET /rate-imports/:id` while the apply request runs, moves the
 *    second part of the bar. The record ends `imported` (with the plan's new version and one audit event) or `failed`.
 *
 * Why not a background job: the write itself takes a couple of seconds for the largest table we accept, so the request
 * can carry it, its answer is the result, and a failure is the request's error; the record is what makes progress visible.
 */

const IMPORT_CHUNK = 2500;

export const rateImportErrorSchema = z.object({
  line: z.number().int(),
  column: z.enum(['row', ...RATE_CSV_COLUMNS]),
  message: z.string(),
});

export const rateImportViewSchema = z.object({
  id: z.string(),
  ratePlanId: z.string(),
  fileName: z.string(),
  status: z.enum(['validated', 'importing', 'imported', 'failed']),
  rowCount: z.number().int().describe('Rates in the file (header and blank lines not counted)'),
  validCount: z.number().int(),
  invalidRowCount: z.number().int(),
  errorCount: z.number().int(),
  errors: z.array(rateImportErrorSchema).describe('The first 1,000 errors, in file order'),
  onlyValidRows: z.boolean().nullable(),
  rowsToImport: z.number().int().describe('Rows the apply writes (the valid ones)'),
  processedRows: z.number().int().describe('Rows written so far while importing'),
  failure: z.string().nullable(),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});
export type RateImportView = z.infer<typeof rateImportViewSchema>;

type RateImportRow = Selectable<RateImportsTable>;

export function rateImportView(r: RateImportRow): RateImportView {
  return {
    id: r.id, ratePlanId: r.ratePlanId, fileName: r.fileName, status: r.status,
    rowCount: r.rowCount, validCount: r.validCount, invalidRowCount: r.rowCount - r.validCount, errorCount: r.errorCount,
    errors: r.errors, onlyValidRows: r.onlyValidRows, rowsToImport: r.validCount, processedRows: r.processedRows,
    failure: r.failure, createdAt: r.createdAt.toISOString(), completedAt: r.completedAt?.toISOString() ?? null,
  };
}

/** The same time-sortable form as every id (src/platform/ids.ts); `rim` is not in its list of prefixes. */
export const newRateImportId = (): string => `rim_${newId('prd').slice(4)}`;

async function findImport(trx: Trx, partnerId: string, importId: string, opts: { forUpdate?: boolean } = {}): Promise<RateImportRow> {
  let q = trx.selectFrom('rateImports').selectAll().where('partnerId', '=', partnerId).where('id', '=', importId);
  if (opts.forUpdate) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row) throw notFound('Import');
  return row;
}

export interface UploadRateImportInput {
  ratePlanId: string;
  fileName: string;
  csv: string;
}

/** Step 1: check the file and keep it as an import record; audited as `rate_plan.import_uploaded`. */
export async function uploadRateImport(ctx: Ctx, input: UploadRateImportInput): Promise<RateImportView> {
  const { partnerId, actorId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const plan = await findRatePlan(trx, partnerId, input.ratePlanId);
    const checked = validateRateCsv(input.csv, currencyOf(plan.currency));
    const row = await trx
      .insertInto('rateImports')
      .values({
        id: newRateImportId(), partnerId, ratePlanId: plan.id, fileName: input.fileName, csv: input.csv, status: 'validated',
        rowCount: checked.rowCount, validCount: checked.valid.length, errorCount: checked.errorCount,
        errors: JSON.stringify(checked.errors), createdBy: actorId, updatedAt: sql`now()`,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, ctx, {
      partnerId, app: 'product', action: 'rate_plan.import_uploaded', targetType: 'rate_plan', targetId: plan.id,
      changes: {
        importId: { after: row.id }, fileName: { after: row.fileName }, rowCount: { after: row.rowCount },
        validCount: { after: row.validCount }, errorCount: { after: row.errorCount },
      },
    });
    return rateImportView(row);
  });
}

export async function getRateImport(ctx: Ctx, importId: string): Promise<RateImportView> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => rateImportView(await findImport(trx, partnerId, importId)));
}

/** A plan's imports, newest first (without their error lists, which `getRateImport` gives). */
export async function listRateImports(ctx: Ctx, input: { ratePlanId: string; limit: number; cursor?: string | undefined }): Promise<Page<RateImportView>> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const plan = await findRatePlan(trx, partnerId, input.ratePlanId);
    let q = trx.selectFrom('rateImports').selectAll().where('partnerId', '=', partnerId).where('ratePlanId', '=', plan.id).orderBy('id', 'desc').limit(input.limit + 1);
    if (input.cursor) q = q.where('id', '<', input.cursor);
    const rows = await q.execute();
    const data = rows.slice(0, input.limit).map((r) => ({ ...rateImportView(r), errors: [] }));
    return { data, nextCursor: rows.length > input.limit ? data.at(-1)!.id : null };
  });
}

/**
 * Step 2: replace the plan's rates with the file's valid rows. 422 `import_has_errors` when the file has errors and
 * `onlyValidRows` is not set; 409 when the import is not `validated` (already applied, running, or failed).
 */
export async function applyRateImport(ctx: Ctx, input: { importId: string; onlyValidRows?: boolean | undefined }): Promise<{ import: RateImportView; ratePlan: RatePlanView }> {
  const { partnerId } = partnerCaller(ctx.principal);
  const scope = scopeOf(ctx.principal);
  const onlyValidRows = input.onlyValidRows ?? false;

  // Claim the import (committed at once, so pollers see `importing` and a second apply gets 409).
  const claimed = await inScope(ctx.db, scope, async (trx) => {
    const imp = await findImport(trx, partnerId, input.importId, { forUpdate: true });
    if (imp.status !== 'validated' || imp.csv === null) throw new DomainError('state_conflict', `The import is ${imp.status}, not waiting to be applied`);
    if (imp.errorCount > 0 && !onlyValidRows) {
      throw new DomainError('import_has_errors', `The file has ${imp.errorCount} error${imp.errorCount === 1 ? '' : 's'} on ${imp.rowCount - imp.validCount} row(s): fix them, or import only the ${imp.validCount} valid rows`, [
        { path: 'onlyValidRows', message: 'the file has errors: set it to import only the valid rows' },
      ]);
    }
    if (imp.validCount === 0) throw new DomainError('rule_violation', 'The file has no valid rows to import');
    return trx.updateTable('rateImports').set({ status: 'importing', onlyValidRows, processedRows: 0, updatedAt: sql`now()` })
      .where('partnerId', '=', partnerId).where('id', '=', imp.id).returningAll().executeTakeFirstOrThrow();
  });

  const progress = (processedRows: number) => inScope(ctx.db, scope, (trx) =>
    trx.updateTable('rateImports').set({ processedRows, updatedAt: sql`now()` }).where('partnerId', '=', partnerId).where('id', '=', claimed.id).execute());

  try {
    return await inScope(ctx.db, scope, async (trx) => {
      const plan = await findRatePlan(trx, partnerId, claimed.ratePlanId, { forUpdate: true });
      // Checked again against the plan as it is now (same rules, same result for the same text and currency).
      const { valid } = validateRateCsv(claimed.csv!, currencyOf(plan.currency));
      // The rules may have changed since the upload (a server of another version): never write other rows than it showed.
      if (valid.length !== claimed.validCount) {
        throw new DomainError('state_conflict', `The file now reads as ${valid.length} valid rows, not the ${claimed.validCount} its upload showed: upload it again`);
      }
      const removed = await deleteRates(trx, partnerId, plan.id);
      for (let i = 0; i < valid.length; i += IMPORT_CHUNK) {
        await trx
          .insertInto('rates')
          .values(valid.slice(i, i + IMPORT_CHUNK).map((r) => ({
            ratePlanId: plan.id, partnerId, prefix: r.prefix, description: r.description,
            pricePerMinuteMicros: r.pricePerMinuteMicros, costPerMinuteMicros: r.costPerMinuteMicros, taxCategory: r.taxCategory,
          })))
          .execute();
        await progress(Math.min(i + IMPORT_CHUNK, valid.length));
      }
      const updated = await trx
        .updateTable('ratePlans').set({ ratesVersion: sql`rates_version + 1`, ratesUpdatedAt: sql`now()` })
        .where('partnerId', '=', partnerId).where('id', '=', plan.id).returningAll().executeTakeFirstOrThrow();
      const done = await trx
        .updateTable('rateImports')
        .set({ status: 'imported', processedRows: valid.length, csv: null, completedAt: sql`now()`, updatedAt: sql`now()` })
        .where('partnerId', '=', partnerId).where('id', '=', claimed.id).returningAll().executeTakeFirstOrThrow();
      await recordAudit(trx, ctx, {
        partnerId, app: 'product', action: 'rate_plan.rates_imported', targetType: 'rate_plan', targetId: plan.id,
        changes: {
          importId: { after: claimed.id }, fileName: { after: claimed.fileName }, onlyValidRows: { after: onlyValidRows },
          rateCount: { before: removed.rates, after: valid.length }, skippedRows: { after: claimed.rowCount - valid.length },
          zeroRatedCount: { before: removed.zeroRated, after: zeroRatedCount(valid) },
          ratesVersion: { before: plan.ratesVersion, after: updated.ratesVersion }, ratesDigest: { after: ratesDigest(valid) },
        },
      });
      return { import: rateImportView(done), ratePlan: ratePlanView(updated, valid.length) };
    });
  } catch (err) {
    const failure = err instanceof DomainError ? err.message : 'The import failed; the rates were not changed';
    await inScope(ctx.db, scope, (trx) => trx.updateTable('rateImports')
      .set({ status: 'failed', failure, completedAt: sql`now()`, updatedAt: sql`now()` })
      .where('partnerId', '=', partnerId).where('id', '=', claimed.id).execute());
    throw err;
  }
}
