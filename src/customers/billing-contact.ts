import { z } from 'zod';
import { email } from '../platform/schemas.ts';

/** A customer's billing contact as sent: each field optional; null clears it. */
export const billingContactBody = z.strictObject({
  name: z.string().trim().min(1).max(200).nullable().optional(),
  email: email.nullable().optional(),
  phone: z.string().trim().regex(/^\+?[0-9][0-9 ().-]{2,38}$/, 'a phone number such as +65 6123 4567').nullable().optional(),
  address: z.string().trim().min(1).max(1000).nullable().optional(),
});
export type BillingContactInput = z.infer<typeof billingContactBody>;

export interface BillingColumns {
  billingName: string | null;
  billingEmail: string | null;
  billingPhone: string | null;
  billingAddress: string | null;
}

/** The billing columns after applying `input` to `before` (absent fields keep their value; null clears). */
export function billingColumns(input: BillingContactInput, before: BillingColumns | null): BillingColumns {
  const pick = (value: string | null | undefined, old: string | null | undefined) => (value === undefined ? old ?? null : value);
  return {
    billingName: pick(input.name, before?.billingName),
    billingEmail: pick(input.email, before?.billingEmail),
    billingPhone: pick(input.phone, before?.billingPhone),
    billingAddress: pick(input.address, before?.billingAddress),
  };
}
