import { useEffect, useMemo, useState } from 'react';
import { useNavigate } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert, Button, Checkbox, Group, Paper, Radio, SegmentedControl, Select, Stack, Table, Text, TextInput, Textarea, Title,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconAlertCircle } from '@tabler/icons-react';
import { api, errorMessage } from '../../shared/api.ts';
import { FormError } from '../../shared/forms.tsx';
import { amountInputProblem, formatMoney } from '../../shared/money.ts';
import { ConfirmButton } from '../../shared/ConfirmButton.tsx';
import { ErrorState, LoadingState, useIsPhone } from '../../shared/ui.tsx';
import {
  CREDIT_NOTES_KEY, MarginText, OUTCOMES, REASONS, REFUND_METHODS,
  type Creditable, type CreditableInvoice, type CreditNoteDetail, type CreditNoteMode, type CreditNoteOutcome, type CreditNoteReason, type RefundMethod,
} from './CreditNoteParts.tsx';
import { creditFieldError, limitProblem, namesAnyField, outcomeLimit, shownQuantity, startingChoice } from './credit-note-form-rules.ts';

interface LineChoice {
  selected: boolean;
  by: 'quantity' | 'amount';
  value: string;
}

/** What issuing does with the credited amount, in words for the confirmation. */
const MODES: Array<{ value: CreditNoteMode; label: string }> = [
  { value: 'whole', label: 'Whole invoice' }, { value: 'lines', label: 'Chosen lines' }, { value: 'amount', label: 'Custom amount' },
];

/** A credited quantity: a pro-rated remainder to the decimals that mean something, the exact one on hover. */
function Quantity({ quantity, invoiced }: { quantity: string; invoiced?: string | undefined }) {
  const q = shownQuantity(quantity, invoiced);
  return q.exact === null ? <>{q.text}</> : <span title={`Exactly ${q.exact}`}>{q.text}</span>;
}

function outcomeSentence(outcome: CreditNoteOutcome, method: RefundMethod): string {
  if (outcome === 'reduce_due') return 'it reduces the amount due';
  if (outcome === 'points') return 'it is added to the customer’s points';
  const how = REFUND_METHODS.find((m) => m.value === method)?.label ?? method;
  return `it is refunded: ${how.charAt(0).toLowerCase()}${how.slice(1)}`;
}

/** The invoice picker: issued Purchase and Monthly invoices, by number or customer name. */
function InvoicePicker({ value, selectedLabel, onChange }: { value: string | null; selectedLabel: string | null; onChange: (id: string | null) => void }) {
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search.trim(), 250);
  const found = useQuery({
    queryKey: [...CREDIT_NOTES_KEY, 'invoices', debounced],
    queryFn: ({ signal }) => api.get<{ data: CreditableInvoice[] }>('/api/v1/credit-notes/invoices', { q: debounced || undefined, limit: 20 }, signal),
    placeholderData: keepPreviousData,
  });
  const data = (found.data?.data ?? []).map((i) => ({ value: i.id, label: `${i.number ?? i.id} — ${i.customer.name} — ${formatMoney(i.total, i.currency)}` }));
  if (value && !data.some((d) => d.value === value)) data.unshift({ value, label: selectedLabel ?? value });
  return (
    <Select
      label="Invoice"
      placeholder="Search by number or customer"
      searchable
      data={data}
      value={value}
      onChange={onChange}
      searchValue={search}
      onSearchChange={setSearch}
      nothingFoundMessage={found.isPending ? 'Searching…' : 'No issued invoice matches'}
      filter={({ options }) => options}
      w="100%"
      maw={520}
      data-testid="credit-invoice-picker"
    />
  );
}

/**
 * Create a credit note: pick the invoice (or arrive with ?invoiceId=), choose what to credit (whole, lines by quantity or
 * amount, a custom amount), the reason, memo and outcome; the preview (the server's own computation, GET
 * /credit-notes/creditable) shows lines, tax, total and the margin effect as you type. Save as a draft or issue at once.
 */
export function CreditNoteForm({ initialInvoiceId, onCancel }: { initialInvoiceId: string | null; onCancel: () => void }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [invoiceId, setInvoiceId] = useState<string | null>(initialInvoiceId);
  const [mode, setMode] = useState<CreditNoteMode>('whole');
  const [choices, setChoices] = useState<Record<number, LineChoice>>({});
  const [amount, setAmount] = useState('');
  // No reason until one is chosen: a reason nobody chose is not recorded.
  const [reason, setReason] = useState<CreditNoteReason | null>(null);
  const [memo, setMemo] = useState('');
  const [outcome, setOutcome] = useState<CreditNoteOutcome>('reduce_due');
  const [refundMethod, setRefundMethod] = useState<RefundMethod>('bank_transfer');
  const [refundReference, setRefundReference] = useState('');

  const phone = useIsPhone();
  // The lines credited, in the order sent (the preview and the save send the same ones, so a field error's index
  // `lines.N` names the same line in both).
  const chosenLines = useMemo(() => Object.entries(choices)
    .filter(([, c]) => c.selected && c.value.trim() !== '')
    .map(([position, c]) => ({ position: Number(position), by: c.by, value: c.value.trim() })), [choices]);
  const linesParam = chosenLines.map((l) => `${l.position}:${l.by === 'quantity' ? 'q' : 'a'}:${l.value}`).join(',');
  const base = useQuery({
    queryKey: [...CREDIT_NOTES_KEY, 'creditable', invoiceId],
    queryFn: ({ signal }) => api.get<Creditable>('/api/v1/credit-notes/creditable', { invoiceId: invoiceId! }, signal),
    enabled: invoiceId !== null,
  });
  const facts = base.data;
  const currency = facts?.invoice.currency ?? '';
  // A custom amount that is not one (letters, 10.001 SGD) is said next to its field as it is typed, and not previewed.
  const amountProblem = mode === 'amount' && amount.trim() !== '' && currency ? amountInputProblem(amount, currency, '10.00') : null;
  const current = { invoiceId, mode, linesParam, amount: amount.trim() };
  const [previewKey] = useDebouncedValue(current, 300);
  const ready = previewKey.mode === 'whole' || (previewKey.mode === 'lines' && previewKey.linesParam !== '')
    || (previewKey.mode === 'amount' && previewKey.amount !== '' && amountProblem === null);
  const info = useQuery({
    queryKey: [...CREDIT_NOTES_KEY, 'creditable', previewKey, ready],
    queryFn: ({ signal }) => api.get<Creditable>('/api/v1/credit-notes/creditable', {
      invoiceId: previewKey.invoiceId!,
      ...(ready ? { mode: previewKey.mode, lines: previewKey.mode === 'lines' ? previewKey.linesParam : undefined, amount: previewKey.mode === 'amount' ? previewKey.amount : undefined } : {}),
    }, signal),
    enabled: previewKey.invoiceId !== null,
    placeholderData: keepPreviousData,
    retry: false,
  });
  // Each invoice starts on a choice it allows (startingChoice): the whole of it off the amount due (nothing paid), the
  // whole of it to points (paid in full), else a custom amount at the most reducing the amount due allows.
  const [outcomeFor, setOutcomeFor] = useState<string | null>(null);
  useEffect(() => {
    if (!facts || outcomeFor === facts.invoice.id) return;
    setOutcomeFor(facts.invoice.id);
    const start = startingChoice(facts.creditable);
    setOutcome(start.outcome);
    setMode(start.mode);
    setAmount(start.amount);
  }, [facts, outcomeFor]);

  const save = useMutation({
    mutationFn: (issue: boolean) => api.post<CreditNoteDetail>('/api/v1/credit-notes', {
      invoiceId, mode, reason, ...(memo.trim() ? { memo: memo.trim() } : {}),
      ...(mode === 'lines' ? { lines: chosenLines.map((l) => ({ position: l.position, [l.by]: l.value })) } : {}),
      ...(mode === 'amount' ? { amount: amount.trim() } : {}),
      outcome,
      ...(outcome === 'refund' ? { refundMethod, ...(refundMethod !== 'card' && refundReference.trim() ? { refundReference: refundReference.trim() } : {}) } : {}),
      issue,
    }),
    onSuccess: async (note, issue) => {
      await queryClient.invalidateQueries({ queryKey: CREDIT_NOTES_KEY });
      notifications.show({ color: 'teal', title: issue ? 'Credit note issued' : 'Draft saved', message: issue ? `${note.number} is issued to ${note.customer.name}.` : 'The draft posts nothing until it is issued.' });
      void navigate(`/admin/finance/credit-notes/${note.id}`);
    },
  });

  const setChoice = (position: number, patch: Partial<LineChoice>) =>
    setChoices((all) => ({ ...all, [position]: { selected: false, by: 'quantity', value: '', ...all[position], ...patch } }));
  const limit = facts ? outcomeLimit(facts.creditable, outcome, refundMethod) : null;
  const previewError = info.isError ? info.error : null;
  const preview = !previewError && ready ? info.data?.preview ?? null : null;
  // The preview shown is of what the form holds now (not of what it held before the last keystroke).
  const settled = preview !== null && !info.isPlaceholderData && !info.isFetching
    && previewKey.invoiceId === current.invoiceId && previewKey.mode === current.mode && previewKey.linesParam === current.linesParam && previewKey.amount === current.amount;
  // The chosen outcome's own limit, checked before anything is sent: said on the custom amount when that is what is
  // credited, else on the outcome (or the refund method, for a card refund).
  const overLimit = preview && limit !== null ? limitProblem(preview.total, limit, currency) : null;
  const limitField = overLimit === null ? null : mode === 'amount' ? 'amount' : outcome === 'refund' && refundMethod === 'card' ? 'refundMethod' : 'outcome';
  const linePaths = chosenLines.map((l, i) => `lines.${i}.${l.by}`);
  const fieldPaths = ['amount', 'outcome', 'refundMethod', 'reason', 'memo', 'refundReference', ...linePaths];
  /** A field's message: the form's own check first, then the save's, then the preview's (all in words). */
  const fieldMessage = (path: string): string | undefined =>
    (limitField === path ? overLimit ?? undefined : undefined) ?? creditFieldError(save.error, path) ?? creditFieldError(previewError, path);
  const lineMessage = (position: number): string | undefined => {
    const i = chosenLines.findIndex((l) => l.position === position);
    return i < 0 ? undefined : fieldMessage(`lines.${i}.${chosenLines[i]!.by}`) ?? fieldMessage(`lines.${i}`);
  };
  const chosen = mode === 'whole' || (mode === 'lines' && chosenLines.length > 0) || (mode === 'amount' && amount.trim() !== '');
  const missing = [
    ...(reason === null ? ['choose a reason'] : []),
    ...(!chosen ? [mode === 'lines' ? 'choose the lines to credit' : 'enter the amount to credit'] : []),
  ];
  const blocked = missing.length > 0 || overLimit !== null || amountProblem !== null || !settled;
  const invoicedQuantity = (position: number | null) => facts?.lines.find((l) => l.position === position)?.quantity;

  return (
    <Stack maw={1100}>
      <Group justify="space-between">
        <Title order={3}>New credit note</Title>
        <Button variant="subtle" onClick={onCancel}>Back to the list</Button>
      </Group>
      <Paper withBorder radius="md" p="md">
        <Stack>
          <InvoicePicker
            value={invoiceId}
            selectedLabel={facts ? `${facts.invoice.number ?? facts.invoice.id} — ${facts.invoice.customer.name} — ${formatMoney(facts.invoice.total, facts.invoice.currency)}` : null}
            onChange={(id) => { setInvoiceId(id); setChoices({}); }}
          />
          {invoiceId && base.isPending ? <LoadingState /> : null}
          {base.isError ? <ErrorState error={base.error} onRetry={() => void base.refetch()} /> : null}
          {facts ? (
            <Stack gap="xs">
              <Text size="sm" data-testid="credit-invoice-facts">
                {facts.invoice.number} · {facts.invoice.customer.name} · total {formatMoney(facts.invoice.total, currency)} · paid {formatMoney(facts.invoice.amountPaid, currency)} · due {formatMoney(facts.invoice.amountDue, currency)}
              </Text>
              <Text size="sm" c="dimmed">
                Left to credit {formatMoney(facts.creditable.total, currency)}; at most {formatMoney(facts.creditable.reduceDue, currency)} off the amount due, {formatMoney(facts.creditable.pointsOrRefund, currency)} to points or refunded ({formatMoney(facts.creditable.card, currency)} to the card).
              </Text>
              {facts.creditable.notCreditableReason ? (
                <Alert color="orange" icon={<IconAlertCircle size={18} />} title="This invoice takes no credit note">{facts.creditable.notCreditableReason}</Alert>
              ) : null}
            </Stack>
          ) : null}
        </Stack>
      </Paper>

      {facts && !facts.creditable.notCreditableReason ? (
        <>
          <Paper withBorder radius="md" p="md">
            <Stack>
              {/* On a phone the three choices stand one under another: side by side, "Custom amount" was cut to "Custon". */}
              {phone ? (
                <Radio.Group label="What to credit" value={mode} onChange={(v) => setMode(v)}>
                  <Stack gap={6} mt={4}>
                    {MODES.map((m) => <Radio key={m.value} value={m.value} label={m.label} />)}
                  </Stack>
                </Radio.Group>
              ) : (
                <SegmentedControl value={mode} onChange={(v) => setMode(v)} data={MODES} w="100%" maw={420} aria-label="What to credit" />
              )}
              {mode === 'lines' ? (
                <Table.ScrollContainer minWidth={640}>
                <Table withTableBorder aria-label="Invoice lines">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th />
                      <Table.Th>Line</Table.Th>
                      <Table.Th ta="right">Invoiced</Table.Th>
                      <Table.Th ta="right">Left to credit</Table.Th>
                      <Table.Th>Credit by</Table.Th>
                      <Table.Th>Quantity or net amount</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {facts.lines.map((l, i) => {
                      const c = choices[l.position];
                      return (
                        <Table.Tr key={l.position}>
                          <Table.Td>
                            <Checkbox aria-label={`Credit line ${l.position}`} checked={c?.selected ?? false} onChange={(e) => setChoice(l.position, { selected: e.currentTarget.checked })} />
                          </Table.Td>
                          <Table.Td><Text size="sm">{l.position}. {l.description}</Text></Table.Td>
                          <Table.Td ta="right"><Text size="sm">{l.quantity} · {formatMoney(l.amount, currency)}</Text></Table.Td>
                          <Table.Td ta="right"><Text size="sm"><Quantity quantity={l.creditableQuantity} invoiced={l.quantity} /> · {formatMoney(l.creditableAmount, currency)}</Text></Table.Td>
                          <Table.Td>
                            <Select size="xs" w={120} data={[{ value: 'quantity', label: 'Quantity' }, { value: 'amount', label: 'Amount' }]} value={c?.by ?? 'quantity'}
                              onChange={(v) => setChoice(l.position, { by: (v as 'quantity' | 'amount') ?? 'quantity' })} allowDeselect={false} aria-label={`Credit line ${l.position} by`} />
                          </Table.Td>
                          <Table.Td>
                            <TextInput size="xs" w={120} value={c?.value ?? ''} aria-label={`Line ${l.position} quantity or amount`}
                              error={lineMessage(l.position)}
                              onChange={(e) => setChoice(l.position, { value: e.currentTarget.value, selected: true })} data-row={i} />
                          </Table.Td>
                        </Table.Tr>
                      );
                    })}
                  </Table.Tbody>
                </Table>
                </Table.ScrollContainer>
              ) : null}
              {mode === 'amount' ? (
                <TextInput label={`Amount, tax included (${currency})`} inputMode="decimal" value={amount} onChange={(e) => setAmount(e.currentTarget.value)} w={220}
                  error={amountProblem ?? fieldMessage('amount')} />
              ) : null}
              <Group align="flex-start">
                <Select label="Reason" placeholder="Choose a reason" required data={REASONS} value={reason} onChange={(v) => setReason(v)} allowDeselect={false} w={220}
                  error={fieldMessage('reason')} />
                <Textarea label="Memo (on the credit note)" value={memo} onChange={(e) => setMemo(e.currentTarget.value)} autosize minRows={1} w="100%" maw={480} maxLength={2000} />
              </Group>
              <Radio.Group label="Outcome" value={outcome} onChange={(v) => setOutcome(v)} error={fieldMessage('outcome')}>
                <Group mt={4}>
                  {OUTCOMES.map((o) => <Radio key={o.value} value={o.value} label={o.label} />)}
                </Group>
              </Radio.Group>
              {outcome === 'refund' ? (
                <Group align="flex-end">
                  <Select label="Refund method" data={REFUND_METHODS} value={refundMethod} onChange={(v) => v && setRefundMethod(v)} allowDeselect={false} w={240} error={fieldMessage('refundMethod')} />
                  {refundMethod !== 'card' ? <TextInput label="Reference" value={refundReference} onChange={(e) => setRefundReference(e.currentTarget.value)} w={240} error={fieldMessage('refundReference')} /> : null}
                </Group>
              ) : null}
              {limit !== null ? <Text size="xs" c="dimmed">This outcome allows at most {formatMoney(limit, currency)}.</Text> : null}
            </Stack>
          </Paper>

          <Paper withBorder radius="md" p="md" aria-label="Preview">
            <Stack gap="xs">
              <Title order={5}>Preview</Title>
              {/* A problem with one field is said on that field; anything else here. */}
              {previewError && !namesAnyField(previewError, fieldPaths) ? (
                <Alert color="red" variant="light" icon={<IconAlertCircle size={18} />} data-testid="credit-preview-error">{errorMessage(previewError)}</Alert>
              ) : null}
              {preview ? (
                <>
                  <Table.ScrollContainer minWidth={560}>
                  <Table aria-label="Credited lines">
                    <Table.Thead>
                      <Table.Tr><Table.Th>Line</Table.Th><Table.Th ta="right">Qty</Table.Th><Table.Th ta="right">Net</Table.Th><Table.Th ta="right">Tax</Table.Th><Table.Th ta="right">Cost</Table.Th><Table.Th ta="right">Margin</Table.Th></Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {preview.lines.map((l, i) => (
                        <Table.Tr key={i}>
                          <Table.Td><Text size="sm">{l.invoiceLinePosition}. {l.description}</Text></Table.Td>
                          <Table.Td ta="right">{l.quantity === null ? '—' : <Quantity quantity={l.quantity} invoiced={invoicedQuantity(l.invoiceLinePosition)} />}</Table.Td>
                          <Table.Td ta="right">{formatMoney(l.amount)}</Table.Td>
                          <Table.Td ta="right">{formatMoney(l.tax)}</Table.Td>
                          <Table.Td ta="right">{l.cost === null ? <Text size="sm" c="dimmed">no cost known</Text> : formatMoney(l.cost)}</Table.Td>
                          <Table.Td ta="right">{l.margin === null ? '—' : formatMoney(l.margin)}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                  </Table.ScrollContainer>
                  <Text size="sm">Subtotal {formatMoney(preview.subtotal, currency)} · tax {formatMoney(preview.tax, currency)}</Text>
                  <Text fw={650} data-testid="credit-preview-total">Total credited {formatMoney(preview.total, currency)}</Text>
                  <MarginText margin={preview.margin} cost={preview.cost} costKnown={preview.costKnown} currency={currency} />
                </>
              ) : !previewError || namesAnyField(previewError, fieldPaths) ? <Text size="sm" c="dimmed">Choose what to credit to see the totals.</Text> : null}
            </Stack>
          </Paper>
          <FormError error={save.error} fields={fieldPaths} />
          <Group>
            <ConfirmButton
              label="Issue credit note"
              title="Issue this credit note?"
              confirmLabel="Issue credit note"
              buttonProps={{ size: 'sm', variant: 'filled' }}
              disabled={blocked || save.isPending}
              message={preview && facts ? (
                <Text size="sm" data-testid="credit-issue-confirm">
                  {formatMoney(preview.total, currency)} credited on {facts.invoice.number ?? 'the invoice'} to {facts.invoice.customer.name}: {outcomeSentence(outcome, refundMethod)}.
                  {' '}It is numbered and posted at once, and cannot be changed afterwards.
                </Text>
              ) : ''}
              onConfirm={() => save.mutateAsync(true)}
            />
            <Button variant="default" onClick={() => save.mutate(false)} loading={save.isPending && save.variables === false} disabled={blocked}>Save draft</Button>
          </Group>
          {missing.length > 0 ? (
            <Text size="sm" c="dimmed" data-testid="credit-missing">To issue or save: {missing.join(', ')}.</Text>
          ) : null}
        </>
      ) : null}
    </Stack>
  );
}
