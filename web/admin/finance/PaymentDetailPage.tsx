import { useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert, Anchor, Button, Group, List, Paper, Radio, SegmentedControl, SimpleGrid, Stack, Table, Text, TextInput, Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconArrowBackUp, IconArrowLeft, IconCircleCheck, IconDownload, IconUserPlus } from '@tabler/icons-react';
import { api, apiRequest, isApiError, isFinalRefusal, newIdempotencyKey } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { ReasonDialog } from '../../shared/ReasonDialog.tsx';
import { formatDate, formatDateTime } from '../../shared/format.ts';
import { formatMicros, formatMoney, toMicros } from '../../shared/money.ts';
import { useSession } from '../../shared/session.tsx';
import { Empty, ErrorState, LoadingState } from '../../shared/ui.tsx';
import { currencyDecimals } from '../../shared/money.ts';
import { statusLabel } from '../invoices/invoice-types.ts';
import { Amount } from '../invoices/invoice-ui.tsx';
import {
  PAYMENTS_KEY, methodLabel, paymentPath, pointsOutcomeLines,
  type PaymentDetail, type PaymentOpenInvoices, type Reversal,
} from './finance-types.ts';
import { AssignDialog, PaymentStatusBadge, paymentName, refreshAfterPaymentChange } from './finance-ui.tsx';

type OpenInvoice = PaymentOpenInvoices['data'][number];

function Fact({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" fw={500} data-testid={testId} component="div">
        {children}
      </Text>
    </div>
  );
}

/** An invoice named by its number, a link into the Invoice app for staff who hold it. */
function InvoiceRef({ id, number }: { id: string | null; number: string | null }) {
  const session = useSession();
  const name = number ?? id ?? '—';
  if (id && session.apps.includes('invoice')) {
    return (
      <Anchor component={Link} to={`/admin/invoice/${id}`} size="sm" ff="monospace">
        {name}
      </Anchor>
    );
  }
  return (
    <Text span size="sm" ff="monospace">
      {name}
    </Text>
  );
}

export function PaymentDetailPage() {
  const { paymentId = '' } = useParams();
  const session = useSession();
  const [assigning, setAssigning] = useState(false);
  const [reversal, setReversal] = useState<Reversal | null>(null);
  const query = useQuery({
    queryKey: [...PAYMENTS_KEY, paymentId],
    queryFn: ({ signal }) => api.get<PaymentDetail>(paymentPath(paymentId), undefined, signal),
  });
  const back = (
    <Anchor component={Link} to="/admin/finance/payments" size="sm">
      <Group gap={4}>
        <IconArrowLeft size={14} /> All payments
      </Group>
    </Anchor>
  );
  if (query.isError && !query.data) {
    return (
      <Stack>
        {back}
        {isApiError(query.error) && (query.error.status === 404 || query.error.status === 400) ? (
          <Empty title="Payment not found" description="It does not exist, or it belongs to another partner." />
        ) : (
          <ErrorState error={query.error} onRetry={() => void query.refetch()} title="Could not load this payment" />
        )}
      </Stack>
    );
  }
  if (!query.data) return <LoadingState label="Loading payment…" />;
  const p = query.data;
  const c = p.currency;
  const reversed = p.status === 'reversed';
  const canAllocate = !!p.customer && !reversed && (toMicros(p.unallocated) ?? 0n) > 0n;

  return (
    <Stack gap="lg" maw={1240}>
      {back}
      <Group justify="space-between" align="flex-start">
        <div>
          <Group gap="xs">
            <Title order={2} data-testid="payment-title">
              {paymentName(p)}
            </Title>
            <PaymentStatusBadge status={p.status} size="md" />
          </Group>
          <Text size="sm" c="dimmed">
            {p.customer ? p.customer.name : 'Payer unknown'} · Receipt{' '}
            <Text span size="sm" ff="monospace" data-testid="payment-receipt-number">
              {p.receiptNumber}
            </Text>{' '}
            · {p.id}
          </Text>
        </div>
        <Group gap="xs">
          {p.status === 'unassigned' ? (
            <Button size="xs" leftSection={<IconUserPlus size={14} />} onClick={() => setAssigning(true)}>
              Assign to customer
            </Button>
          ) : null}
          <Button size="xs" variant="default" component="a" href={paymentPath(p.id, 'receipt.pdf')} download={`${p.receiptNumber}.pdf`} leftSection={<IconDownload size={14} />}>
            Download receipt
          </Button>
          {!reversed ? <ReverseDialog payment={p} onReversed={setReversal} /> : null}
        </Group>
      </Group>

      {reversal ? <ReversalOutcome reversal={reversal} currency={c} onClose={() => setReversal(null)} /> : null}
      {reversed && !reversal ? (
        <Alert color="red" variant="light" title={`Reversed ${formatDateTime(p.reversedAt)}`} icon={<IconArrowBackUp size={18} />} data-testid="payment-reversed">
          {p.reversalReason ?? 'No reason recorded.'} Its allocations were undone and the invoices it paid reopened; the record stays.
        </Alert>
      ) : null}

      <Paper withBorder radius="md" p="md">
        <SimpleGrid cols={{ base: 2, sm: 3, md: 6 }}>
          <Fact label="Customer">
            {p.customer ? (
              session.apps.includes('customer') ? (
                <Anchor component={Link} to={`/admin/customer/${p.customer.id}`} size="sm">
                  {p.customer.name}
                </Anchor>
              ) : (
                p.customer.name
              )
            ) : (
              <Text span size="sm" c="orange.8">
                Unknown (unassigned)
              </Text>
            )}
          </Fact>
          <Fact label="Received">{formatDate(p.receivedOn)}</Fact>
          <Fact label="Method">{methodLabel(p.method)}</Fact>
          <Fact label="Reference">
            <Text span size="sm" ff="monospace">
              {p.reference ?? '—'}
            </Text>
          </Fact>
          <Fact label="Recorded">{formatDateTime(p.createdAt)}</Fact>
          <Fact label="Remark">{p.remark ?? '—'}</Fact>
        </SimpleGrid>
        <SimpleGrid cols={{ base: 2, sm: 4 }} mt="md" aria-label="Amounts" component="section">
          <Fact label="Amount" testId="payment-amount">{formatMoney(p.amount, c)}</Fact>
          <Fact label="Allocated to invoices" testId="payment-allocated">{formatMoney(p.allocated, c)}</Fact>
          <Fact label="Turned into points" testId="payment-to-points">{formatMoney(p.toPoints, c)}</Fact>
          <Fact label="Unallocated" testId="payment-unallocated">{formatMoney(p.unallocated, c)}</Fact>
        </SimpleGrid>
      </Paper>

      {p.status === 'unassigned' ? (
        <Alert color="orange" variant="light" title="Waiting for its payer">
          Assign this payment to the customer who sent it; then it can be allocated to their invoices.
        </Alert>
      ) : null}

      {canAllocate ? <AllocatePanel payment={p} /> : null}

      <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="allocations-title">
        <Title order={3} size="h5" id="allocations-title" mb="sm">
          Allocations
        </Title>
        {p.allocations.length === 0 ? (
          <Text size="sm" c="dimmed">
            Not allocated to any invoice yet.
          </Text>
        ) : (
          <Table aria-label="Allocations" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Allocated</Table.Th>
                <Table.Th>To</Table.Th>
                <Table.Th style={{ textAlign: 'right' }}>Amount</Table.Th>
                <Table.Th>State</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {p.allocations.map((a) => (
                <Table.Tr key={a.id}>
                  <Table.Td>{formatDateTime(a.createdAt)}</Table.Td>
                  <Table.Td>
                    {a.kind === 'points' ? <Text size="sm">Points (leftover)</Text> : <InvoiceRef id={a.invoiceId} number={a.invoiceNumber} />}
                    {a.adminFee !== null && (
                      <Text size="xs" c="dimmed">
                        Of which {formatMoney(a.adminFee, c)} paid the top-up&apos;s admin fee (paid first), the rest bought points
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td style={{ textAlign: 'right' }}>
                    <Amount amount={a.amount} currency={c} />
                  </Table.Td>
                  <Table.Td>
                    {a.reversedAt ? (
                      <Text size="sm" c="red.7">
                        Reversed {formatDateTime(a.reversedAt)}
                      </Text>
                    ) : (
                      <Text size="sm" c="teal.8">
                        Active
                      </Text>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Paper>
      <AssignDialog payment={p} opened={assigning} onClose={() => setAssigning(false)} />
    </Stack>
  );
}

/** Oldest-first, as the server's auto-allocation does it: what each open invoice would get from `available`. */
function autoPlan(invoices: OpenInvoice[], available: bigint): Map<string, bigint> {
  const plan = new Map<string, bigint>();
  let left = available;
  for (const inv of invoices) {
    if (left <= 0n) break;
    if (inv.paymentInProgress) continue;
    const due = toMicros(inv.amountDue) ?? 0n;
    if (due <= 0n) continue;
    const take = due < left ? due : left;
    plan.set(inv.id, take);
    left -= take;
  }
  return plan;
}

/**
 * Allocate the payment: amounts typed per open invoice (a manual split), or oldest first; what is left over is kept on
 * the payment or turned into the customer's points, an explicit choice with the amount shown as it changes.
 */
function AllocatePanel({ payment: p }: { payment: PaymentDetail }) {
  const queryClient = useQueryClient();
  const [params, setParams] = useSearchParams();
  const presetInvoice = params.get('invoiceId');
  const c = p.currency;
  const decimals = currencyDecimals(c);
  const fmt = (m: bigint) => formatMicros(m, decimals);
  const [mode, setMode] = useState<'manual' | 'auto'>('manual');
  const [amounts, setAmounts] = useState<Record<string, string>>({});
  const [leftover, setLeftover] = useState<'keep' | 'points'>('keep');
  const [localError, setLocalError] = useState<string | null>(null);
  const sent = useRef<string[]>([]);
  const [idemKey, setIdemKey] = useState(() => newIdempotencyKey('allocate'));
  const open = useQuery({
    queryKey: [...PAYMENTS_KEY, p.id, 'open-invoices'],
    queryFn: ({ signal }) => api.get<PaymentOpenInvoices>(paymentPath(p.id, 'open-invoices'), undefined, signal),
  });
  const invoices = useMemo(() => open.data?.data ?? [], [open.data]);
  const available = toMicros(p.unallocated) ?? 0n;

  // From an invoice's "Record payment": that invoice is ready, with as much as the payment can give it.
  useEffect(() => {
    if (!presetInvoice) return;
    const inv = invoices.find((i) => i.id === presetInvoice);
    if (!inv) return;
    const due = toMicros(inv.amountDue) ?? 0n;
    setAmounts((a) => (a[inv.id] ? a : { ...a, [inv.id]: fmt(due < available ? due : available) }));
  }, [presetInvoice, invoices]);

  const parsed = invoices.map((inv) => {
    const text = (amounts[inv.id] ?? '').trim();
    const micros = text === '' ? 0n : toMicros(text);
    const due = toMicros(inv.amountDue) ?? 0n;
    const problem = micros === null || micros < 0n ? 'Not an amount' : micros > due ? `At most ${fmt(due)}` : undefined;
    return { inv, text, micros: micros ?? 0n, problem };
  });
  const plan = useMemo(() => autoPlan(invoices, available), [invoices, available]);
  const chosen = mode === 'manual' ? parsed.reduce((s, x) => s + (x.problem ? 0n : x.micros), 0n) : [...plan.values()].reduce((s, m) => s + m, 0n);
  const left = available - chosen;
  const over = left < 0n;

  const act = useMutation({
    mutationFn: async () => {
      const body: Record<string, unknown> = { leftover };
      // No open invoice: "oldest first" allocates nothing and only settles the leftover (kept or into points).
      if (mode === 'auto' || invoices.length === 0) body.auto = true;
      else {
        const lines = parsed.filter((x) => x.micros > 0n);
        sent.current = lines.map((x) => x.inv.id);
        body.allocations = lines.map((x) => ({ invoiceId: x.inv.id, amount: x.text }));
      }
      return (await apiRequest<PaymentDetail>(paymentPath(p.id, 'allocations'), { method: 'POST', body, headers: { 'idempotency-key': idemKey } })).data;
    },
    onSuccess: async (after) => {
      const parts = [`${formatMoney(after.allocated, c)} allocated to invoices`];
      if (after.toPoints !== '0' && (toMicros(after.toPoints) ?? 0n) > 0n) parts.push(`${formatMoney(after.toPoints, c)} turned into points`);
      if ((toMicros(after.unallocated) ?? 0n) > 0n) parts.push(`${formatMoney(after.unallocated, c)} still unallocated`);
      notifications.show({ color: 'teal', title: 'Payment allocated', message: `${parts.join('; ')}.` });
      setAmounts({});
      setIdemKey(newIdempotencyKey('allocate'));
      if (presetInvoice) {
        const next = new URLSearchParams(params);
        next.delete('invoiceId');
        setParams(next, { replace: true });
      }
      await refreshAfterPaymentChange(queryClient);
    },
    onError: (e) => {
      if (isFinalRefusal(e)) setIdemKey(newIdempotencyKey('allocate'));
    },
  });
  const serverError = (invoiceId: string) => {
    const i = sent.current.indexOf(invoiceId);
    return i < 0 ? undefined : fieldError(act.error, `allocations.${i}.amount`);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setLocalError(null);
    if (invoices.length === 0) {
      if (leftover === 'keep') return setLocalError('No open invoice to allocate to: the money already stays on the payment. Choose points to turn it into points.');
    } else if (mode === 'manual') {
      if (parsed.some((x) => x.problem)) return setLocalError('Correct the highlighted amounts.');
      if (chosen === 0n) return setLocalError('Type an amount for at least one invoice (“Fill” puts in what it owes), or allocate oldest first.');
    } else if (plan.size === 0) {
      return setLocalError('Every open invoice has a portal payment in progress: try again when it ends.');
    }
    if (over) return setLocalError(`The split is ${fmt(-left)} more than the payment's unallocated ${fmt(available)}.`);
    act.mutate();
  };
  const fields = sent.current.map((_, i) => `allocations.${i}.amount`);

  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="allocate-title">
      <form noValidate aria-label="Allocate payment" onSubmit={submit}>
        <Stack>
          <Group justify="space-between" align="flex-start">
            <div>
              <Title order={3} size="h5" id="allocate-title">
                Allocate to invoices
              </Title>
              <Text size="sm" c="dimmed">
                {formatMoney(p.unallocated, c)} of this payment is free to allocate to {p.customer?.name}&apos;s open invoices.
              </Text>
            </div>
            <SegmentedControl
              aria-label="Allocation mode"
              value={mode}
              onChange={(v) => setMode(v)}
              data={[
                { value: 'manual', label: 'Choose amounts' },
                { value: 'auto', label: 'Oldest first' },
              ]}
            />
          </Group>
          <FormError error={act.error} fields={fields} />
          {localError ? (
            <Alert color="red" variant="light" role="alert">
              {localError}
            </Alert>
          ) : null}
          {open.isError ? (
            <ErrorState error={open.error} onRetry={() => void open.refetch()} title="Could not load the open invoices" />
          ) : open.isPending ? (
            <LoadingState label="Loading open invoices…" />
          ) : invoices.length === 0 ? (
            <Text size="sm" c="dimmed">
              {p.customer?.name} has no open invoice in {c}. Keep the money on the payment, or turn it into points.
            </Text>
          ) : (
            <Table aria-label="Open invoices" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Invoice</Table.Th>
                  <Table.Th>Due</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Total</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Amount due</Table.Th>
                  <Table.Th style={{ textAlign: 'right', width: 200 }}>Allocate</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {parsed.map(({ inv, text, problem }) => {
                  const name = inv.number ?? inv.id;
                  return (
                    <Table.Tr key={inv.id} data-testid={`open-invoice-${name}`}>
                      <Table.Td>
                        <InvoiceRef id={inv.id} number={inv.number} />
                        {inv.type === 'top_up' ? (
                          <Text span size="xs" c="dimmed">
                            {' '}
                            (Top-up: credits points)
                          </Text>
                        ) : null}
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" c={inv.overdue ? 'red.7' : undefined}>
                          {formatDate(inv.dueAt)}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{inv.paymentInProgress ? 'Portal payment in progress' : statusLabel(inv.status)}</Text>
                      </Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>
                        <Amount amount={inv.total} currency={c} />
                      </Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>
                        <Amount amount={inv.amountDue} currency={c} strong testId={`open-due-${name}`} />
                      </Table.Td>
                      <Table.Td>
                        {mode === 'manual' ? (
                          <Group gap={4} wrap="nowrap" justify="flex-end">
                            <TextInput
                              aria-label={`Allocate to ${name}`}
                              inputMode="decimal"
                              placeholder="0.00"
                              value={text}
                              onChange={(e) => {
                                const v = e.currentTarget.value;
                                setAmounts((a) => ({ ...a, [inv.id]: v }));
                              }}
                              error={problem ?? serverError(inv.id)}
                              disabled={inv.paymentInProgress}
                              w={120}
                              styles={{ input: { textAlign: 'right' } }}
                            />
                            <Button
                              size="compact-xs"
                              variant="subtle"
                              aria-label={`Fill ${name}`}
                              disabled={inv.paymentInProgress}
                              onClick={() => {
                                const due = toMicros(inv.amountDue) ?? 0n;
                                const others = parsed.reduce((s, x) => s + (x.inv.id === inv.id || x.problem ? 0n : x.micros), 0n);
                                const room = available - others;
                                const take = room <= 0n ? 0n : due < room ? due : room;
                                setAmounts((a) => ({ ...a, [inv.id]: fmt(take) }));
                              }}
                            >
                              Fill
                            </Button>
                          </Group>
                        ) : (
                          <Text size="sm" ta="right" style={{ fontVariantNumeric: 'tabular-nums' }}>
                            {plan.has(inv.id) ? formatMoney(fmt(plan.get(inv.id)!), c) : '—'}
                          </Text>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          )}
          {open.data?.more ? (
            <Text size="xs" c="dimmed">
              Only the 100 oldest open invoices are shown; “Oldest first” also works through them in this order.
            </Text>
          ) : null}
          <Group justify="space-between" align="flex-end" wrap="wrap">
            <Radio.Group
              label="What is left over"
              description={
                <span data-testid="allocation-leftover">
                  {over ? `Over by ${formatMoney(fmt(-left), c)}` : `${formatMoney(fmt(left), c)} left over after this allocation`}
                </span>
              }
              value={leftover}
              onChange={(v) => setLeftover(v)}
            >
              <Group mt="xs">
                <Radio value="keep" label="Keep it unallocated on the payment" />
                <Radio value="points" label={`Turn it into ${p.customer?.name ?? 'the customer'}'s points`} />
              </Group>
            </Radio.Group>
            <Group gap="sm">
              <Text size="sm" c="dimmed">
                Allocating{' '}
                <Text span fw={600} c={over ? 'red.7' : undefined} data-testid="allocation-total">
                  {formatMoney(fmt(chosen), c)}
                </Text>
              </Text>
              <Button type="submit" loading={act.isPending} disabled={over}>
                Allocate
              </Button>
            </Group>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

function ReverseDialog({ payment: p, onReversed }: { payment: PaymentDetail; onReversed: (r: Reversal) => void }) {
  const queryClient = useQueryClient();
  const [opened, setOpened] = useState(false);
  const active = p.allocations.filter((a) => !a.reversedAt);
  const invoiceCount = new Set(active.filter((a) => a.kind === 'invoice').map((a) => a.invoiceId)).size;
  return (
    <>
      <Button size="xs" color="red" variant="light" leftSection={<IconArrowBackUp size={14} />} onClick={() => setOpened(true)}>
        Reverse
      </Button>
      <ReasonDialog
        opened={opened}
        onClose={() => setOpened(false)}
        title={`Reverse ${paymentName(p)}?`}
        formLabel="Reverse payment"
        intro={
          <>
            For a bounced cheque or a payment recorded by mistake. Every entry it made is mirrored
            {invoiceCount > 0 ? `, the ${invoiceCount} invoice${invoiceCount === 1 ? '' : 's'} it paid reopen` : ''}
            {(toMicros(p.toPoints) ?? 0n) > 0n ? ` and the ${formatMoney(p.toPoints, p.currency)} of points it created are taken back` : ''}. The payment stays on record as reversed. This cannot be undone.
          </>
        }
        reasonDescription="Kept on the payment and in the audit trail"
        submitLabel="Reverse payment"
        keyPrefix="reverse"
        send={async (reason, key) => (await apiRequest<Reversal>(paymentPath(p.id, 'reverse'), { method: 'POST', body: { reason }, headers: { 'idempotency-key': key } })).data}
        onDone={async (r) => {
          notifications.show({ color: 'teal', title: 'Payment reversed', message: `${paymentName(p)} is reversed; ${r.reopenedInvoices.length} invoice${r.reopenedInvoices.length === 1 ? '' : 's'} reopened.` });
          onReversed(r);
          await refreshAfterPaymentChange(queryClient);
        }}
      />
    </>
  );
}

/** What the reversal did, as the server answered it: invoices reopened and their new amount due, the points taken back. */
function ReversalOutcome({ reversal: r, currency, onClose }: { reversal: Reversal; currency: string; onClose: () => void }) {
  return (
    <Alert
      color="orange"
      variant="light"
      title="Payment reversed"
      icon={<IconCircleCheck size={18} />}
      withCloseButton
      onClose={onClose}
      data-testid="reversal-outcome"
    >
      <Stack gap={6}>
        <Text size="sm">Reason: {r.payment.reversalReason ?? '—'}</Text>
        {r.reopenedInvoices.length > 0 ? (
          <>
            <Text size="sm" fw={600}>
              Invoices reopened
            </Text>
            <List size="sm">
              {r.reopenedInvoices.map((inv) => (
                <List.Item key={inv.id}>
                  <InvoiceRef id={inv.id} number={inv.number} /> — {statusLabel(inv.status)}, {formatMoney(inv.amountDue, currency)} due
                </List.Item>
              ))}
            </List>
          </>
        ) : (
          <Text size="sm">No invoice was paid by this payment.</Text>
        )}
        <Stack gap={2} data-testid="reversal-points">
          {pointsOutcomeLines(r, currency).map((line) => (
            <Text key={line} size="sm">
              {line}
            </Text>
          ))}
        </Stack>
        {r.debitNote ? (
          <Text size="sm">
            Debit note: <InvoiceRef id={r.debitNote.id} number={r.debitNote.number} />
          </Text>
        ) : null}
        {r.subscriptionsFlagged.length > 0 ? (
          <Text size="sm" c="orange.9">
            {r.subscriptionsFlagged.length} subscription{r.subscriptionsFlagged.length === 1 ? '' : 's'} activated by a reopened invoice stay{r.subscriptionsFlagged.length === 1 ? 's' : ''} as{' '}
            {r.subscriptionsFlagged.length === 1 ? 'it is' : 'they are'}: suspend {r.subscriptionsFlagged.length === 1 ? 'it' : 'them'} in the customer&apos;s services if needed.
          </Text>
        ) : null}
      </Stack>
    </Alert>
  );
}
