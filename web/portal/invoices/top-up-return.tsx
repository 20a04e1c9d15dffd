import { useCallback } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { Alert, Anchor } from '@mantine/core';
import { IconFileInvoice } from '@tabler/icons-react';
import { toMicros } from '../../shared/money.ts';

const RETURN_PREFIX = 'invoice:';
const INVOICE_ID = /^[A-Za-z0-9_-]{1,64}$/;

function payPath(invoiceId: string): string {
  return `/portal?tab=invoices&pay=${encodeURIComponent(invoiceId)}`;
}

/**
 * "Top up instead" from an invoice's pay dialog opens the Points tab as
 * `/portal?tab=points&amount=12.30&returnTo=invoice:<id>`: the top-up form starts at that amount and, once the top-up
 * succeeds, `returnToInvoice()` goes back to the invoice's pay dialog.
 */
export function useTopUpReturn() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const returnTo = params.get('returnTo') ?? '';
  const candidate = returnTo.startsWith(RETURN_PREFIX) ? returnTo.slice(RETURN_PREFIX.length) : '';
  const invoiceId = INVOICE_ID.test(candidate) ? candidate : null;
  const rawAmount = params.get('amount')?.trim() ?? '';
  const micros = toMicros(rawAmount);
  const amount = invoiceId && micros !== null && micros > 0n ? rawAmount : null;
  const returnToInvoice = useCallback(() => {
    if (invoiceId) void navigate(payPath(invoiceId));
  }, [invoiceId, navigate]);
  return { invoiceId, amount, returnToInvoice };
}

/** The reminder above the top-up form that it was opened to pay an invoice, with the way back. */
export function TopUpReturnBanner({ invoiceId }: { invoiceId: string | null }) {
  if (!invoiceId) return null;
  return (
    <Alert color="blue" variant="light" icon={<IconFileInvoice size={18} />} data-testid="top-up-return" mt="sm">
      Topping up to pay an invoice: once the top-up succeeds you go back to its payment.{' '}
      <Anchor component={Link} to={payPath(invoiceId)} size="sm">
        Back to the invoice
      </Anchor>
    </Alert>
  );
}
