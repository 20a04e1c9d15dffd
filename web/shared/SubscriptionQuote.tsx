import { useQuery } from '@tanstack/react-query';
import { Alert, Group, Stack, Text } from '@mantine/core';
import { api, errorMessage } from './api.ts';
import { formatMoney, toMicros } from './money.ts';

/**
 * What buying a subscription would charge today (`GET .../subscriptions/quote`: staff per customer, the portal for its own
 * organisation): the catalog price x quantity, the customer's discount, the activation fee, tax and the total, and whether
 * usable points cover it. The Sell and Buy dialogs show it, so nobody sells on the catalog price alone.
 */
export interface SubscriptionQuote {
  currency: string;
  price: string;
  discount: string;
  discountName: string | null;
  activationFee: string;
  tax: string;
  total: string;
  usable: string;
  paidFromPoints: boolean;
  /** Staff only. */
  cost?: string;
  margin?: string;
  marginPercent?: string | null;
}

export function useSubscriptionQuote(url: string, priceId: string | null | undefined, quantity: number) {
  return useQuery({
    queryKey: ['subscription-quote', url, priceId, quantity],
    queryFn: ({ signal }) => api.get<SubscriptionQuote>(url, { priceId, quantity }, signal),
    enabled: Boolean(priceId),
    // Another quantity of the same price keeps the last figures on screen while the new ones load; another price does not.
    placeholderData: (previous, previousQuery) => (previousQuery?.queryKey[2] === priceId ? previous : undefined),
    retry: false,
  });
}

function Line({ label, amount, currency, testId, strong }: { label: string; amount: string; currency: string; testId: string; strong?: boolean }) {
  return (
    <Group justify="space-between" wrap="nowrap" gap="md">
      <Text size="sm" fw={strong ? 600 : undefined}>{label}</Text>
      <Text size="sm" fw={strong ? 600 : undefined} data-testid={testId} style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>
        {formatMoney(amount, currency)}
      </Text>
    </Group>
  );
}

const isZero = (amount: string) => toMicros(amount) === 0n;

/** The quote's lines, down to the total charged; a refusal (an archived price, another currency) is said in place. */
export function QuoteLines({ quote, error, quantity, cycle }: { quote: SubscriptionQuote | undefined; error: unknown; quantity: number; cycle: 'monthly' | 'yearly' }) {
  if (error) {
    return <Alert color="red" variant="light" role="alert">{errorMessage(error)}</Alert>;
  }
  if (!quote) return <Text size="sm" c="dimmed">Working out the price…</Text>;
  const c = quote.currency;
  return (
    <Stack gap={4} aria-label="What will be charged" role="group">
      <Line label={`First ${cycle === 'monthly' ? 'month' : 'year'}${quantity > 1 ? ` × ${quantity}` : ''}`} amount={quote.price} currency={c} testId="quote-price" />
      {isZero(quote.discount) ? null : (
        <Line label={`Discount${quote.discountName ? ` (${quote.discountName})` : ''}`} amount={`-${quote.discount}`} currency={c} testId="quote-discount" />
      )}
      {isZero(quote.activationFee) ? null : <Line label="Activation fee" amount={quote.activationFee} currency={c} testId="quote-activation-fee" />}
      <Line label="Tax" amount={quote.tax} currency={c} testId="quote-tax" />
      <Line label="Total charged now" amount={quote.total} currency={c} testId="quote-total" strong />
    </Stack>
  );
}
