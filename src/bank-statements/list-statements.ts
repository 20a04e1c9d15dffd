import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { partnerCaller } from '../access/caller.ts';
import { loadLines, loadStatement, loadStatements, type BankLineView, type BankStatementView } from './bank-statement-views.ts';
import type { BankLineStatus } from './bank-statements.db-types.ts';

/** The partner's statement imports, newest first, with their line counts by state. */
export async function listStatements(ctx: Ctx, input: { limit: number; cursor?: string | undefined }): Promise<{ data: BankStatementView[]; nextCursor: string | null }> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const rows = await loadStatements(trx, partnerId, { limit: input.limit + 1, ...(input.cursor ? { cursor: input.cursor } : {}) });
    const data = rows.slice(0, input.limit);
    return { data, nextCursor: rows.length > input.limit ? data[data.length - 1]!.id : null };
  });
}

export interface StatementDetail extends BankStatementView {
  lines: { data: BankLineView[]; nextCursor: string | null };
}

/** One import with a page of its lines (by line number; `cursor` is the last line number seen), optionally of one state. */
export async function getStatement(ctx: Ctx, id: string, input: { limit: number; cursor?: string | undefined; status?: BankLineStatus | undefined }): Promise<StatementDetail> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const statement = await loadStatement(trx, partnerId, id);
    const lines = await loadLines(trx, partnerId, {
      statementId: id, limit: input.limit + 1, ...(input.status ? { status: input.status } : {}),
      ...(input.cursor ? { afterLineNo: Number(input.cursor) } : {}),
    });
    const data = lines.slice(0, input.limit);
    return { ...statement, lines: { data, nextCursor: lines.length > input.limit ? String(data[data.length - 1]!.lineNo) : null } };
  });
}
