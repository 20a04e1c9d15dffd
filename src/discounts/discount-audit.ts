import { diff, type Changes } from '../audit/record-audit.ts';
import type { Ctx } from '../platform/context.ts';
import type { DiscountView } from './discount-views.ts';

/** Today, the UTC day every discount rule reads (the ctx clock: tests move it). */
export function todayOf(ctx: Pick<Ctx, 'clock'>): string {
  return ctx.clock.now().toISOString().slice(0, 10);
}

/** What the audit trail keeps of a discount: the fields staff set, in words a reader of the Audit app understands. */
function auditFields(v: DiscountView): Record<string, unknown> {
  return {
    name: v.name, target: v.customer ? `${v.customer.name} (${v.customer.id})` : 'every customer', scope: v.scopeLabel,
    percentOff: v.percentOff, amountOff: v.amountOff ? `${v.amountOff.amount} ${v.amountOff.currency}` : null,
    startsOn: v.startsOn, endsOn: v.endsOn,
  };
}

export function auditChangesOf(before: DiscountView | null, after: DiscountView): Changes {
  return diff(before ? auditFields(before) : null, auditFields(after));
}
