import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Group, Modal, Paper, Radio, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconCreditCard, IconMinus, IconPlus } from '@tabler/icons-react';
import { apiRequest, newIdempotencyKey } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatMoney, toMicros } from '../../shared/money.ts';
import { TransactionsTable, WalletSummary, useWallet, type Wallet } from '../../shared/points.tsx';
import { useSession } from '../../shared/session.tsx';
import { TopUpsTable } from '../../shared/TopUpsTable.tsx';

type Dialog = 'issue' | 'take-back' | 'credit-limit' | null;

/** Customer detail: the customer's points and transactions; staff with Finance also issue or take back points and set the credit limit. */
export function CustomerPoints({ customerId, currency }: { customerId: string; currency: string }) {
  const session = useSession();
  const finance = session.apps.includes('finance');
  const base = ['customers', customerId, 'points'] as const;
  const path = `/api/v1/customers/${encodeURIComponent(customerId)}`;
  const wallet = useWallet(base, `${path}/wallet`);
  const [dialog, setDialog] = useState<Dialog>(null);
  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="points-title">
      <Group justify="space-between" align="flex-start" mb="md">
        <div>
          <Title order={3} size="h4" id="points-title">
            Points
          </Title>
          <Text size="sm" c="dimmed">
            Prepaid credit in {currency}: top-ups, calls, subscriptions, purchases paid with points, and credits.
          </Text>
        </div>
        {finance ? (
          <Group gap="xs">
            <Button size="xs" variant="light" leftSection={<IconPlus size={14} />} onClick={() => setDialog('issue')}>
              Issue points
            </Button>
            <Button size="xs" variant="light" color="orange" leftSection={<IconMinus size={14} />} onClick={() => setDialog('take-back')}>
              Take back points
            </Button>
            <Button size="xs" variant="default" leftSection={<IconCreditCard size={14} />} onClick={() => setDialog('credit-limit')}>
              Credit limit
            </Button>
          </Group>
        ) : null}
      </Group>
      <Stack gap="md">
        <WalletSummary wallet={wallet.data} error={wallet.error} onRetry={() => void wallet.refetch()} uniformAmounts />
        <TransactionsTable base={base} path={`${path}/transactions`} showKind uniformAmounts />
        <TopUpsTable base={base} path={`${path}/top-ups`} staff titleOrder={4} limit={20} />
      </Stack>
      {finance ? (
        <>
          <AdjustPointsDialog kind="issue" opened={dialog === 'issue'} onClose={() => setDialog(null)} path={path} base={base} currency={currency} />
          <AdjustPointsDialog kind="take-back" opened={dialog === 'take-back'} onClose={() => setDialog(null)} path={path} base={base} currency={currency} />
          <CreditLimitDialog opened={dialog === 'credit-limit'} onClose={() => setDialog(null)} path={path} base={base} currency={currency} wallet={wallet.data} />
        </>
      ) : null}
    </Paper>
  );
}

interface DialogProps {
  opened: boolean;
  onClose: () => void;
  path: string;
  base: readonly unknown[];
  currency: string;
}

function AdjustPointsDialog({ kind, opened, onClose, path, base, currency }: DialogProps & { kind: 'issue' | 'take-back' }) {
  const queryClient = useQueryClient();
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [localError, setLocalError] = useState<string | null>(null);
  // A take-back corrects points given by mistake, or refunds unused points bought by top-up (money paid back).
  const [outcome, setOutcome] = useState<'correction' | 'bank_transfer' | 'cheque'>('correction');
  const [reference, setReference] = useState('');
  const title = kind === 'issue' ? 'Issue points' : 'Take back points';
  const refund = kind === 'take-back' && outcome !== 'correction' ? { refundMethod: outcome, refundReference: reference.trim() || undefined } : {};
  const adjust = useMutation({
    mutationFn: async () =>
      (await apiRequest<{ amount: string; currency: string; refundMethod: string | null }>(`${path}/points/${kind}`, { method: 'POST', body: { amount: amount.trim(), reason: reason.trim(), ...refund }, headers: { 'idempotency-key': newIdempotencyKey('points') } })).data,
    onSuccess: async (res) => {
      notifications.show({
        color: 'teal',
        message: kind === 'issue' ? `${formatMoney(res.amount, res.currency)} points issued.`
          : res.refundMethod ? `${formatMoney(res.amount, res.currency)} points refunded.` : `${formatMoney(res.amount, res.currency)} points taken back.`,
      });
      close();
      await queryClient.invalidateQueries({ queryKey: base });
    },
  });
  const close = () => {
    setAmount('');
    setReason('');
    setOutcome('correction');
    setReference('');
    setLocalError(null);
    adjust.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const m = toMicros(amount);
    if (m === null || m <= 0n) {
      setLocalError('Enter an amount more than zero, for example 10.00');
      return;
    }
    setLocalError(null);
    adjust.mutate();
  };
  return (
    <Modal opened={opened} onClose={close} title={title} centered>
      <form onSubmit={submit} noValidate aria-label={title}>
        <Stack>
          <FormError error={adjust.error} fields={['amount', 'reason', 'refundMethod', 'refundReference']} />
          <Text size="sm" c="dimmed">
            {kind === 'issue'
              ? 'The points are added to the customer’s balance at once, and the reason is kept in the audit trail.'
              : 'Never more than the customer’s points not held for calls in progress. The reason is kept in the audit trail.'}
          </Text>
          <TextInput
            label="Amount"
            placeholder="10.00"
            inputMode="decimal"
            leftSection={<Text size="xs" c="dimmed">{currency}</Text>}
            leftSectionWidth={44}
            value={amount}
            onChange={(e) => setAmount(e.currentTarget.value)}
            error={localError ?? fieldError(adjust.error, 'amount')}
            required
            data-autofocus
          />
          {kind === 'take-back' && (
            <Radio.Group label="What happens to the money" value={outcome} onChange={(v) => setOutcome(v)} error={fieldError(adjust.error, 'refundMethod')}>
              <Stack gap={4} mt={4}>
                <Radio value="correction" label="Nothing: a correction of points given by mistake" />
                <Radio value="bank_transfer" label="Refunded by bank transfer (unused points bought by top-up)" />
                <Radio value="cheque" label="Refunded by cheque" />
              </Stack>
            </Radio.Group>
          )}
          {kind === 'take-back' && outcome !== 'correction' && (
            <TextInput
              label={outcome === 'cheque' ? 'Cheque number' : 'Transfer reference'}
              value={reference}
              onChange={(e) => setReference(e.currentTarget.value)}
              error={fieldError(adjust.error, 'refundReference')}
              maxLength={200}
              required
            />
          )}
          <Textarea label="Reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)} error={fieldError(adjust.error, 'reason')} autosize minRows={2} maxRows={6} required maxLength={500} />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" color={kind === 'issue' ? undefined : 'orange'} loading={adjust.isPending}>
              {title}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function CreditLimitDialog({ opened, onClose, path, base, currency, wallet }: DialogProps & { wallet: Wallet | undefined }) {
  const queryClient = useQueryClient();
  const [amount, setAmount] = useState('');
  const [expires, setExpires] = useState('');
  const [localError, setLocalError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: async () => {
      const expiresAt = expires ? new Date(`${expires}T23:59:59`).toISOString() : null;
      return (await apiRequest<Wallet>(`${path}/credit-limit`, { method: 'PUT', body: { amount: amount.trim(), expiresAt } })).data;
    },
    onSuccess: async (w) => {
      queryClient.setQueryData([...base, 'wallet'], w);
      notifications.show({ color: 'teal', message: toMicros(w.creditLimit) === 0n ? 'Credit limit removed.' : `Credit limit set to ${formatMoney(w.creditLimit, w.currency)}.` });
      close();
      await queryClient.invalidateQueries({ queryKey: base });
    },
  });
  const close = () => {
    setAmount('');
    setExpires('');
    setLocalError(null);
    save.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const m = toMicros(amount);
    if (m === null || m < 0n) {
      setLocalError('Enter an amount, for example 100.00 (0 removes the limit)');
      return;
    }
    setLocalError(null);
    save.mutate();
  };
  return (
    <Modal opened={opened} onClose={close} title="Credit limit" centered>
      <form onSubmit={submit} noValidate aria-label="Credit limit">
        <Stack>
          <FormError error={save.error} fields={['amount', 'expiresAt']} />
          <Text size="sm" c="dimmed">
            Lets the customer go below zero points, up to the limit. {wallet ? `Now: ${formatMoney(wallet.creditLimit, wallet.currency)}.` : ''} 0 removes it; it can never be set below what is in use.
          </Text>
          <TextInput
            label="Limit"
            placeholder="100.00"
            inputMode="decimal"
            leftSection={<Text size="xs" c="dimmed">{currency}</Text>}
            leftSectionWidth={44}
            value={amount}
            onChange={(e) => setAmount(e.currentTarget.value)}
            error={localError ?? fieldError(save.error, 'amount')}
            required
            data-autofocus
          />
          <TextInput
            label="Expires on (optional)"
            description="Leave empty for a permanent limit. The limit ends at the end of that day (your time)."
            type="date"
            value={expires}
            onChange={(e) => setExpires(e.currentTarget.value)}
            error={fieldError(save.error, 'expiresAt')}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              Save credit limit
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
