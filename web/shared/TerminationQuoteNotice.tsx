import { useQuery } from '@tanstack/react-query';
import { Alert, Text } from '@mantine/core';
import { api, errorMessage } from './api.ts';
import { quoteSentence, type TerminationQuote } from './termination-quote.ts';

/**
 * What terminating a subscription now gives back, read from the server (`GET .../termination-quote`, computed as the
 * termination will compute it) each time a Terminate dialog opens, for the portal and the Customer app alike.
 * `refused` is true when the server says it cannot be terminated: the dialog then offers no Terminate.
 */
export function useTerminationQuote(path: string, key: readonly unknown[], opened: boolean) {
  const quote = useQuery({
    queryKey: [...key, 'termination-quote'],
    queryFn: ({ signal }) => api.get<TerminationQuote>(path, {}, signal),
    enabled: opened, staleTime: 0, gcTime: 0, retry: false,
  });
  return { quote, refused: Boolean(quote.error) };
}

/** The quote in a sentence (a status, not an alert), or why it cannot be terminated. */
export function TerminationQuoteNotice({ quote, to }: { quote: ReturnType<typeof useTerminationQuote>['quote']; to: 'you' | 'customer' }) {
  if (quote.isPending) return <Text size="sm" c="dimmed">Working out what is refunded…</Text>;
  if (quote.error) return <Alert color="red" variant="light" data-testid="terminate-quote-refused">{errorMessage(quote.error)}</Alert>;
  return <Alert color="blue" variant="light" role="status" data-testid="terminate-quote">{quoteSentence(quote.data, to)}</Alert>;
}
