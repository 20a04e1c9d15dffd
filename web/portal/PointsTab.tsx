import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Anchor, Button, Checkbox, Group, List, Loader, Paper, SegmentedControl, Select, Stack, Switch, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertCircle, IconCircleCheck, IconLock } from '@tabler/icons-react';
import { SANDBOX_TEST_CARDS, sandboxTokenForCardNumber } from '../../src/gateway/test-cards.ts';
import { api, apiRequest, isApiError, newIdempotencyKey, type ApiError } from '../shared/api.ts';
import { FormError, fieldError } from '../shared/forms.tsx';
import { formatDate } from '../shared/format.ts';
import { amountInputProblem, decimalsOf, decimalsProblem, formatMicros, formatMoney, toMicros } from '../shared/money.ts';
import { cardFailureText, cardRefusalReason } from '../shared/card-failure.ts';
import { TransactionsTable, WalletSummary, useWallet } from '../shared/points.tsx';
import { ConfirmButton } from '../shared/ConfirmButton.tsx';
import { useSession } from '../shared/session.tsx';
import { ErrorState } from '../shared/ui.tsx';
import { TopUpsTable, type TopUpRow } from '../shared/TopUpsTable.tsx';
import { TopUpReturnBanner, useTopUpReturn } from './invoices/top-up-return.tsx';
import { useAccountClosed } from './ClosedAccount.tsx';

const BASE = ['portal', 'points'] as const;

interface TopUpPolicy {
  currency: string;
  effectiveFrom: string | null;
  source: 'partner' | 'default';
  minimum: string;
  feeThreshold: string;
  fee: string;
  upcoming: Omit<TopUpPolicy, 'upcoming'> | null;
}

/** A top-up as the portal's routes answer it: the table's row, and what the top-up form follows. */
interface TopUp extends TopUpRow {
  status: 'pending' | 'succeeded' | 'failed';
  savedCardId: string | null;
  completedAt: string | null;
}

interface SavedCard {
  id: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

interface AutoTopUp {
  enabled: boolean;
  currency: string;
  threshold: string | null;
  amount: string | null;
  savedCardId: string | null;
  savedCard: SavedCard | null;
  lastAttemptedOn: string | null;
  updatedAt: string | null;
}

interface LowBalanceAlert {
  enabled: boolean;
  threshold: string | null;
  defaultThreshold: string;
  currency: string;
  state: 'above' | 'alerted' | null;
  updatedAt: string | null;
}

function cardLabel(c: SavedCard): string {
  return `${c.brand.toUpperCase()} •••• ${c.last4} (${String(c.expMonth).padStart(2, '0')}/${c.expYear})`;
}

function isForbiddenRole(e: unknown): boolean {
  return isApiError(e) && (e.code === 'role_not_allowed' || e.code === 'tab_hidden');
}

function NoAccess({ hidden }: { hidden?: boolean }) {
  return (
    <Alert color="gray" icon={<IconLock size={18} />} title={hidden ? 'Points are hidden' : 'Only owners and admins can see your organisation’s points'}>
      {hidden
        ? 'Your provider has hidden the Points section.'
        : 'Points are your organisation’s prepaid credit. Ask an owner or admin of your organisation if you need a top-up.'}
    </Alert>
  );
}

/** The Points tab of the portal: balance, top-up by card, transactions, top-ups and auto top-up. Owners and admins only. */
export function PointsTab() {
  const session = useSession();
  const role = session.customer?.role;
  const allowed = role === 'owner' || role === 'admin';
  // A closed account tops up no more, by card or automatically (the page's notice says so): no top-up form, and auto
  // top-up only to be turned off (AutoTopUpSection).
  const closed = useAccountClosed();
  const wallet = useWallet(BASE, '/api/v1/portal/wallet', { enabled: allowed });
  if (!allowed) return <NoAccess />;
  if (isForbiddenRole(wallet.error)) return <NoAccess hidden={isApiError(wallet.error) && wallet.error.code === 'tab_hidden'} />;
  return (
    <Stack gap="lg">
      <WalletSummary wallet={wallet.data} error={wallet.error} onRetry={() => void wallet.refetch()} />
      {closed ? null : <TopUpSection />}
      <section aria-labelledby="transactions-title">
        <Title order={3} size="h4" mb="xs" id="transactions-title">
          Transactions
        </Title>
        <TransactionsTable base={BASE} path="/api/v1/portal/transactions" />
      </section>
      <TopUpsTable base={BASE} path="/api/v1/portal/top-ups" titleOrder={3} />
      <AutoTopUpSection />
      <LowBalanceAlertSection />
      <SavedCardsSection />
    </Stack>
  );
}

/** The organisation's saved cards, each with Remove (an auto top-up that used it is switched off). */
function SavedCardsSection() {
  const queryClient = useQueryClient();
  const cards = useQuery({ queryKey: [...BASE, 'saved-cards'], queryFn: ({ signal }) => api.get<{ data: SavedCard[] }>('/api/v1/portal/saved-cards', {}, signal) });
  const list = cards.data?.data ?? [];
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-labelledby="saved-cards-title">
      <Title order={3} size="h4" id="saved-cards-title" mb="xs">
        Saved cards
      </Title>
      {cards.error ? (
        <ErrorState error={cards.error} onRetry={() => void cards.refetch()} title="Could not load saved cards" />
      ) : !cards.data ? (
        <Loader size="xs" />
      ) : list.length === 0 ? (
        <Text size="sm" c="dimmed">No saved cards. Tick “Save this card” when you top up to keep one for next time and for auto top-up.</Text>
      ) : (
        <Stack gap="xs">
          {list.map((c) => (
            <Group key={c.id} justify="space-between">
              <Text size="sm">{cardLabel(c)}</Text>
              <ConfirmButton
                label="Remove"
                ariaLabel={`Remove ${cardLabel(c)}`}
                title="Remove this card?"
                message={`${cardLabel(c)} will not be charged again. An auto top-up that uses it is switched off.`}
                confirmLabel="Remove card"
                color="red"
                buttonProps={{ variant: 'subtle', size: 'xs', color: 'red' }}
                onConfirm={async () => {
                  const removed = await api.delete<{ autoTopUpDisabled: boolean }>(`/api/v1/portal/saved-cards/${encodeURIComponent(c.id)}`);
                  notifications.show({ color: 'teal', message: removed.autoTopUpDisabled ? 'Card removed; auto top-up is now off.' : 'Card removed.' });
                  await queryClient.invalidateQueries({ queryKey: BASE });
                }}
              />
            </Group>
          ))}
        </Stack>
      )}
    </Paper>
  );
}

function failureTitle(e: unknown): string {
  if (!isApiError(e)) return 'The top-up did not go through';
  switch (e.code) {
    case 'card_declined':
      return 'Your card was declined';
    case 'insufficient_funds':
      return 'Insufficient funds on the card';
    case 'rule_violation':
      return 'This top-up is not allowed';
    default:
      return 'The top-up did not go through';
  }
}

/**
 * What a refused top-up says under its title: the reason in words when it says more, and what happened. Not the
 * problem's detail for a card refusal: it names the recorded top-up by its internal id.
 */
function refusalText(e: ApiError): string {
  if (e.code !== 'card_declined' && e.code !== 'insufficient_funds') return e.detail;
  const reason = cardRefusalReason(e);
  return `${reason ? `${reason} ` : ''}Nothing was charged and no points were added.`;
}

/** The total to be charged for a valid amount; nothing for one that is not (its field says why). */
function FeePreview({ policy, amount }: { policy: TopUpPolicy; amount: string }) {
  if (amountInputProblem(amount, policy.currency) !== null) return null;
  const micros = toMicros(amount.trim());
  if (micros === null) return null;
  const decimals = Math.max(decimalsOf(policy.fee), decimalsOf(policy.minimum), decimalsOf(policy.feeThreshold));
  const min = toMicros(policy.minimum) ?? 0n;
  const threshold = toMicros(policy.feeThreshold) ?? 0n;
  const fee = toMicros(policy.fee) ?? 0n;
  if (micros < min) {
    return (
      <Text size="sm" c="red.7" data-testid="top-up-preview">
        The minimum top-up is {formatMoney(policy.minimum, policy.currency)}.
      </Text>
    );
  }
  const charged = fee > 0n && micros < threshold ? fee : 0n;
  return (
    <Text size="sm" data-testid="top-up-preview">
      Total to be charged: <b>{formatMoney(formatMicros(micros + charged, decimals), policy.currency)}</b>
      {charged > 0n ? ` (${formatMoney(formatMicros(micros, decimals))} in points + ${formatMoney(policy.fee)} admin fee)` : ' (no admin fee)'}
    </Text>
  );
}

function policySentence(p: Omit<TopUpPolicy, 'upcoming'>): string {
  const min = toMicros(p.minimum) ?? 0n;
  const fee = toMicros(p.fee) ?? 0n;
  return `${min > 0n ? `Minimum top-up ${formatMoney(p.minimum, p.currency)}.` : 'No minimum top-up.'} ${
    fee > 0n ? `Below ${formatMoney(p.feeThreshold, p.currency)} an admin fee of ${formatMoney(p.fee, p.currency)} is added.` : 'No admin fee.'}`;
}

/** The policy in force today and, when the partner has announced one, the next version and its date. */
function PolicyText({ policy }: { policy: TopUpPolicy }) {
  return (
    <Stack gap={4}>
      <Text size="sm" c="dimmed" data-testid="top-up-policy">
        {policySentence(policy)}
      </Text>
      {policy.upcoming?.effectiveFrom ? (
        <Text size="sm" c="blue.8" data-testid="top-up-policy-upcoming">
          <b>Changing on {formatDate(policy.upcoming.effectiveFrom)}:</b> {policySentence(policy.upcoming)}
        </Text>
      ) : null}
    </Stack>
  );
}

function TopUpSection() {
  const queryClient = useQueryClient();
  const policy = useQuery({ queryKey: [...BASE, 'policy'], queryFn: ({ signal }) => api.get<TopUpPolicy>('/api/v1/portal/top-up-policy', {}, signal) });
  const cards = useQuery({ queryKey: [...BASE, 'saved-cards'], queryFn: ({ signal }) => api.get<{ data: SavedCard[] }>('/api/v1/portal/saved-cards', {}, signal) });
  const back = useTopUpReturn(); // "Top up instead" from an invoice: prefilled, then back to paying it
  const [amount, setAmount] = useState(back.amount ?? '');
  const [source, setSource] = useState<'new' | 'saved'>('new');
  const [cardNumber, setCardNumber] = useState('');
  const [savedCardId, setSavedCardId] = useState<string | null>(null);
  const [saveCard, setSaveCard] = useState(false);
  const [localError, setLocalError] = useState<{ field: 'amount' | 'card'; message: string } | null>(null);
  const [pendingId, setPendingId] = useState<string | null>(null);
  const [succeeded, setSucceeded] = useState<TopUp | null>(null);
  const savedCards = cards.data?.data ?? [];
  const currency = policy.data?.currency ?? '';

  const refresh = () => queryClient.invalidateQueries({ queryKey: BASE });
  /** After a top-up that succeeded: an empty form, so nothing invites the same top-up again or saves a card unasked. */
  const clearForm = () => {
    setAmount('');
    setCardNumber('');
    setSaveCard(false);
    setLocalError(null);
  };

  const pending = useQuery({
    queryKey: [...BASE, 'top-up', pendingId],
    queryFn: ({ signal }) => api.get<TopUp>(`/api/v1/portal/top-ups/${encodeURIComponent(pendingId ?? '')}`, {}, signal),
    enabled: pendingId !== null,
    refetchInterval: (q) => (q.state.data?.status === 'pending' || !q.state.data ? 2_000 : false),
  });
  const settled = pending.data && pending.data.status !== 'pending' ? pending.data : null;
  const settledKey = settled ? `${settled.id}:${settled.status}` : null;
  useEffect(() => {
    if (!settled) return;
    if (settled.status === 'succeeded') {
      notifications.show({ color: 'teal', title: 'Top-up complete', message: `${formatMoney(settled.amount, settled.currency)} points were added.` });
      clearForm();
      back.returnToInvoice();
    }
    void queryClient.invalidateQueries({ queryKey: BASE });
    // once per settled top-up
  }, [settledKey]);

  // The key of the top-up being tried, with the body it was sent with: a new key per top-up. The same top-up sent again
  // after an answer that never came (the network failed, the server answered 5xx, or it is still working on it) keeps its
  // key, so the server answers it once and the card is charged once; any other answer ends it, and the next submit is a
  // new top-up with a new key.
  const attempt = useRef<{ body: string; key: string } | null>(null);
  const topUp = useMutation({
    mutationFn: async (body: Record<string, unknown>) => {
      const text = JSON.stringify(body);
      if (attempt.current?.body !== text) attempt.current = { body: text, key: newIdempotencyKey('topup') };
      try {
        const res = await apiRequest<TopUp>('/api/v1/portal/top-ups', { method: 'POST', body, headers: { 'idempotency-key': attempt.current.key } });
        attempt.current = null;
        return { status: res.status, topUp: res.data };
      } catch (e) {
        const outcomeUnknown = !isApiError(e) || e.status >= 500 || e.code === 'idempotency_key_in_progress';
        if (!outcomeUnknown) attempt.current = null;
        throw e;
      }
    },
    onSuccess: async ({ topUp: t }) => {
      if (t.status === 'pending') {
        setPendingId(t.id);
        setSucceeded(null);
      } else {
        setPendingId(null);
        setSucceeded(t);
        notifications.show({ color: 'teal', title: 'Top-up complete', message: `${formatMoney(t.amount, t.currency)} points were added.` });
        clearForm();
      }
      await refresh();
      if (t.status === 'succeeded') back.returnToInvoice();
    },
    onError: async () => {
      setSucceeded(null);
      // A declined top-up is recorded: show it in the history.
      await queryClient.invalidateQueries({ queryKey: [...BASE, 'top-ups'] });
    },
  });

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    setLocalError(null);
    setSucceeded(null);
    setPendingId(null);
    topUp.reset();
    const trimmed = amount.trim();
    const problem = amountInputProblem(trimmed, currency);
    if (problem !== null) {
      setLocalError({ field: 'amount', message: problem });
      return;
    }
    const body: Record<string, unknown> = { amount: trimmed };
    if (source === 'saved') {
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
      if (saveCard) body.saveCard = true;
    }
    topUp.mutate(body);
  };

  // Said while typing: more decimals than the currency has (other problems on submit: "0" and "10." are on their way).
  const typedProblem = decimalsProblem(amount, currency);
  const amountFieldError = typedProblem ?? (localError?.field === 'amount' ? localError.message : null) ?? fieldError(topUp.error, 'amount');
  const cardFieldError = localError?.field === 'card' ? localError.message : undefined;
  const apiError = topUp.error;
  const isRefusal = isApiError(apiError) && ['card_declined', 'insufficient_funds', 'rule_violation'].includes(apiError.code);

  return (
    <Paper withBorder radius="md" p="md" component="section" aria-labelledby="top-up-title">
      <Title order={3} size="h4" id="top-up-title">
        Top up
      </Title>
      {policy.data ? <PolicyText policy={policy.data} /> : policy.error ? <ErrorState error={policy.error} title="Could not load the top-up policy" /> : <Loader size="xs" />}
      <TopUpReturnBanner invoiceId={back.invoiceId} />
      <form onSubmit={onSubmit} noValidate aria-label="Top up">
        <Stack gap="sm" mt="sm" maw={520}>
          {isRefusal ? (
            <Alert color="red" variant="light" icon={<IconAlertCircle size={18} />} title={failureTitle(apiError)} role="alert">
              {refusalText(apiError)}
            </Alert>
          ) : (
            <FormError error={apiError} fields={['amount', 'cardToken', 'savedCardId']} />
          )}
          {succeeded ? (
            <Alert color="teal" variant="light" icon={<IconCircleCheck size={18} />} title="Top-up complete" role="status">
              {formatMoney(succeeded.amount, succeeded.currency)} points were added
              {succeeded.fee !== '0' && toMicros(succeeded.fee) !== 0n ? `; your card was charged ${formatMoney(succeeded.total, succeeded.currency)} (admin fee ${formatMoney(succeeded.fee)})` : ''}
              {succeeded.invoice ? `. Invoice ${succeeded.invoice.number}.` : '.'}
            </Alert>
          ) : null}
          {pendingId && (!pending.data || pending.data.status === 'pending') ? (
            <Alert color="yellow" variant="light" icon={<Loader size={16} color="yellow" />} title="Processing your payment" role="status">
              The card payment is being confirmed. This page refreshes by itself; the points are added as soon as the payment succeeds.
            </Alert>
          ) : null}
          {settled && pendingId === settled.id ? (
            settled.status === 'succeeded' ? (
              <Alert color="teal" variant="light" icon={<IconCircleCheck size={18} />} title="Top-up complete" role="status">
                {formatMoney(settled.amount, settled.currency)} points were added.
              </Alert>
            ) : (
              <Alert color="red" variant="light" icon={<IconAlertCircle size={18} />} title="The payment failed" role="alert">
                {cardFailureText(settled.failure?.code, settled.failure?.reason)} Nothing was charged and no points were added.
              </Alert>
            )
          ) : null}
          <TextInput
            label="Amount"
            placeholder="50.00"
            inputMode="decimal"
            leftSection={<Text size="xs" c="dimmed">{policy.data?.currency ?? ''}</Text>}
            leftSectionWidth={44}
            value={amount}
            onChange={(e) => {
              setAmount(e.currentTarget.value);
              // An old complaint about the amount goes once it is changed (a new one comes with the next submit).
              if (amountFieldError) {
                if (localError?.field === 'amount') setLocalError(null);
                if (fieldError(topUp.error, 'amount')) topUp.reset();
              }
            }}
            error={amountFieldError}
            required
          />
          {policy.data ? <FeePreview policy={policy.data} amount={amount} /> : null}
          {savedCards.length > 0 ? (
            <SegmentedControl
              aria-label="Pay with"
              value={source}
              onChange={(v) => setSource(v)}
              data={[
                { value: 'new', label: 'New card' },
                { value: 'saved', label: 'Saved card' },
              ]}
            />
          ) : null}
          {source === 'saved' && savedCards.length > 0 ? (
            <Select
              label="Saved card"
              data={savedCards.map((c) => ({ value: c.id, label: cardLabel(c) }))}
              value={savedCardId}
              onChange={setSavedCardId}
              error={cardFieldError ?? fieldError(topUp.error, 'savedCardId')}
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
                error={cardFieldError ?? fieldError(topUp.error, 'cardToken')}
                description="Test mode: no real card is charged. Your card number never leaves this browser; only a token is sent."
              />
              <Text size="xs" c="dimmed" component="div" aria-label="Test cards">
                Test cards:
                <List size="xs" spacing={0}>
                  {SANDBOX_TEST_CARDS.map((c) => (
                    <List.Item key={c.number}>
                      <Anchor component="button" type="button" size="xs" ff="monospace" onClick={() => setCardNumber(c.number.replace(/(\d{4})(?=\d)/g, '$1 '))}>
                        {c.number.replace(/(\d{4})(?=\d)/g, '$1 ')}
                      </Anchor>{' '}
                      — {c.description}
                    </List.Item>
                  ))}
                </List>
              </Text>
              <Checkbox label="Save this card for later top-ups" checked={saveCard} onChange={(e) => setSaveCard(e.currentTarget.checked)} />
            </>
          )}
          <Group>
            <Button type="submit" loading={topUp.isPending}>
              Top up
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

/**
 * Auto top-up. A suspended account keeps it running as an active one does (its renewals still spend its points: ADR 0038,
 * amendment of 2026-12-07, second). A closed one is offered no form (the API refuses it every change but turning it off: 409); one left on is shown with a
 * button to turn it off, so the card is not charged again should the account be reopened. Off, a closed account sees nothing.
 */
function AutoTopUpSection() {
  const closed = useAccountClosed();
  const settings = useQuery({ queryKey: [...BASE, 'auto-top-up'], queryFn: ({ signal }) => api.get<AutoTopUp>('/api/v1/portal/auto-top-up', {}, signal) });
  const cards = useQuery({
    queryKey: [...BASE, 'saved-cards'], queryFn: ({ signal }) => api.get<{ data: SavedCard[] }>('/api/v1/portal/saved-cards', {}, signal), enabled: !closed,
  });
  if (closed) return settings.data?.enabled ? <AutoTopUpLeftOn current={settings.data} /> : null;
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-labelledby="auto-top-up-title">
      <Title order={3} size="h4" id="auto-top-up-title">
        Auto top-up
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        When your usable points fall to the threshold, your saved card is charged for the amount, at most once a day. The top-up policy (minimum and fee) applies.
      </Text>
      {settings.error ? (
        <ErrorState error={settings.error} onRetry={() => void settings.refetch()} title="Could not load auto top-up" />
      ) : !settings.data ? (
        <Loader size="xs" />
      ) : (
        <AutoTopUpForm key={settings.data.updatedAt ?? 'new'} current={settings.data} cards={cards.data?.data ?? []} />
      )}
    </Paper>
  );
}

/** A closed account's auto top-up still on: what it was set to, and a button that turns it off (all else as stored). */
function AutoTopUpLeftOn({ current }: { current: AutoTopUp }) {
  const queryClient = useQueryClient();
  const off = useMutation({
    mutationFn: () => api.put<AutoTopUp>('/api/v1/portal/auto-top-up', {
      enabled: false, threshold: current.threshold ?? '', amount: current.amount ?? '', savedCardId: current.savedCardId,
    }),
    onSuccess: (saved) => {
      queryClient.setQueryData([...BASE, 'auto-top-up'], saved);
      notifications.show({ color: 'teal', message: 'Auto top-up is off.' });
    },
  });
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-labelledby="auto-top-up-title" data-testid="auto-top-up-left-on">
      <Title order={3} size="h4" id="auto-top-up-title">
        Auto top-up
      </Title>
      <Stack gap="xs" mt="xs" maw={520}>
        <FormError error={off.error} fields={[]} />
        <Text size="sm">
          {`On: ${current.amount ?? '—'} ${current.currency} when usable points fall to ${current.threshold ?? '—'} ${current.currency}${current.savedCard ? `, charged to ${cardLabel(current.savedCard)}` : ''}.`}
        </Text>
        <Text size="sm" c="dimmed">
          It no longer runs while the account is closed. Turn it off so that your card is not charged again if the account is reopened.
        </Text>
        <Group>
          <Button variant="light" color="red" loading={off.isPending} onClick={() => off.mutate()}>
            Turn off auto top-up
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

function AutoTopUpForm({ current, cards }: { current: AutoTopUp; cards: SavedCard[] }) {
  const queryClient = useQueryClient();
  const [enabled, setEnabled] = useState(current.enabled);
  const [threshold, setThreshold] = useState(current.threshold ?? '');
  const [amount, setAmount] = useState(current.amount ?? '');
  const [cardId, setCardId] = useState<string | null>(current.savedCardId);
  const save = useMutation({
    mutationFn: () => api.put<AutoTopUp>('/api/v1/portal/auto-top-up', { enabled, threshold: threshold.trim(), amount: amount.trim(), savedCardId: cardId }),
    onSuccess: async (saved) => {
      queryClient.setQueryData([...BASE, 'auto-top-up'], saved);
      notifications.show({ color: 'teal', message: saved.enabled ? 'Auto top-up is on.' : 'Auto top-up is off.' });
    },
  });
  return (
    <form
      noValidate
      aria-label="Auto top-up"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Stack gap="sm" maw={520}>
        <FormError error={save.error} fields={['enabled', 'threshold', 'amount', 'savedCardId']} />
        <Switch label="Top up automatically" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        <Group grow align="flex-start">
          <TextInput label="When usable points fall to" placeholder="10.00" inputMode="decimal" value={threshold} onChange={(e) => setThreshold(e.currentTarget.value)} error={fieldError(save.error, 'threshold')} />
          <TextInput label="Top up by" placeholder="50.00" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.currentTarget.value)} error={fieldError(save.error, 'amount')} />
        </Group>
        <Select
          label="Card to charge"
          placeholder={cards.length === 0 ? 'No saved card: top up once with “Save this card”' : 'Choose a saved card'}
          data={cards.map((c) => ({ value: c.id, label: cardLabel(c) }))}
          value={cardId}
          onChange={setCardId}
          disabled={cards.length === 0}
          clearable
          error={fieldError(save.error, 'savedCardId')}
        />
        {current.lastAttemptedOn ? (
          <Text size="xs" c="dimmed">
            Last automatic attempt: {formatDate(current.lastAttemptedOn)}
          </Text>
        ) : null}
        <Group>
          <Button type="submit" variant="light" loading={save.isPending}>
            Save auto top-up
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/**
 * The low balance alert: one email when usable points fall to the threshold (the currency's default when left empty).
 * A closed account sees its setting, not a form: the API refuses it a change (409), and the sweep alerts it no more.
 * A suspended one is alerted as an active one (its renewals still spend its points: ADR 0038, amendment of 2026-12-07, second).
 */
function LowBalanceAlertSection() {
  const closed = useAccountClosed();
  const alert = useQuery({ queryKey: [...BASE, 'low-balance-alert'], queryFn: ({ signal }) => api.get<LowBalanceAlert>('/api/v1/portal/low-balance-alert', {}, signal) });
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-labelledby="low-balance-alert-title">
      <Title order={3} size="h4" id="low-balance-alert-title">
        Low balance alert
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        We email your organisation once when usable points fall to the threshold, and again only after they were above it. Not sent while auto top-up is on.
      </Text>
      {alert.error ? (
        <ErrorState error={alert.error} onRetry={() => void alert.refetch()} title="Could not load the low balance alert" />
      ) : !alert.data ? (
        <Loader size="xs" />
      ) : closed ? (
        <LowBalanceAlertSetting current={alert.data} />
      ) : (
        <LowBalanceAlertForm key={alert.data.updatedAt ?? 'new'} current={alert.data} />
      )}
    </Paper>
  );
}

/** The setting as it stands, read only (a closed account). */
function LowBalanceAlertSetting({ current }: { current: LowBalanceAlert }) {
  const threshold = current.threshold === null ? `${current.defaultThreshold} ${current.currency} (the default)` : `${current.threshold} ${current.currency}`;
  return (
    <Stack gap={4} data-testid="low-balance-alert-setting">
      <Text size="sm">
        <b>{current.enabled ? 'On' : 'Off'}</b>
        {current.enabled ? `: when usable points fall to ${threshold}.` : '.'}
      </Text>
      <Text size="sm" c="dimmed">
        This account is closed: no alert is sent any more, and the setting can no longer be changed.
      </Text>
    </Stack>
  );
}

function LowBalanceAlertForm({ current }: { current: LowBalanceAlert }) {
  const queryClient = useQueryClient();
  const [enabled, setEnabled] = useState(current.enabled);
  const [threshold, setThreshold] = useState(current.threshold ?? '');
  const save = useMutation({
    mutationFn: () => api.put<LowBalanceAlert>('/api/v1/portal/low-balance-alert', { enabled, threshold: threshold.trim() === '' ? null : threshold.trim() }),
    onSuccess: (saved) => {
      queryClient.setQueryData([...BASE, 'low-balance-alert'], saved);
      notifications.show({
        color: 'teal',
        message: saved.enabled ? `Low balance alert is on, at ${saved.threshold ?? saved.defaultThreshold} ${saved.currency}.` : 'Low balance alert is off.',
      });
    },
  });
  return (
    <form
      noValidate
      aria-label="Low balance alert"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Stack gap="sm" maw={520}>
        <FormError error={save.error} fields={['enabled', 'threshold']} />
        <Switch label="Email us when usable points fall to" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        <TextInput
          label="Threshold"
          description={`Leave empty for the default (${current.defaultThreshold} ${current.currency}).`}
          placeholder={current.defaultThreshold}
          inputMode="decimal"
          value={threshold}
          onChange={(e) => setThreshold(e.currentTarget.value)}
          error={fieldError(save.error, 'threshold')}
          rightSection={<Text size="xs" c="dimmed">{current.currency}</Text>}
          rightSectionWidth={48}
        />
        <Group>
          <Button type="submit" variant="light" loading={save.isPending}>
            Save alert
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
