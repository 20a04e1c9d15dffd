import { useEffect, useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Alert, Button, Checkbox, Group, Modal, SegmentedControl, Stack, Table, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { api, apiRequest, newIdempotencyKey } from '../../shared/api.ts';
import { FormError } from '../../shared/forms.tsx';
import { formatMicros, formatMoney, toMicros } from '../../shared/money.ts';
import { currencyDecimals } from '../../shared/money.ts';
import { CustomerPicker, type PickedCustomer } from '../invoices/invoice-ui.tsx';
import { statementPath, type BankLineView, type LineOpenInvoices } from './bank-import-types.ts';

type Plan = Record<string, { on: boolean; amount: string }>;

/** The proposal's plan: the given invoices, oldest first, each taking what it owes up to what is left of the line. */
function initialPlan(invoices: LineOpenInvoices['data'], chosen: readonly string[], amount: string, decimals: number): Plan {
  let left = toMicros(amount) ?? 0n;
  const plan: Plan = {};
  for (const inv of invoices) {
    const due = toMicros(inv.amountDue) ?? 0n;
    if (chosen.includes(inv.id) && left > 0n) {
      const take = due < left ? due : left;
      plan[inv.id] = { on: true, amount: formatMicros(take, decimals) };
      left -= take;
    } else {
      plan[inv.id] = { on: false, amount: '' };
    }
  }
  return plan;
}

/**
 * Accept a line with edits: the customer (or none: an unassigned payment), which of that customer's open invoices it
 * pays and how much of each, and what happens to the rest (kept on the payment, or turned into points).
 */
export function AcceptLineDialog({ statementId, line, onClose, onDone }: {
  statementId: string;
  line: BankLineView | null;
  onClose: () => void;
  onDone: () => Promise<void>;
}) {
  const [customer, setCustomer] = useState<PickedCustomer | null>(null);
  const [plan, setPlan] = useState<Plan>({});
  const [leftover, setLeftover] = useState<'keep' | 'points'>('keep');
  const [remark, setRemark] = useState('');
  const decimals = currencyDecimals(line?.currency ?? 'SGD');

  useEffect(() => {
    setCustomer(line?.customer ? { ...line.customer, currency: line.currency } : null);
    setPlan({});
    setLeftover('keep');
    setRemark('');
  }, [line]);

  const invoices = useQuery({
    queryKey: ['bank-line-open-invoices', line?.id, customer?.id],
    queryFn: ({ signal }) => api.get<LineOpenInvoices>(statementPath(statementId, 'lines', line!.id, 'open-invoices'), { customerId: customer!.id }, signal),
    enabled: !!line && !!customer,
  });
  useEffect(() => {
    if (!invoices.data || !line) return;
    const proposed = customer?.id === line.customer?.id ? line.invoices.map((i) => i.id) : [];
    setPlan(initialPlan(invoices.data.data, proposed, line.amount, decimals));
  }, [invoices.data, line, customer?.id, decimals]);

  const accept = useMutation({
    mutationFn: async () => {
      const allocations = Object.entries(plan).filter(([, p]) => p.on).map(([invoiceId, p]) => ({ invoiceId, amount: p.amount.trim() }));
      const body = customer
        ? { customerId: customer.id, allocations, leftover, ...(remark.trim() ? { remark: remark.trim() } : {}) }
        : { customerId: null, allocations: [], ...(remark.trim() ? { remark: remark.trim() } : {}) };
      return (await apiRequest<BankLineView>(statementPath(statementId, 'lines', line!.id, 'accept'), {
        method: 'POST', body, headers: { 'idempotency-key': newIdempotencyKey('bank-accept') },
      })).data;
    },
    onSuccess: async (l) => {
      notifications.show({ color: 'teal', title: 'Payment recorded', message: `Line ${l.lineNo} is now a payment of ${formatMoney(l.amount, l.currency)}.` });
      close();
      await onDone();
    },
  });
  const close = () => {
    accept.reset();
    onClose();
  };
  if (!line) return null;

  const lineMicros = toMicros(line.amount) ?? 0n;
  const allocated = Object.values(plan).filter((p) => p.on).reduce((s, p) => s + (toMicros(p.amount) ?? 0n), 0n);
  const rest = lineMicros - allocated;
  const over = rest < 0n;
  const currencyMismatch = customer && customer.currency !== line.currency;

  return (
    <Modal opened={!!line} onClose={close} title={`Accept line ${line.lineNo}: ${formatMoney(line.amount, line.currency)}`} size="lg" centered>
      <Stack>
        <FormError error={accept.error} />
        <Text size="sm" c="dimmed">
          {line.bookedOn} · {line.reference ?? 'no reference'}{line.payerName ? ` · ${line.payerName}` : ''}
        </Text>
        <CustomerPicker label="Customer (empty: record as unassigned)" value={customer} onChange={setCustomer} />
        {currencyMismatch ? <Alert color="red" variant="light">This customer is billed in {customer.currency}; the line is in {line.currency}.</Alert> : null}
        {customer && invoices.data ? (
          invoices.data.data.length === 0 ? (
            <Text size="sm" c="dimmed">No open invoice of {customer.name} in {line.currency}: the payment stays unallocated or becomes points.</Text>
          ) : (
            <Table aria-label="Open invoices" verticalSpacing={4}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th />
                  <Table.Th>Invoice</Table.Th>
                  <Table.Th>Due</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Owes</Table.Th>
                  <Table.Th style={{ width: 140 }}>Pay</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {invoices.data.data.map((inv) => {
                  const p = plan[inv.id] ?? { on: false, amount: '' };
                  return (
                    <Table.Tr key={inv.id}>
                      <Table.Td>
                        <Checkbox aria-label={`Pay ${inv.number ?? inv.id}`} checked={p.on}
                          onChange={(e) => {
                            const on = e.currentTarget.checked;
                            setPlan((old) => ({ ...old, [inv.id]: { on, amount: on ? (p.amount || inv.amountDue) : '' } }));
                          }} />
                      </Table.Td>
                      <Table.Td><Text size="sm">{inv.number ?? inv.id}</Text></Table.Td>
                      <Table.Td><Text size="sm">{inv.dueAt?.slice(0, 10) ?? '—'}</Text></Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}><Text size="sm">{inv.amountDue}</Text></Table.Td>
                      <Table.Td>
                        <TextInput size="xs" aria-label={`Amount for ${inv.number ?? inv.id}`} disabled={!p.on} value={p.amount} inputMode="decimal"
                          onChange={(e) => {
                            const amount = e.currentTarget.value;
                            setPlan((old) => ({ ...old, [inv.id]: { on: true, amount } }));
                          }} />
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          )
        ) : null}
        {customer ? (
          <Group justify="space-between">
            <Text size="sm" c={over ? 'red' : undefined}>
              Allocated {formatMoney(formatMicros(allocated, decimals), line.currency)} · left {formatMoney(formatMicros(rest, decimals), line.currency)}
            </Text>
            <SegmentedControl size="xs" aria-label="Leftover" value={leftover} onChange={(v) => setLeftover(v)}
              data={[{ value: 'keep', label: 'Keep on payment' }, { value: 'points', label: 'Turn into points' }]} />
          </Group>
        ) : null}
        <TextInput label="Remark (optional)" value={remark} maxLength={1000} onChange={(e) => setRemark(e.currentTarget.value)} />
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>Cancel</Button>
          <Button loading={accept.isPending} disabled={over || !!currencyMismatch} onClick={() => accept.mutate()}>
            Record payment
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
