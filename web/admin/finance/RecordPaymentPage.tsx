import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Anchor, Button, Group, Paper, Select, SimpleGrid, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconArrowLeft, IconInfoCircle } from '@tabler/icons-react';
import { api, apiRequest, isFinalRefusal, newIdempotencyKey } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatMoney, toMicros } from '../../shared/money.ts';
import { useSession } from '../../shared/session.tsx';
import { PageHeader } from '../../shared/ui.tsx';
import { INVOICES_KEY, invoicePath, type InvoiceDetail } from '../invoices/invoice-types.ts';
import { CustomerPicker, type PickedCustomer } from '../invoices/invoice-ui.tsx';
import { PAYMENT_CURRENCIES, PAYMENT_METHODS, paymentUrl, todayIso, type PaymentDetail, type PaymentMethod } from './finance-types.ts';
import { paymentName, refreshAfterPaymentChange } from './finance-ui.tsx';

const FIELDS = ['method', 'amount', 'currency', 'receivedOn', 'reference', 'remark', 'customerId'];

/**
 * Record money received: method, amount, currency, received day, reference, remark and the payer when known. From an
 * invoice (`?customerId=…&invoiceId=…`, the Invoice app's "Record payment") the customer and the amount due are filled in,
 * and the payment opens with that invoice ready to allocate.
 */
export function RecordPaymentPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const session = useSession();
  const [params] = useSearchParams();
  const invoiceId = params.get('invoiceId');
  const presetCustomer = params.get('customerId');
  const [method, setMethod] = useState<PaymentMethod>('bank_transfer');
  const [amount, setAmount] = useState('');
  const [currency, setCurrency] = useState<string | null>(null);
  const [receivedOn, setReceivedOn] = useState(todayIso());
  const [reference, setReference] = useState('');
  const [remark, setRemark] = useState('');
  const [customer, setCustomer] = useState<PickedCustomer | null>(() => (presetCustomer ? { id: presetCustomer, name: presetCustomer, currency: '' } : null));
  const [checked, setChecked] = useState(false);
  // The idempotency key of this form: a double click or a retry after a lost answer records the payment once.
  const [idemKey, setIdemKey] = useState(() => newIdempotencyKey('payment'));

  const invoice = useQuery({
    queryKey: [...INVOICES_KEY, invoiceId, 'for-payment'],
    queryFn: ({ signal }) => api.get<InvoiceDetail>(invoicePath(invoiceId!), undefined, signal),
    enabled: !!invoiceId && session.apps.includes('invoice'),
  });
  // Only a customer id in the address (no invoice, or no Invoice app): its name and currency from the Customer app.
  const presetRow = useQuery({
    queryKey: ['customers', presetCustomer, 'for-payment'],
    queryFn: ({ signal }) => api.get<{ id: string; name: string; currency: string }>(`/api/v1/customers/${encodeURIComponent(presetCustomer!)}`, undefined, signal),
    enabled: !!presetCustomer && !(invoiceId && session.apps.includes('invoice')) && session.apps.includes('customer'),
  });
  const presetData = presetRow.data;
  useEffect(() => {
    if (!presetData) return;
    setCustomer((c) => (c && c.id === presetData.id ? { id: presetData.id, name: presetData.name, currency: presetData.currency } : c));
    setCurrency((cur) => cur ?? presetData.currency);
  }, [presetData]);
  const inv = invoice.data;
  useEffect(() => {
    if (!inv) return;
    setCustomer({ id: inv.customer.id, name: inv.customer.name, currency: inv.currency });
    setCurrency(inv.currency);
    setAmount((a) => a || inv.amountDue);
    setReference((r) => r || (inv.number ?? ''));
  }, [inv]);

  const save = useMutation({
    mutationFn: async () =>
      (await apiRequest<PaymentDetail>('/api/v1/payments', {
        method: 'POST',
        headers: { 'idempotency-key': idemKey },
        body: {
          method, amount: amount.trim(), currency, receivedOn,
          ...(reference.trim() ? { reference: reference.trim() } : {}),
          ...(remark.trim() ? { remark: remark.trim() } : {}),
          ...(customer ? { customerId: customer.id } : {}),
        },
      })).data,
    onSuccess: async (p) => {
      notifications.show({
        color: 'teal',
        title: 'Payment recorded',
        message: p.customer ? `${paymentName(p)} from ${p.customer.name}.` : `${paymentName(p)} waits in Unassigned until you know its payer.`,
      });
      await refreshAfterPaymentChange(queryClient);
      void navigate(`${paymentUrl(p.id)}${invoiceId && p.customer ? `?invoiceId=${encodeURIComponent(invoiceId)}` : ''}`);
    },
    // Refused (4xx): nothing was written, the corrected form is a new request. A lost answer keeps the key: the retry is the same request.
    onError: (e) => {
      if (isFinalRefusal(e)) setIdemKey(newIdempotencyKey('payment'));
    },
  });

  const amountMicros = toMicros(amount);
  const amountProblem = !checked ? undefined : amount.trim() === '' ? 'Required' : amountMicros === null || amountMicros <= 0n ? 'An amount above 0, such as 120.00' : undefined;
  const currencyProblem = checked && !currency ? 'Required' : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setChecked(true);
    const m = toMicros(amount);
    if (!currency || m === null || m <= 0n) return;
    save.mutate();
  };

  return (
    <Stack maw={860}>
      <Anchor component={Link} to="/admin/finance/payments" size="sm">
        <Group gap={4}>
          <IconArrowLeft size={14} /> All payments
        </Group>
      </Anchor>
      <PageHeader title="Record payment" description="Money that reached your bank account, a cheque, cash at the counter, or a card payment taken outside the portal." />
      {inv ? (
        <Alert color="blue" variant="light" icon={<IconInfoCircle size={18} />} title={`For invoice ${inv.number ?? inv.id}`}>
          {inv.customer.name} owes {formatMoney(inv.amountDue, inv.currency)} on it. After recording, allocate the payment to it on the next screen.
        </Alert>
      ) : null}
      <Paper withBorder radius="md" p="lg">
        <form noValidate aria-label="Record payment" onSubmit={submit}>
          <Stack>
            <FormError error={save.error} fields={FIELDS} />
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <Select
                label="Method"
                data={PAYMENT_METHODS}
                value={method}
                onChange={(v) => v && setMethod(v)}
                allowDeselect={false}
                required
                error={fieldError(save.error, 'method')}
              />
              <TextInput
                label="Received on"
                type="date"
                value={receivedOn}
                max={todayIso()}
                onChange={(e) => setReceivedOn(e.currentTarget.value)}
                required
                description="The day the money arrived"
                error={fieldError(save.error, 'receivedOn')}
              />
              <TextInput
                label="Amount"
                inputMode="decimal"
                placeholder="0.00"
                value={amount}
                onChange={(e) => setAmount(e.currentTarget.value)}
                required
                error={amountProblem ?? fieldError(save.error, 'amount')}
              />
              <Select
                label="Currency"
                placeholder="Choose"
                data={PAYMENT_CURRENCIES}
                value={currency}
                onChange={setCurrency}
                allowDeselect={false}
                required
                description={customer?.currency ? `${customer.name} is billed in ${customer.currency}` : undefined}
                error={currencyProblem ?? fieldError(save.error, 'currency')}
              />
            </SimpleGrid>
            <CustomerPicker
              label="Customer"
              placeholder="Type to search; leave empty if the payer is unknown"
              value={customer}
              onChange={(c) => {
                setCustomer(c);
                if (c?.currency) setCurrency(c.currency);
              }}
              error={fieldError(save.error, 'customerId')}
            />
            {!customer ? (
              <Text size="xs" c="dimmed" mt={-8}>
                No customer: the payment waits in the Unassigned list until you assign it.
              </Text>
            ) : null}
            <TextInput
              label="Reference"
              placeholder="Bank reference, cheque number…"
              value={reference}
              onChange={(e) => setReference(e.currentTarget.value)}
              maxLength={200}
              error={fieldError(save.error, 'reference')}
            />
            <Textarea label="Remark" value={remark} onChange={(e) => setRemark(e.currentTarget.value)} autosize minRows={2} maxLength={1000} error={fieldError(save.error, 'remark')} />
            <Group justify="flex-end">
              <Button variant="default" component={Link} to="/admin/finance/payments">
                Cancel
              </Button>
              <Button type="submit" loading={save.isPending}>
                Record payment
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
    </Stack>
  );
}
