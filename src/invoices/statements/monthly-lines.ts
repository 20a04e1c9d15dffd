/**
 * A Monthly invoice's lines other than usage (generate-monthly-statements.ts) are points already paid for renewals,
 * purchases and other charges, each taxed (where taxable) when it was paid, on its own invoice (ADR 0008): their amount
 * includes that tax and their own tax column is 0. The screen and the PDF say "tax incl." there instead of a rate, so a
 * 0% next to a 9% usage line does not read as a zero-rated supply (ADR 0032). No imports: the web app uses it too.
 */
const TAX_INCLUDED_KINDS: ReadonlySet<string> = new Set(['subscription_renewal', 'purchase', 'other_charge']);

export function taxIncludedOnMonthly(invoiceType: string, kind: string): boolean {
  return invoiceType === 'monthly' && TAX_INCLUDED_KINDS.has(kind);
}
