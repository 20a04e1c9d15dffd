import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { isCurrency, type Currency } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { parseStatementCsv, type ParsedLine } from './statement-csv.ts';
import { matchStatementLines } from './match-lines.ts';
import { loadStatement, type BankStatementView } from './bank-statement-views.ts';

/** The uploaded file's text, as JSON: 5 MiB of CSV (a 20,000-line statement of ~250 bytes a line). */
export const STATEMENT_CSV_MAX_CHARS = 5 * 1024 * 1024;

export const uploadStatementBody = z.strictObject({
  fileName: z.string().trim().min(1).max(255),
  csv: z.string().min(1).max(STATEMENT_CSV_MAX_CHARS).describe('The file\'s text (UTF-8); see the operation description for the columns'),
});
export type UploadStatementInput = z.infer<typeof uploadStatementBody>;

/** The identity of a line across imports: day, currency, amount, normalised reference, and which occurrence in its file. */
function fingerprints(lines: readonly ParsedLine[]): string[] {
  const seen = new Map<string, number>();
  return lines.map((l) => {
    const key = `${l.bookedOn}|${l.currency}|${l.amountMicros}|${(l.reference ?? '').toLowerCase().replace(/\s+/g, ' ')}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return sha256Hex(`${key}|${n}`);
  });
}

/**
 * Upload a bank statement: parse it (bad lines reported by line number), keep every readable line, skip lines imported
 * before (`duplicate`), ignore debits, and propose a customer and invoices for each credit (src/bank-statements/match-lines.ts).
 * Nothing is paid yet: each line waits to be accepted or rejected. Uploads of one partner queue behind each other
 * (a transaction-scoped advisory lock), so two uploads of the same file at once still import its lines once.
 */
export async function uploadStatement(ctx: Ctx, input: UploadStatementInput): Promise<BankStatementView> {
  const { partnerId, actorId } = partnerCaller(ctx.principal);
  const today = ctx.clock.now().toISOString().slice(0, 10);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const partner = await trx.selectFrom('partners').select('defaultCurrency').where('id', '=', partnerId).executeTakeFirstOrThrow();
    if (!isCurrency(partner.defaultCurrency)) throw new DomainError('state_conflict', `Partner currency ${partner.defaultCurrency} is not supported`);
    const defaultCurrency: Currency = partner.defaultCurrency;
    const parsed = parseStatementCsv(input.csv, { defaultCurrency, today });
    const fileSha256 = sha256Hex(input.csv);

    await sql`select pg_advisory_xact_lock(hashtext(${`bank_statement:${partnerId}`}))`.execute(trx);
    const warnings: string[] = [];
    const sameFile = await trx.selectFrom('bankStatements').select(['id', 'createdAt', 'fileName'])
      .where('partnerId', '=', partnerId).where('fileSha256', '=', fileSha256).orderBy('id').limit(1).executeTakeFirst();
    if (sameFile) {
      warnings.push(`This file was imported before (${sameFile.fileName}, ${sameFile.createdAt.toISOString().slice(0, 10)}, ${sameFile.id}): its lines are skipped as duplicates`);
    }
    const allPrints = fingerprints(parsed.lines);
    const prints = parsed.lines.map((l, i) => (l.amountMicros > 0n ? allPrints[i]! : null));
    const credits = prints.filter((p): p is string => p !== null);
    const earlier = new Map<string, string>();
    if (credits.length > 0) {
      const rows = await trx.selectFrom('bankStatementLines').select(['id', 'fingerprint'])
        .where('partnerId', '=', partnerId).where('status', '<>', 'duplicate').where(sql<boolean>`fingerprint = any(${credits}::text[])`).execute();
      for (const r of rows) earlier.set(r.fingerprint!, r.id);
    }
    const duplicates = credits.filter((p) => earlier.has(p)).length;
    if (duplicates > 0 && !sameFile) warnings.push(`${duplicates} line(s) were imported before (same day, amount, currency and reference): skipped as duplicates`);

    const id = newId('bst');
    await trx.insertInto('bankStatements').values({
      id, partnerId, fileName: input.fileName, fileSha256, defaultCurrency, recordCount: parsed.recordCount, errorCount: parsed.errorCount,
      errors: JSON.stringify(parsed.errors), warnings: JSON.stringify(warnings), uploadedBy: actorId,
    }).execute();

    const cols = {
      id: [] as string[], lineNo: [] as number[], bookedOn: [] as string[], amount: [] as string[], currency: [] as string[],
      reference: [] as (string | null)[], payerName: [] as (string | null)[], payerAccount: [] as (string | null)[],
      fingerprint: [] as (string | null)[], duplicateOf: [] as (string | null)[], status: [] as string[],
    };
    parsed.lines.forEach((l, i) => {
      const print = prints[i] ?? null;
      const dup = print ? earlier.get(print) ?? null : null;
      cols.id.push(newId('bsl'));
      cols.lineNo.push(l.lineNo);
      cols.bookedOn.push(l.bookedOn);
      cols.amount.push(l.amountMicros.toString());
      cols.currency.push(l.currency);
      cols.reference.push(l.reference);
      cols.payerName.push(l.payerName);
      cols.payerAccount.push(l.payerAccount);
      cols.fingerprint.push(print);
      cols.duplicateOf.push(dup);
      cols.status.push(l.amountMicros < 0n ? 'ignored' : dup ? 'duplicate' : 'unmatched');
    });
    // One statement for all lines (arrays unnested), whatever the file's size.
    await sql`
      insert into bank_statement_lines (id, partner_id, statement_id, line_no, booked_on, amount_micros, currency, reference, payer_name,
        payer_account, fingerprint, duplicate_of, status)
      select u.id, ${partnerId}, ${id}, u.line_no, u.booked_on, u.amount, u.currency, u.reference, u.payer_name, u.payer_account, u.fingerprint,
        u.duplicate_of, u.status
      from unnest(${cols.id}::text[], ${cols.lineNo}::int[], ${cols.bookedOn}::date[], ${cols.amount}::bigint[], ${cols.currency}::text[],
        ${cols.reference}::text[], ${cols.payerName}::text[], ${cols.payerAccount}::text[], ${cols.fingerprint}::text[], ${cols.duplicateOf}::text[],
        ${cols.status}::text[])
        as u(id, line_no, booked_on, amount, currency, reference, payer_name, payer_account, fingerprint, duplicate_of, status)
    `.execute(trx);
    await matchStatementLines(trx, partnerId, id);

    const view = await loadStatement(trx, partnerId, id);
    await recordAudit(trx, ctx, {
      partnerId, app: 'finance', action: 'bank_statement.imported', targetType: 'bank_statement', targetId: id,
      changes: {
        fileName: { after: input.fileName }, fileSha256: { after: fileSha256 }, recordCount: { after: parsed.recordCount },
        errorCount: { after: parsed.errorCount }, counts: { after: view.counts }, ...(warnings.length ? { warnings: { after: warnings } } : {}),
      },
    });
    return view;
  });
}
