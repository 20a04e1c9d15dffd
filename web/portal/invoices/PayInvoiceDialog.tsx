import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { Alert, Anchor, Button, Checkbox, Divider, Group, List, Loader, Modal, SegmentedControl, Select, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconAlertCircle, IconCircleCheck, IconCoins } from '@tabler/icons-react';
import { SANDBOX_TEST_CARDS, sandboxTokenForCardNumber } from '../../../src/gateway/test-cards.ts';
import { api, apiRequest, isApiError, isRetryable, newIdempotencyKey } from '../../shared/api.ts';
import { cardFailureText, cardRefusalReason } from '../../shared/card-failure.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { currencyDecimals, decimalsOf, formatMicros, formatMoney, toMicros } from '../../shared/money.ts';
import { ErrorState, LoadingState } from '../../shared/ui.tsx';
import { useInvoiceDetail } from './InvoiceDetailDialog.tsx';
import { SERVICES_KEY } from '../services/types.ts';
import { useAccountClosed } from '../ClosedAccount.tsx';
import {
  INVOICES_KEY, POINTS_KEY, STATUS_LABELS, invoiceName, pointsAvailableNote, type PayAnswer, type PayPreview, type PortalInvoiceDetail, type SavedCard,
} from './invoice-types.ts';

/** How long a pending (delayed) card payment is watched before the dialog says it is still processing. */
const PENDING_WATCH_MS = 120_000;
const PENDING_POLL_MS = 2_000;
/**
 * Refusals after which nothing was charged: a new attempt (another card, another amount) gets a new idempotency key. An
 * amount of zero or with too many decimals is a 422 rule_violation, one that is no number a 400 validation_failed
 * (docs/adr/0040): both refused before anything is charged.
 */
const FINAL_REFUSALS = new Set(['card_declined', 'insufficient_funds', 'card_required', 'amount_exceeds_due', 'validation_failed', 'rule_violation', 'invoice_not_payable']);

const payPreviewKey = (invoiceId: string) => ['portal', 'pay-preview', invoiceId] as const;

/**
 * What a payment changes elsewhere in the portal: the invoices, the points, the subscriptions a paid Purchase invoice
 * activates (Home's Subscriptions card, Services) and the activity (Home's Recent activity, Audit). The previews of this
 * invoice are dropped, not refetched: a paid invoice has none (409 invoice_not_payable).
 */
async function refreshAfterPayment(queryClient: QueryClient, invoiceId: string): Promise<void> {
  queryClient.removeQueries({ queryKey: payPreviewKey(invoiceId) });
  await Promise.all([
    queryClient.invalidateQueries({ queryKey: INVOICES_KEY }),
    queryClient.invalidateQueries({ queryKey: POINTS_KEY }),
    queryClient.invalidateQueries({ queryKey: SERVICES_KEY }),
    queryClient.invalidateQueries({ queryKey: ['portal', 'audit-events'] }),
  ]);
}

/** One key per opening of the dialog: a double click, a second tab's retry or a network retry pays once. */
const newKey = () => newIdempotencyKey('invpay');

function cardLabel(c: SavedCard): string {
  return `${c.brand.toUpperCase()} •••• ${c.last4} (${String(c.expMonth).padStart(2, '0')}/${c.expYear})`;
}

function spaced(number: string): string {
  return number.replace(/(\d{4})(?=\d)/g, '$1 ');
}

/**
 * What is wrong with the typed amount, said next to the field while typing: nothing, or why it cannot be paid (not a
 * number, none, more decimals than the currency has, more than is due). Only an amount without a problem is previewed.
 */
export function amountProblem(text: string, due: string | null, currency: string): string | null {
  const typed = toMicros(text.trim());
  if (typed === null || typed <= 0n) return `Enter an amount, for example ${due ?? '10.00'}`;
  const decimals = due === null ? 2 : Math.max(decimalsOf(due), 2);
  if (decimalsOf(text.trim()) > decimals) return `At most ${decimals} decimals`;
  if (due !== null && typed > (toMicros(due) ?? 0n)) return `At most the amount due, ${formatMoney(due, currency)}`;
  return null;
}

function refusalTitle(code: string): string {
  switch (code) {
    case 'card_declined':
      return 'Your card was declined';
    case 'insufficient_funds':
      return 'Insufficient funds on the card';
    case 'payment_in_progress':
      return 'A payment for this invoice is already being processed';
    default:
      return 'The payment did not go through';
  }
}

interface Receipt {
  status: 'succeeded' | 'pending' | 'failed';
  /** The payment's id (to follow a pending card payment on the invoice). */
  paymentId: string;
  failureReason?: string | null;
  pointsUsed: string;
  cardCharged: string;
  chargeRef: string | null;
  invoice: PortalInvoiceDetail;
}

/**
 * Pay a Purchase invoice: the preview says how many points are used first and what is left for the card; the customer
 * may pay part of it, picks a saved card or types a test card (turned into a sandbox token here), and confirms. A decline
 * charges nothing and releases the points; a delayed card shows "Payment processing" until the invoice settles. When the
 * points fall short, "Top up instead" opens the top-up prefilled and comes back here.
 */
export function PayInvoiceDialog({ invoiceId, onClose }: { invoiceId: string; onClose: () => void }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const closed = useAccountClosed(); // a closed account can pay what is due, but not top up first
  const [key, setKey] = useState(newKey);
  const [amount, setAmount] = useState<string | null>(null);
  /** The amount due when the dialog opened: the preview for it is the first one (no `?amount=`). */
  const [initialDue, setInitialDue] = useState<string | null>(null);
  const [usePoints, setUsePoints] = useState(true);
  const [source, setSource] = useState<'new' | 'saved'>('new');
  const [cardNumber, setCardNumber] = useState('');
  const [savedCardId, setSavedCardId] = useState<string | null>(null);
  const [localError, setLocalError] = useState<{ field: 'amount' | 'card'; message: string } | null>(null);
  const [receipt, setReceipt] = useState<Receipt | null>(null);
  const [pendingSince, setPendingSince] = useState<number | null>(null);
  const [, setTick] = useState(0);

  const watching = receipt?.status === 'pending' && pendingSince !== null && Date.now() - pendingSince < PENDING_WATCH_MS;
  const detail = useInvoiceDetail(invoiceId, { refetchInterval: watching ? PENDING_POLL_MS : false });
  const [debouncedAmount] = useDebouncedValue(amount, 400);
  /** The last preview the server gave: the form stays on it when a later one (another amount) is refused. */
  const lastPreview = useRef<PayPreview | null>(null);
  const dueNow = lastPreview.current?.amountDue ?? initialDue;
  const wanted = debouncedAmount?.trim() ?? '';
  const wantedMicros = wanted ? toMicros(wanted) : null;
  // Only an amount that can be paid is previewed: one above the amount due is said next to the field, never asked for.
  const amountParam = wantedMicros !== null && amountProblem(wanted, dueNow, lastPreview.current?.currency ?? '') === null && wantedMicros !== toMicros(initialDue ?? '')
    ? wanted : undefined;
  const preview = useQuery({
    // Not under INVOICES_KEY: refreshing the invoices after a payment must not ask for a preview of a paid invoice.
    queryKey: [...payPreviewKey(invoiceId), amountParam ?? 'due'],
    queryFn: ({ signal }) => api.get<PayPreview>(`/api/v1/portal/invoices/${encodeURIComponent(invoiceId)}/pay-preview`, { amount: amountParam }, signal),
    placeholderData: keepPreviousData,
    enabled: receipt === null,
    staleTime: 0,
    retry: (n, e) => !(isApiError(e) && e.status < 500) && n < 2,
  });
  if (preview.data) lastPreview.current = preview.data;
  const p = preview.data ?? lastPreview.current ?? undefined;

  // The amount field starts at the full amount due.
  useEffect(() => {
    if (p && amount === null) {
      setAmount(p.amountDue);
      setInitialDue(p.amountDue);
    }
  }, [p, amount]);

  // A pending card payment: watch the invoice until the payment shows on it (or the watch times out).
  const inv = detail.data;
  const knownPayments = new Set(receipt?.invoice.payments.map((x) => x.id) ?? []);
  const settledPayment = receipt?.status === 'pending' && inv
    ? inv.payments.find((x) => x.source === 'card' && !knownPayments.has(x.id) && (receipt.chargeRef ? x.reference === receipt.chargeRef : toMicros(x.amount) === toMicros(receipt.cardCharged)))
    : undefined;
  const failedAttempt = receipt?.status === 'pending' && inv ? inv.paymentAttempts.find((a) => a.id === receipt.paymentId && a.status === 'failed') : undefined;
  useEffect(() => {
    if (receipt?.status !== 'pending' || !inv) return;
    if (failedAttempt) {
      setReceipt({ ...receipt, status: 'failed', failureReason: failedAttempt.failureReason, invoice: inv });
      void refreshAfterPayment(queryClient, invoiceId);
      return;
    }
    if (settledPayment) {
      setReceipt({ ...receipt, status: 'succeeded', cardCharged: settledPayment.amount, invoice: inv });
      void refreshAfterPayment(queryClient, invoiceId);
    }
  }, [settledPayment?.id, failedAttempt?.id, inv?.status]);
  useEffect(() => {
    if (!pendingSince) return;
    const t = setTimeout(() => setTick((n) => n + 1), PENDING_WATCH_MS + 100);
    return () => clearTimeout(t);
  }, [pendingSince]);

  const pay = useMutation({
    mutationFn: async ({ body }: { body: Record<string, unknown>; planned: { points: string; card: string } }) => {
      const res = await apiRequest<PayAnswer>(`/api/v1/portal/invoices/${encodeURIComponent(invoiceId)}/pay`, {
        method: 'POST',
        body,
        headers: { 'idempotency-key': key },
      });
      return { httpStatus: res.status, answer: res.data };
    },
    onSuccess: async ({ httpStatus, answer }, { planned }) => {
      const pending = httpStatus === 202 || answer.payment.status === 'pending';
      // While the card is pending the answer's figures are zero: show what is on hold and being charged.
      setReceipt(
        pending
          ? { status: 'pending', paymentId: answer.payment.id, pointsUsed: planned.points, cardCharged: planned.card, chargeRef: answer.payment.chargeRef, invoice: answer.invoice }
          : { status: 'succeeded', paymentId: answer.payment.id, pointsUsed: answer.payment.pointsUsed, cardCharged: answer.payment.cardCharged, chargeRef: answer.payment.chargeRef, invoice: answer.invoice },
      );
      if (pending) setPendingSince(Date.now());
      queryClient.setQueryData([...INVOICES_KEY, 'detail', invoiceId], answer.invoice);
      await refreshAfterPayment(queryClient, invoiceId);
    },
    onError: async (e) => {
      if (isApiError(e) && FINAL_REFUSALS.has(e.code)) {
        // Nothing was charged: the next attempt is a new payment.
        setKey(newKey());
        await Promise.all([queryClient.invalidateQueries({ queryKey: payPreviewKey(invoiceId) }), queryClient.invalidateQueries({ queryKey: POINTS_KEY })]);
      }
      if (isApiError(e) && e.code === 'invoice_not_payable') await queryClient.invalidateQueries({ queryKey: INVOICES_KEY });
    },
  });

  const name = inv ? invoiceName(inv) : (p?.number ?? 'invoice');
  const title = receipt ? (receipt.status === 'pending' ? `Paying ${name}` : `Payment of ${name}`) : `Pay ${name}`;

  if (receipt) {
    return (
      <Modal opened onClose={onClose} title={title} centered size="md">
        <ReceiptView receipt={receipt} current={inv} watching={watching} onClose={onClose} />
      </Modal>
    );
  }

  // Only when there is nothing to show at all (the first preview failed): a later refusal is said next to the amount.
  // "Try again" only where asking again may help (the network, the server): a paid invoice, a statement or a role that
  // cannot pay answers the same every time.
  if (preview.error && !p) {
    return (
      <Modal opened onClose={onClose} title={title} centered size="md">
        <ErrorState
          error={preview.error}
          onRetry={isRetryable(preview.error) ? () => void preview.refetch() : undefined}
          title="Could not prepare the payment"
        />
      </Modal>
    );
  }
  if (!p || amount === null) {
    return (
      <Modal opened onClose={onClose} title={title} centered size="md">
        <LoadingState label="Preparing the payment…" />
      </Modal>
    );
  }

  const decimals = Math.max(decimalsOf(p.amountDue), 2);
  const typed = toMicros(amount.trim());
  const dueMicros = toMicros(p.amountDue) ?? 0n;
  const typedProblem = amountProblem(amount, p.amountDue, p.currency);
  const previewRefused = preview.error && !preview.data ? preview.error : null;
  const previewFresh = typedProblem === null && !previewRefused && amount.trim() === debouncedAmount?.trim() && !preview.isPlaceholderData && !preview.isFetching;
  const pointsToUse = usePoints ? p.pointsToUse : formatMicros(0n, decimals);
  const cardAmount = usePoints ? p.cardAmount : p.amount;
  const needsCard = (toMicros(cardAmount) ?? 0n) > 0n;
  const savedCards = p.savedCards;
  const cardSource = savedCards.length > 0 ? source : 'new';
  // While the amount cannot be paid (its field says why), nothing is worked out for it: no split, a plain "Pay".
  const amountInvalid = typedProblem !== null || previewRefused !== null;
  const payLabel = amountInvalid || typed === null ? 'Pay' : `Pay ${formatMicros(typed, decimals)} ${p.currency}`;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (pay.isPending) return;
    setLocalError(null);
    pay.reset();
    if (typedProblem !== null || typed === null || typed > dueMicros) {
      setLocalError({ field: 'amount', message: typedProblem ?? `At most the amount due, ${formatMoney(p.amountDue, p.currency)}` });
      return;
    }
    const body: Record<string, unknown> = { amount: amount.trim(), usePoints };
    if (needsCard) {
      if (cardSource === 'saved') {
        if (!savedCardId) {
          setLocalError({ field: 'card', message: 'Choose a saved card' });
          return;
        }
        body.savedCardId = savedCardId;
      } else {
        // The number is turned into a token here; the number itself is never sent.
        const token = sandboxTokenForCardNumber(cardNumber);
        if (!token) {
          setLocalError({ field: 'card', message: 'This is not one of the test cards: use a card number from the list below.' });
          return;
        }
        body.cardToken = token;
      }
    }
    pay.mutate({ body, planned: { points: pointsToUse, card: cardAmount } });
  };

  const error = pay.error;
  const refusal = isApiError(error) && ['card_declined', 'insufficient_funds', 'payment_in_progress'].includes(error.code) ? error : null;
  const topUp = usePoints && !closed && !amountInvalid ? p.topUpSuggestion : null;
  const availableNote = pointsAvailableNote(p);

  return (
    <Modal opened onClose={onClose} title={title} centered size="md">
      <form onSubmit={submit} noValidate aria-label="Pay invoice">
        <Stack gap="sm">
          <Stack gap={4} aria-label="Payment summary" role="group">
            <Line label="Amount due" value={formatMoney(p.amountDue, p.currency)} testId="pay-amount-due" />
            <Line label="Your points available" value={formatMoney(p.pointsAvailable, p.currency)} testId="pay-points-available" />
            {availableNote && (
              <Text size="xs" c="dimmed" data-testid="pay-points-note">
                {availableNote}
              </Text>
            )}
          </Stack>
          <TextInput
            label="Amount to pay"
            inputMode="decimal"
            leftSection={<Text size="xs" c="dimmed">{p.currency}</Text>}
            leftSectionWidth={44}
            value={amount}
            onChange={(e) => {
              setAmount(e.currentTarget.value);
              if (localError?.field === 'amount') setLocalError(null);
            }}
            description="The full amount due; enter less to pay part of it."
            error={typedProblem ?? (localError?.field === 'amount' ? localError.message : null) ?? fieldError(error, 'amount') ?? refusalOf(previewRefused)}
          />
          <Checkbox label="Use my points first" checked={usePoints} onChange={(e) => setUsePoints(e.currentTarget.checked)} />
          {amountInvalid ? null : (
            <Stack gap={4} aria-label="How it is paid" role="group" style={{ opacity: previewFresh ? 1 : 0.6 }}>
              <Line label="Points to be used" value={formatMoney(pointsToUse, p.currency)} testId="pay-points-to-use" />
              <Line label="Remainder to pay by card" value={formatMoney(cardAmount, p.currency)} testId="pay-card-amount" strong />
            </Stack>
          )}
          {topUp ? (
            <Alert color="blue" variant="light" icon={<IconCoins size={18} />} title="Your points fall short" data-testid="pay-top-up-offer">
              <Stack gap={6}>
                <Text size="sm">
                  Pay the remainder by card below, or top up {formatMoney(topUp.amount, p.currency)} first
                  {toMicros(topUp.minimum) !== null && (toMicros(topUp.minimum) ?? 0n) > (toMicros(topUp.shortfall) ?? 0n)
                    ? ` (the shortfall is ${formatMoney(topUp.shortfall, p.currency)}; the minimum top-up is ${formatMoney(topUp.minimum, p.currency)})`
                    : ''}
                  {(toMicros(topUp.fee) ?? 0n) > 0n ? ` (with its admin fee of ${formatMoney(topUp.fee, p.currency)}, your card is charged ${formatMoney(topUp.total, p.currency)})` : ''}{' '}
                  and come back to pay this invoice with points.
                </Text>
                <Group>
                  <Button
                    size="xs"
                    variant="light"
                    onClick={() => navigate(`/portal?tab=points&amount=${encodeURIComponent(topUp.amount)}&returnTo=${encodeURIComponent(`invoice:${invoiceId}`)}`)}
                  >
                    Top up instead
                  </Button>
                </Group>
              </Stack>
            </Alert>
          ) : null}
          {needsCard ? (
            <>
              <Divider label="Card" labelPosition="left" />
              {savedCards.length > 0 ? (
                <SegmentedControl
                  aria-label="Pay with"
                  value={cardSource}
                  onChange={setSource}
                  data={[
                    { value: 'new', label: 'New card' },
                    { value: 'saved', label: 'Saved card' },
                  ]}
                />
              ) : null}
              {cardSource === 'saved' ? (
                <Select
                  label="Saved card"
                  data={savedCards.map((c) => ({ value: c.id, label: cardLabel(c) }))}
                  value={savedCardId}
                  onChange={setSavedCardId}
                  error={localError?.field === 'card' ? localError.message : fieldError(error, 'savedCardId')}
                  allowDeselect={false}
                />
              ) : (
                <>
                  <TextInput
                    label="Card number"
                    placeholder="4242 4242 4242 4242"
                    autoComplete="off"
                    inputMode="numeric"
                    value={cardNumber}
                    onChange={(e) => setCardNumber(e.currentTarget.value)}
                    error={localError?.field === 'card' ? localError.message : fieldError(error, 'cardToken')}
                    description="Test mode: no real card is charged. Your card number never leaves this browser; only a token is sent."
                  />
                  <Text size="xs" c="dimmed" component="div" aria-label="Test cards">
                    Test cards:
                    <List size="xs" spacing={0}>
                      {SANDBOX_TEST_CARDS.map((c) => (
                        <List.Item key={c.number}>
                          <Anchor component="button" type="button" size="xs" ff="monospace" onClick={() => setCardNumber(spaced(c.number))}>
                            {spaced(c.number)}
                          </Anchor>{' '}
                          — {c.description}
                        </List.Item>
                      ))}
                    </List>
                  </Text>
                </>
              )}
            </>
          ) : amountInvalid ? null : (
            <Text size="sm" c="teal.8">
              Your points cover this payment: no card is needed.
            </Text>
          )}
          {refusal ? (
            <Alert color={refusal.code === 'payment_in_progress' ? 'yellow' : 'red'} variant="light" icon={<IconAlertCircle size={18} />} title={refusalTitle(refusal.code)} role="alert">
              {refusal.code === 'payment_in_progress' ? (
                <Text size="sm">Wait a moment and look at the invoice again before paying once more.</Text>
              ) : (
                <Stack gap={4}>
                  <Text size="sm">Nothing was charged and the points hold was released. Try another card{closed ? '' : ', or top up your points instead'}.</Text>
                  {cardRefusalReason(refusal) ? (
                    <Text size="xs" c="dimmed">
                      {cardRefusalReason(refusal)}
                    </Text>
                  ) : null}
                </Stack>
              )}
            </Alert>
          ) : (
            <FormError error={error} fields={['amount', 'cardToken', 'savedCardId']} />
          )}
          <Group justify="flex-end" mt="xs">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={pay.isPending} disabled={!previewFresh && !pay.isPending}>
              {payLabel}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** A refused preview, said next to the amount: the field the server named, else its sentence. */
function refusalOf(e: unknown): string | null {
  if (!e) return null;
  return fieldError(e, 'amount') ?? (isApiError(e) ? e.detail : 'Could not work out this payment; try again.');
}

function Line({ label, value, testId, strong }: { label: string; value: string; testId: string; strong?: boolean }) {
  return (
    <Group justify="space-between" wrap="nowrap">
      <Text size="sm" c={strong ? undefined : 'dimmed'} fw={strong ? 600 : undefined}>
        {label}
      </Text>
      <Text size="sm" fw={strong ? 700 : 500} data-testid={testId} style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>
        {value}
      </Text>
    </Group>
  );
}

/** After paying: what was taken from points and the card, and the invoice's new status (or that the card is still processing). */
function ReceiptView({ receipt, current, watching, onClose }: { receipt: Receipt; current: PortalInvoiceDetail | undefined; watching: boolean; onClose: () => void }) {
  const inv = receipt.status === 'succeeded' ? receipt.invoice : (current ?? receipt.invoice);
  const currency = inv.currency;
  // Every figure with the currency's decimals: "SGD 0.00", never "SGD 0" (a sub-cent digit is kept, never dropped).
  const money = (amount: string) => formatMoney(formatMicros(toMicros(amount) ?? 0n, currencyDecimals(currency)), currency);
  return (
    <Stack gap="sm">
      {receipt.status === 'failed' ? (
        <Alert color="red" variant="light" icon={<IconAlertCircle size={18} />} title="The card payment failed" role="alert">
          {`${receipt.failureReason ? `${cardFailureText(null, receipt.failureReason)} ` : 'The bank refused the card payment. '}Nothing was charged and the points hold was released; the invoice is still open.`}
        </Alert>
      ) : receipt.status === 'pending' ? (
        <Alert color="yellow" variant="light" icon={watching ? <Loader size={16} color="yellow" /> : <IconAlertCircle size={18} />} title="Payment processing" role="status">
          {watching
            ? `Your bank is confirming the card payment. This window refreshes by itself${toMicros(receipt.pointsUsed) ? '; the points stay on hold until it settles' : ''}.`
            : 'The card payment is still being confirmed. You will get a receipt by email once it completes; if it fails, nothing is charged and the points hold is released.'}
        </Alert>
      ) : (
        <Alert color="teal" variant="light" icon={<IconCircleCheck size={18} />} title="Payment received" role="status">
          Invoice {invoiceName(inv)} is now {STATUS_LABELS[inv.status]}.
        </Alert>
      )}
      <Stack gap={4} aria-label="Receipt" role="group">
        <Line label={receipt.status === 'pending' ? 'Points on hold' : 'Points used'} value={money(receipt.status === 'failed' ? '0' : receipt.pointsUsed)} testId="receipt-points-used" />
        <Line label={receipt.status === 'pending' ? 'Card (processing)' : 'Card charged'} value={money(receipt.status === 'failed' ? '0' : receipt.cardCharged)} testId="receipt-card-charged" />
        {receipt.chargeRef ? <Line label="Card reference" value={receipt.chargeRef} testId="receipt-charge-ref" /> : null}
        <Divider my={4} />
        <Line label="Status" value={STATUS_LABELS[inv.status]} testId="receipt-status" strong />
        <Line label="Amount still due" value={money(inv.amountDue)} testId="receipt-amount-due" />
      </Stack>
      <Group justify="flex-end">
        <Button onClick={onClose}>Done</Button>
      </Group>
    </Stack>
  );
}
