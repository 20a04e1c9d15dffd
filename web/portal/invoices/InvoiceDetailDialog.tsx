import type { ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Divider, Group, Modal, SimpleGrid, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { IconCurrencyDollar, IconDownload, IconInfoCircle } from '@tabler/icons-react';
import { api, isRetryable } from '../../shared/api.ts';
import { formatDate, formatDateTime, formatPeriod } from '../../shared/format.ts';
import { formatMoney, toMicros } from '../../shared/money.ts';
import { useSession } from '../../shared/session.tsx';
import { ErrorState, LoadingState } from '../../shared/ui.tsx';
import { InvoiceStatusBadges, InvoiceTypeBadge } from './InvoiceBadges.tsx';
import { InvoiceLinesTable } from '../../shared/InvoiceLinesTable.tsx';
import { InvoiceStatement } from '../../shared/InvoiceStatement.tsx';
import { InvoiceCreditNotes } from './InvoiceCreditNotes.tsx';
import {
  INVOICES_KEY, PAYMENT_SOURCE_LABELS, ROLE_HINT, canRolePay, invoiceName, invoiceTotalsRows, isPayableByOwner, pdfPath, receiptPath, type PortalInvoiceDetail,
} from './invoice-types.ts';

export function useInvoiceDetail(invoiceId: string, options: { refetchInterval?: number | false } = {}) {
  return useQuery({
    queryKey: [...INVOICES_KEY, 'detail', invoiceId],
    queryFn: ({ signal }) => api.get<PortalInvoiceDetail>(`/api/v1/portal/invoices/${encodeURIComponent(invoiceId)}`, {}, signal),
    refetchInterval: options.refetchInterval,
  });
}

const num = { fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' } as const;

function isZero(amount: string): boolean {
  return toMicros(amount) === 0n;
}

function Row({ label, value, strong, testId }: { label: string; value: ReactNode; strong?: boolean; testId?: string }) {
  return (
    <Group justify="space-between" wrap="nowrap" gap="xl">
      <Text size="sm" c={strong ? undefined : 'dimmed'} fw={strong ? 600 : undefined}>
        {label}
      </Text>
      <Text size="sm" fw={strong ? 700 : 500} style={num} data-testid={testId}>
        {value}
      </Text>
    </Group>
  );
}

/** An invoice as its PDF shows it: who, lines, totals, payments and, for a Monthly statement, the period's summary. */
export function InvoiceDetailDialog({ invoiceId, onClose, onPay }: { invoiceId: string; onClose: () => void; onPay: () => void }) {
  const detail = useInvoiceDetail(invoiceId);
  const inv = detail.data;
  return (
    <Modal opened onClose={onClose} size="xl" title={inv ? `Invoice ${invoiceName(inv)}` : 'Invoice'} centered>
      {detail.error ? (
        <ErrorState error={detail.error} onRetry={isRetryable(detail.error) ? () => void detail.refetch() : undefined} title="Could not load this invoice" />
      ) : !inv ? (
        <LoadingState label="Loading the invoice…" />
      ) : (
        <InvoiceDetailBody invoice={inv} onPay={onPay} />
      )}
    </Modal>
  );
}

function InvoiceDetailBody({ invoice: inv, onPay }: { invoice: PortalInvoiceDetail; onPay: () => void }) {
  const session = useSession();
  const money = (a: string) => formatMoney(a, inv.currency);
  const roleBlocked = !inv.canPay && isPayableByOwner(inv) && !canRolePay(session.customer?.role);
  return (
    <Stack gap="md" data-testid="invoice-detail">
      <Group justify="space-between" align="flex-start">
        <Stack gap={4}>
          <Group gap="xs">
            <InvoiceTypeBadge type={inv.type} />
            <InvoiceStatusBadges invoice={inv} />
          </Group>
          <Text size="sm" c="dimmed">
            Issued {formatDate(inv.issuedAt)}
            {inv.informational ? '' : ` · due ${formatDate(inv.dueAt)}`}
            {inv.paidAt ? ` · paid ${formatDate(inv.paidAt)}` : ''}
            {inv.periodStart && inv.periodEnd ? ` · period ${formatPeriod(inv.periodStart, inv.periodEnd)}` : ''}
          </Text>
        </Stack>
        <Group gap="xs">
          {inv.canPay ? (
            <Button leftSection={<IconCurrencyDollar size={16} />} onClick={onPay} aria-label={`Pay ${invoiceName(inv)}`}>
              Pay
            </Button>
          ) : null}
          <Button component="a" href={pdfPath(inv.id)} download variant="default" leftSection={<IconDownload size={16} />}>
            Download PDF
          </Button>
        </Group>
      </Group>
      {roleBlocked ? (
        <Alert color="gray" variant="light" icon={<IconInfoCircle size={18} />}>
          {inv.cannotPayReason ?? ROLE_HINT}
        </Alert>
      ) : null}
      {inv.status === 'void' ? (
        <Alert color="gray" variant="light" title="This invoice is void">
          {inv.voidReason ?? 'It was cancelled by your provider; nothing is due.'}
        </Alert>
      ) : null}
      {inv.informational ? (
        <Alert color="blue" variant="light" icon={<IconInfoCircle size={18} />}>
          This statement is for your records: its charges were already paid from your points. Nothing is due.
        </Alert>
      ) : null}

      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <div>
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            From
          </Text>
          <Text size="sm" fw={500}>
            {inv.seller.legalName ?? inv.seller.name}
          </Text>
          {inv.seller.address ? <Text size="sm" style={{ whiteSpace: 'pre-line' }}>{inv.seller.address}</Text> : null}
          {inv.seller.taxId ? <Text size="sm">Tax ID {inv.seller.taxId}</Text> : null}
        </div>
        <div>
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            Bill to
          </Text>
          <Text size="sm" fw={500}>
            {inv.billTo.name}
          </Text>
          {inv.billTo.address ? <Text size="sm" style={{ whiteSpace: 'pre-line' }}>{inv.billTo.address}</Text> : null}
          {inv.billTo.email ? <Text size="sm">{inv.billTo.email}</Text> : null}
        </div>
      </SimpleGrid>

      {inv.statement ? <InvoiceStatement statement={inv.statement} currency={inv.currency} /> : null}

      {inv.lines.length > 0 ? (
        <InvoiceLinesTable lines={inv.lines} invoiceType={inv.type} minWidth={560} />
      ) : null}

      <Group justify="flex-end">
        <Stack gap={4} miw={280} aria-label="Totals" role="group">
          {invoiceTotalsRows(inv).map((r) => (
            <Row key={r.label} label={r.label} value={r.value} strong={r.strong} testId={r.testId} />
          ))}
          <Divider my={4} />
          <Row label="Amount paid" value={money(inv.amountPaid)} testId="invoice-paid" />
          {!isZero(inv.amountRefunded) ? <Row label="Refunded" value={money(inv.amountRefunded)} testId="invoice-refunded" /> : null}
          {!isZero(inv.amountCreditedToPoints) ? <Row label="Credited to points" value={money(inv.amountCreditedToPoints)} testId="invoice-credited-to-points" /> : null}
          {!isZero(inv.amountCredited) ? <Row label="Amount credited" value={money(inv.amountCredited)} /> : null}
          <Row label="Amount due" value={money(inv.amountDue)} strong testId="invoice-due" />
        </Stack>
      </Group>

      {inv.payments.length > 0 ? (
        <section aria-labelledby="invoice-payments-title">
          <Title order={4} size="h6" id="invoice-payments-title" mb={4}>
            Payments
          </Title>
          <Table aria-label="Payments" verticalSpacing={4}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Date</Table.Th>
                <Table.Th>Paid with</Table.Th>
                <Table.Th>Reference</Table.Th>
                <Table.Th style={{ textAlign: 'right' }}>Amount</Table.Th>
                <Table.Th>
                  <VisuallyHidden>Receipt</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {inv.payments.map((p) => (
                <Table.Tr key={p.id}>
                  <Table.Td style={num}>{formatDateTime(p.paidAt)}</Table.Td>
                  <Table.Td>{PAYMENT_SOURCE_LABELS[p.source] ?? p.source}</Table.Td>
                  <Table.Td>
                    <Text size="xs" ff="monospace">
                      {p.reference ?? '—'}
                    </Text>
                  </Table.Td>
                  <Table.Td style={{ textAlign: 'right', ...num }}>{money(p.amount)}</Table.Td>
                  <Table.Td>
                    {p.source === 'allocation' ? (
                      <Button component="a" href={receiptPath(inv.id, p.id)} download size="compact-xs" variant="subtle" leftSection={<IconDownload size={14} />}>
                        Receipt
                      </Button>
                    ) : null}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </section>
      ) : null}

      <InvoiceCreditNotes invoiceId={inv.id} />

      {inv.notes ? (
        <Text size="sm" c="dimmed" style={{ whiteSpace: 'pre-line' }}>
          {inv.notes}
        </Text>
      ) : null}
      {inv.seller.paymentInstructions && !inv.informational && inv.status !== 'paid' && inv.status !== 'void' ? (
        <Alert color="gray" variant="outline" title="How to pay">
          <Text size="sm" style={{ whiteSpace: 'pre-line' }}>
            {inv.seller.paymentInstructions}
          </Text>
        </Alert>
      ) : null}
    </Stack>
  );
}

