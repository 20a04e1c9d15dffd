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
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatMoney, toMicros } from '../../shared/money.ts';
import { ConfirmButton } from '../../shared/ConfirmButton.tsx';
import { ErrorState, LoadingState } from '../../shared/ui.tsx';
import {
  CREDIT_NOTES_KEY, MarginText, OUTCOMES, REASONS, REFUND_METHODS,
  type Creditable, type CreditableInvoice, type CreditNoteDetail, type CreditNoteMode, type CreditNoteOutcome, type CreditNoteReason, type RefundMethod,
} from './CreditNoteParts.tsx';

interface LineChoice {
  selected: boolean;
  by: 'quantity' | 'amount';
  value: string;
}

/** What issuing does with the credited amount, in words for the confirmation. */
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
  const [reason, setReason] = useState<CreditNoteReason>('service_issue');
  const [memo, setMemo] = useState('');
  const [outcome, setOutcome] = useState<CreditNoteOutcome>('reduce_due');
  const [refundMethod, setRefundMethod] = useState<RefundMethod>('bank_transfer');
  const [refundReference, setRefundReference] = useState('');

  const linesParam = useMemo(() => Object.entries(choices)
    .filter(([, c]) => c.selected && c.value.trim() !== '')
    .map(([position, c]) => `${position}:${c.by === 'quantity' ? 'q' : 'a'}:${c.value.trim()}`)
    .join(','), [choices]);
  const [previewKey] = useDebouncedValue({ invoiceId, mode, linesParam, amount: amount.trim() }, 300);
  const ready = previewKey.mode === 'whole' || (previewKey.mode === 'lines' && previewKey.linesParam !== '') || (previewKey.mode === 'amount' && previewKey.amount !== '');
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
  // The invoice's facts without a preview, so a bad choice (422) still shows the invoice and its lines.
  const base = useQuery({
    queryKey: [...CREDIT_NOTES_KEY, 'creditable', invoiceId],
    queryFn: ({ signal }) => api.get<Creditable>('/api/v1/credit-notes/creditable', { invoiceId: invoiceId! }, signal),
    enabled: invoiceId !== null,
  });
  const facts = base.data;
  const currency = facts?.invoice.currency ?? '';
  // Each invoice starts on an outcome it allows: off the amount due while something is due, else to points (a paid
  // invoice has nothing to reduce).
  const [outcomeFor, setOutcomeFor] = useState<string | null>(null);
  useEffect(() => {
    if (!facts || outcomeFor === facts.invoice.id) return;
    setOutcomeFor(facts.invoice.id);
    setOutcome((toMicros(facts.creditable.reduceDue) ?? 0n) > 0n ? 'reduce_due' : 'points');
  }, [facts, outcomeFor]);

  const save = useMutation({
    mutationFn: (issue: boolean) => api.post<CreditNoteDetail>('/api/v1/credit-notes', {
      invoiceId, mode, reason, ...(memo.trim() ? { memo: memo.trim() } : {}),
      ...(mode === 'lines' ? {
        lines: Object.entries(choices).filter(([, c]) => c.selected).map(([position, c]) => ({ position: Number(position), [c.by]: c.value.trim() })),
      } : {}),
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
  const limit = facts ? (outcome === 'reduce_due' ? facts.creditable.reduceDue : outcome === 'refund' && refundMethod === 'card' ? facts.creditable.card : facts.creditable.pointsOrRefund) : null;
  const previewError = info.isError ? info.error : null;
  const preview = !previewError && ready ? info.data?.preview ?? null : null;

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
              <SegmentedControl
                value={mode}
                onChange={(v) => setMode(v)}
                data={[{ value: 'whole', label: 'Whole invoice' }, { value: 'lines', label: 'Chosen lines' }, { value: 'amount', label: 'Custom amount' }]}
                w="100%"
                maw={420}
                aria-label="What to credit"
              />
              {mode === 'lines' ? (
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
                          <Table.Td ta="right"><Text size="sm">{l.creditableQuantity} · {formatMoney(l.creditableAmount, currency)}</Text></Table.Td>
                          <Table.Td>
                            <Select size="xs" w={120} data={[{ value: 'quantity', label: 'Quantity' }, { value: 'amount', label: 'Amount' }]} value={c?.by ?? 'quantity'}
                              onChange={(v) => setChoice(l.position, { by: (v as 'quantity' | 'amount') ?? 'quantity' })} allowDeselect={false} aria-label={`Credit line ${l.position} by`} />
                          </Table.Td>
                          <Table.Td>
                            <TextInput size="xs" w={120} value={c?.value ?? ''} aria-label={`Line ${l.position} quantity or amount`}
                              error={fieldError(save.error, `lines.${Object.keys(choices).filter((k) => choices[Number(k)]?.selected).indexOf(String(l.position))}.${c?.by ?? 'quantity'}`)}
                              onChange={(e) => setChoice(l.position, { value: e.currentTarget.value, selected: true })} data-row={i} />
                          </Table.Td>
                        </Table.Tr>
                      );
                    })}
                  </Table.Tbody>
                </Table>
              ) : null}
              {mode === 'amount' ? (
                <TextInput label={`Amount, tax included (${currency})`} value={amount} onChange={(e) => setAmount(e.currentTarget.value)} w={220} error={fieldError(save.error, 'amount')} />
              ) : null}
              <Group align="flex-start">
                <Select label="Reason" data={REASONS} value={reason} onChange={(v) => v && setReason(v)} allowDeselect={false} w={220} />
                <Textarea label="Memo (on the credit note)" value={memo} onChange={(e) => setMemo(e.currentTarget.value)} autosize minRows={1} w="100%" maw={480} maxLength={2000} />
              </Group>
              <Radio.Group label="Outcome" value={outcome} onChange={(v) => setOutcome(v)} error={fieldError(save.error, 'outcome')}>
                <Group mt={4}>
                  {OUTCOMES.map((o) => <Radio key={o.value} value={o.value} label={o.label} />)}
                </Group>
              </Radio.Group>
              {outcome === 'refund' ? (
                <Group align="flex-end">
                  <Select label="Refund method" data={REFUND_METHODS} value={refundMethod} onChange={(v) => v && setRefundMethod(v)} allowDeselect={false} w={240} error={fieldError(save.error, 'refundMethod')} />
                  {refundMethod !== 'card' ? <TextInput label="Reference" value={refundReference} onChange={(e) => setRefundReference(e.currentTarget.value)} w={240} /> : null}
                </Group>
              ) : null}
              {limit !== null ? <Text size="xs" c="dimmed">This outcome allows at most {formatMoney(limit, currency)}.</Text> : null}
            </Stack>
          </Paper>

          <Paper withBorder radius="md" p="md" aria-label="Preview">
            <Stack gap="xs">
              <Title order={5}>Preview</Title>
              {previewError ? <Alert color="red" variant="light" icon={<IconAlertCircle size={18} />} data-testid="credit-preview-error">{errorMessage(previewError)}</Alert> : null}
              {preview ? (
                <>
                  <Table aria-label="Credited lines">
                    <Table.Thead>
                      <Table.Tr><Table.Th>Line</Table.Th><Table.Th ta="right">Qty</Table.Th><Table.Th ta="right">Net</Table.Th><Table.Th ta="right">Tax</Table.Th><Table.Th ta="right">Cost</Table.Th><Table.Th ta="right">Margin</Table.Th></Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {preview.lines.map((l, i) => (
                        <Table.Tr key={i}>
                          <Table.Td><Text size="sm">{l.invoiceLinePosition}. {l.description}</Text></Table.Td>
                          <Table.Td ta="right">{l.quantity ?? '—'}</Table.Td>
                          <Table.Td ta="right">{formatMoney(l.amount)}</Table.Td>
                          <Table.Td ta="right">{formatMoney(l.tax)}</Table.Td>
                          <Table.Td ta="right">{l.cost === null ? <Text size="sm" c="dimmed">no cost known</Text> : formatMoney(l.cost)}</Table.Td>
                          <Table.Td ta="right">{l.margin === null ? '—' : formatMoney(l.margin)}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                  <Text size="sm">Subtotal {formatMoney(preview.subtotal, currency)} · tax {formatMoney(preview.tax, currency)}</Text>
                  <Text fw={650} data-testid="credit-preview-total">Total credited {formatMoney(preview.total, currency)}</Text>
                  <MarginText margin={preview.margin} cost={preview.cost} costKnown={preview.costKnown} currency={currency} />
                </>
              ) : !previewError ? <Text size="sm" c="dimmed">Choose what to credit to see the totals.</Text> : null}
            </Stack>
          </Paper>
          <FormError error={save.error} fields={['amount', 'outcome', 'refundMethod']} />
          <Group>
            <ConfirmButton
              label="Issue credit note"
              title="Issue this credit note?"
              confirmLabel="Issue credit note"
              buttonProps={{ size: 'sm', variant: 'filled' }}
              disabled={!preview || save.isPending}
              message={preview && facts ? (
                <Text size="sm" data-testid="credit-issue-confirm">
                  {formatMoney(preview.total, currency)} credited on {facts.invoice.number ?? 'the invoice'} to {facts.invoice.customer.name}: {outcomeSentence(outcome, refundMethod)}.
                  {' '}It is numbered and posted at once, and cannot be changed afterwards.
                </Text>
              ) : ''}
              onConfirm={() => save.mutateAsync(true)}
            />
            <Button variant="default" onClick={() => save.mutate(false)} loading={save.isPending && save.variables === false} disabled={!preview}>Save draft</Button>
          </Group>
        </>
      ) : null}
    </Stack>
  );
}
