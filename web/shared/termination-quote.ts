import { formatMoney, toMicros } from './money.ts';

/** `GET .../termination-quote`: what terminating a subscription now gives back, as the server computes it (src/subscriptions/quote-termination.ts). */
export interface TerminationQuote {
  subscriptionId: string;
  version: number;
  currency: string;
  outcome: 'refund' | 'void_invoice' | 'nothing';
  refund: { rule: 'full' | 'whole_months'; months: number | null; price: string; tax: string; total: string; withheld: string } | null;
  invoiceNumber: string | null;
}

/**
 * The quote in one sentence, said in a Terminate dialog before anyone confirms: to the customer in the portal
 * (`you`: "You get … back to your points"), or to staff about the customer (`customer`: "The customer gets … back to its points").
 */
export function quoteSentence(q: TerminationQuote, to: 'you' | 'customer' = 'you'): string {
  const [gets, its, credited] = to === 'you' ? ['You get', 'your', 'credited to you'] : ['The customer gets', 'its', 'credited to it'];
  if (q.outcome === 'void_invoice') return `Its unpaid invoice${q.invoiceNumber ? ` ${q.invoiceNumber}` : ''} is voided: nothing is owed and nothing is refunded.`;
  if (q.outcome === 'nothing' || !q.refund) return 'Nothing is refunded.';
  const r = q.refund;
  const withheld = toMicros(r.withheld);
  const less = withheld !== null && withheld > 0n ? `, less ${formatMoney(r.withheld, q.currency)} already ${credited}` : '';
  const total = toMicros(r.total);
  if (total === null || total === 0n) return `Nothing more is refunded: what it would give back was already ${credited}.`;
  const why = r.rule === 'full' ? 'in full' : `for ${r.months} whole month${r.months === 1 ? '' : 's'} left`;
  const tax = toMicros(r.tax);
  return `${gets} ${formatMoney(r.total, q.currency)} back to ${its} points, ${why}${less}${tax !== null && tax > 0n ? ` (tax ${formatMoney(r.tax, q.currency)} included)` : ''}.`;
}
