import { useQuery } from '@tanstack/react-query';
import { ActionIcon, Table, Text, Title, Tooltip } from '@mantine/core';
import { IconDownload } from '@tabler/icons-react';
import { api } from '../../shared/api.ts';
import { formatDate } from '../../shared/format.ts';
import { formatMoney } from '../../shared/money.ts';
import { INVOICES_KEY } from './invoice-types.ts';

interface PortalCreditNote {
  id: string;
  number: string;
  issuedAt: string;
  reason: string;
  memo: string | null;
  currency: string;
  total: string;
  outcome: 'reduce_due' | 'points' | 'refund';
  refundMethod: 'card' | 'bank_transfer' | 'cheque' | null;
  refundStatus: 'pending' | 'refunded' | 'failed' | null;
}

function howCredited(n: PortalCreditNote): string {
  if (n.outcome === 'reduce_due') return 'Deducted from the amount due';
  if (n.outcome === 'points') return 'Added to your points';
  if (n.refundMethod === 'card') return n.refundStatus === 'refunded' ? 'Refunded to your card' : n.refundStatus === 'failed' ? 'Refund to your card refused: your provider will pay it another way' : 'Being refunded to your card';
  return `Refunded by ${n.refundMethod === 'cheque' ? 'cheque' : 'bank transfer'}`;
}

/** The credit notes your provider issued on this invoice (nothing shown when there are none). */
export function InvoiceCreditNotes({ invoiceId }: { invoiceId: string }) {
  const q = useQuery({
    queryKey: [...INVOICES_KEY, 'credit-notes', invoiceId],
    queryFn: ({ signal }) => api.get<{ data: PortalCreditNote[] }>(`/api/v1/portal/invoices/${encodeURIComponent(invoiceId)}/credit-notes`, {}, signal),
  });
  const notes = q.data?.data ?? [];
  if (notes.length === 0) return null;
  return (
    <section aria-labelledby="invoice-credit-notes-title">
      <Title order={4} size="h6" id="invoice-credit-notes-title" mb={4}>
        Credit notes
      </Title>
      <Table aria-label="Credit notes" verticalSpacing={4}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Number</Table.Th>
            <Table.Th>Date</Table.Th>
            <Table.Th>How</Table.Th>
            <Table.Th style={{ textAlign: 'right' }}>Amount</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {notes.map((n) => (
            <Table.Tr key={n.id}>
              <Table.Td><Text size="xs" ff="monospace">{n.number}</Text></Table.Td>
              <Table.Td>{formatDate(n.issuedAt)}</Table.Td>
              <Table.Td><Text size="sm">{howCredited(n)}</Text>{n.memo ? <Text size="xs" c="dimmed">{n.memo}</Text> : null}</Table.Td>
              <Table.Td style={{ textAlign: 'right', whiteSpace: 'nowrap' }}>{formatMoney(n.total, n.currency)}</Table.Td>
              <Table.Td>
                <Tooltip label="Download PDF">
                  <ActionIcon component="a" href={`/api/v1/portal/credit-notes/${n.id}/pdf`} download variant="subtle" aria-label={`Download credit note ${n.number}`}>
                    <IconDownload size={16} />
                  </ActionIcon>
                </Tooltip>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </section>
  );
}
