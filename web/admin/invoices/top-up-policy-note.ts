import type { PortalTopUpPolicyView } from '../../../src/topup/get-top-up-policy.ts';
import { currencyDecimals, formatMicros, formatMoney, toMicros } from '../../shared/money.ts';
import { formatDate } from '../../shared/format.ts';

/** The policy a Top-up invoice issued today follows (GET /api/v1/invoices/top-up-policy). */
export type InvoiceTopUpPolicy = PortalTopUpPolicyView;

export interface TopUpPolicyNote {
  /** What the policy does to any Top-up invoice in this currency when it is issued today. */
  rules: string[];
  /** What it does to this draft's points, once its lines can be read; null otherwise. */
  thisOne: string | null;
  /** The next version, when one is planned: it applies to drafts issued from its date. */
  upcoming: string | null;
}

type Terms = Pick<InvoiceTopUpPolicy, 'currency' | 'minimum' | 'feeThreshold' | 'fee'>;

const micros = (amount: string) => toMicros(amount) ?? 0n;

function ruleSentences(p: Terms): string[] {
  const out: string[] = [];
  if (micros(p.minimum) > 0n) out.push(`The minimum top-up is ${formatMoney(p.minimum, p.currency)}: a smaller one is refused when issued.`);
  if (micros(p.fee) > 0n) out.push(`Below ${formatMoney(p.feeThreshold, p.currency)} an admin fee of ${formatMoney(p.fee, p.currency)} is added when issued.`);
  return out;
}

/**
 * The draft editor's words for the top-up policy (docs/adr/0043): the server applies it when the invoice is issued, to
 * the points the lines buy (after discounts) — below the minimum it refuses, below the threshold it adds the fee (strictly
 * below: at the threshold there is none), as src/topup/top-up-policy.ts's applyPolicy does.
 */
export function topUpPolicyNote(policy: InvoiceTopUpPolicy, points: bigint | null): TopUpPolicyNote {
  const rules = ruleSentences(policy);
  if (rules.length === 0) rules.push(`No minimum and no admin fee apply to a top-up in ${policy.currency} today.`);
  const money = (m: bigint) => formatMoney(formatMicros(m, currencyDecimals(policy.currency)), policy.currency);
  let thisOne: string | null = null;
  if (points !== null && points > 0n) {
    const fee = micros(policy.fee);
    if (points < micros(policy.minimum)) thisOne = `This one buys ${money(points)} of points, below the minimum: issuing it today is refused.`;
    else if (fee > 0n && points < micros(policy.feeThreshold)) thisOne = `Issued today, this one asks for ${money(points)} of points + ${money(fee)} admin fee = ${money(points + fee)}.`;
  }
  const next = policy.upcoming;
  const upcoming = next
    ? `From ${formatDate(next.effectiveFrom)}: ${ruleSentences(next).join(' ') || 'no minimum and no admin fee.'}`
    : null;
  return { rules, thisOne, upcoming };
}
