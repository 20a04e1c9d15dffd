import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Badge, Button, Group, Modal, Stack, Text, type MantineSize } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { apiRequest, newIdempotencyKey } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatMoney } from '../../shared/money.ts';
import { INVOICES_KEY } from '../invoices/invoice-types.ts';
import { CustomerPicker, type PickedCustomer } from '../invoices/invoice-ui.tsx';
import {
  PAYMENTS_KEY, methodLabel, paymentPath, paymentStatusColor, paymentStatusLabel, type PaymentDetail, type PaymentSummary,
} from './finance-types.ts';

export function PaymentStatusBadge({ status, size = 'sm' }: { status: string; size?: MantineSize }) {
  return (
    <Badge color={paymentStatusColor(status)} variant="light" radius="sm" size={size} tt="none" style={{ minWidth: 'max-content' }} data-testid="payment-status">
      {paymentStatusLabel(status)}
    </Badge>
  );
}

/** What a person calls a payment: "Bank transfer SGD 1,200.00". */
export function paymentName(p: Pick<PaymentSummary, 'method' | 'amount' | 'currency'>): string {
  return `${methodLabel(p.method)} ${formatMoney(p.amount, p.currency)}`;
}

/** Give an unassigned payment to its payer: a customer billed in the payment's currency. */
export function AssignDialog({ payment, opened, onClose, onDone }: {
  payment: PaymentSummary | null;
  opened: boolean;
  onClose: () => void;
  onDone?: (p: PaymentDetail) => void;
}) {
  const queryClient = useQueryClient();
  const [customer, setCustomer] = useState<PickedCustomer | null>(null);
  const [missing, setMissing] = useState(false);
  const act = useMutation({
    mutationFn: async () =>
      (await apiRequest<PaymentDetail>(paymentPath(payment!.id, 'assign'), {
        method: 'POST', body: { customerId: customer!.id }, headers: { 'idempotency-key': newIdempotencyKey('assign') },
      })).data,
    onSuccess: async (p) => {
      notifications.show({ color: 'teal', title: 'Payment assigned', message: `${paymentName(p)} now belongs to ${p.customer?.name ?? 'the customer'}.` });
      close();
      await queryClient.invalidateQueries({ queryKey: PAYMENTS_KEY });
      onDone?.(p);
    },
  });
  const close = () => {
    setCustomer(null);
    setMissing(false);
    act.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!customer) {
      setMissing(true);
      return;
    }
    act.mutate();
  };
  return (
    <Modal opened={opened && !!payment} onClose={close} title="Assign to a customer" centered>
      {payment ? (
        <form noValidate aria-label="Assign payment" onSubmit={submit}>
          <Stack>
            <FormError error={act.error} fields={['customerId']} />
            <Text size="sm">
              {paymentName(payment)} received {payment.receivedOn}
              {payment.reference ? ` (reference ${payment.reference})` : ''} goes to the customer you choose. The customer must be billed in {payment.currency}.
            </Text>
            <CustomerPicker
              label="Customer"
              value={customer}
              onChange={(c) => {
                setCustomer(c);
                setMissing(false);
              }}
              required
              error={missing ? 'Choose the customer who paid' : fieldError(act.error, 'customerId')}
            />
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" loading={act.isPending}>
                Assign
              </Button>
            </Group>
          </Stack>
        </form>
      ) : null}
    </Modal>
  );
}

/** Everything a payment change can move: the payments, the invoices it touches. */
export async function refreshAfterPaymentChange(queryClient: ReturnType<typeof useQueryClient>): Promise<void> {
  await Promise.all([queryClient.invalidateQueries({ queryKey: PAYMENTS_KEY }), queryClient.invalidateQueries({ queryKey: INVOICES_KEY })]);
}
