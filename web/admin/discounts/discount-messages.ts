import { fieldError } from '../../shared/forms.tsx';
import { formatDate } from '../../shared/format.ts';

/** The discount fields as the form labels them, for the server's messages that name another field. */
const FIELD_WORDS: Record<string, string> = {
  startsOn: 'the start date',
  endsOn: 'the end date',
  percentOff: 'the percentage off',
  amountOff: 'the amount off',
  priceId: 'the billing cycle',
  variantId: 'the variant',
  productId: 'the product',
  productType: 'the product type',
  customerId: 'the customer',
};

/**
 * A server message about a discount field in words: field names as the form labels them and days as people read them
 * (`not before startsOn (2027-02-01)` -> "Not before the start date (1 Feb 2027)").
 */
export function discountMessage(message: string | undefined): string | undefined {
  if (!message) return message;
  const m = message
    .replace(/\b(startsOn|endsOn|percentOff|amountOff|priceId|variantId|productId|productType|customerId)\b/g, (f: string) => FIELD_WORDS[f] ?? f)
    .replace(/\b(\d{4}-\d{2}-\d{2})\b/g, (day: string) => formatDate(day));
  return m.charAt(0).toUpperCase() + m.slice(1);
}

/** The server's message for one discount field, in words. */
export function discountFieldError(error: unknown, path: string): string | undefined {
  return discountMessage(fieldError(error, path));
}
