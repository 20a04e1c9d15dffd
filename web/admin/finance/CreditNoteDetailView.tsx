import { useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Anchor, Button, Group, Paper, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconDownload } from '@tabler/icons-react';
import { api } from '../../shared/api.ts';
import { ConfirmButton } from '../../shared/ConfirmButton.tsx';
import { FormError } from '../../shared/forms.tsx';
import { formatDate, formatDateTime } from '../../shared/format.ts';
import { formatMoney } from '../../shared/money.ts';
import { useSession } from '../../shared/session.tsx';
import { DataTable, ErrorState, LoadingState, useIsPhone } from '../../shared/ui.tsx';
import {
  CREDIT_NOTES_KEY, CreditNoteStatusBadge, MarginText, OUTCOMES, REFUND_METHODS, outcomeLabel, reasonLabel,
  type CreditNoteDetail, type CreditNoteOutcome, type RefundMethod,
} from './CreditNoteParts.tsx';

type CardRefund = CreditNoteDetail['refunds'][number];

function Fact({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>{label}</Text>
      <Text size="sm" data-testid={testId}>{children}</Text>
    </div>
  );
}

/** Issue a draft: its outcome (kept from the draft, or chosen here), then a confirmation. */
function IssuePanel({ note, onDone }: { note: CreditNoteDetail; onDone: () => Promise<void> }) {
  const [outcome, setOutcome] = useState<CreditNoteOutcome | null>(note.outcome);
  const [refundMethod, setRefundMethod] = useState<RefundMethod | null>(note.refundMethod);
  const [reference, setReference] = useState(note.refundReference ?? '');
  const issue = useMutation({
    mutationFn: () => api.post<CreditNoteDetail>(`/api/v1/credit-notes/${note.id}/issue`, {
      ...(outcome ? { outcome } : {}),
      ...(outcome === 'refund' && refundMethod ? { refundMethod, ...(refundMethod !== 'card' && reference.trim() ? { refundReference: reference.trim() } : {}) } : {}),
    }),
    onSuccess: async (issued) => {
      notifications.show({ color: 'teal', title: 'Credit note issued', message: `${issued.number} is issued to ${issued.customer.name}.` });
      await onDone();
    },
  });
  return (
    <Stack gap="xs">
      <Group align="flex-end">
        <Select label="Outcome" data={OUTCOMES} value={outcome} onChange={(v) => setOutcome(v)} w={240} />
        {outcome === 'refund' ? <Select label="Refund method" data={REFUND_METHODS} value={refundMethod} onChange={(v) => setRefundMethod(v)} w={240} /> : null}
        {outcome === 'refund' && refundMethod !== 'card' ? <TextInput label="Reference" value={reference} onChange={(e) => setReference(e.currentTarget.value)} w={200} /> : null}
        <Button onClick={() => issue.mutate()} loading={issue.isPending} disabled={!outcome}>Issue credit note</Button>
      </Group>
      <FormError error={issue.error} />
    </Stack>
  );
}

/** One credit note: what it credits, its totals and margin effect, its outcome and refunds, PDF; issue or void while a draft. */
export function CreditNoteDetailView({ creditNoteId }: { creditNoteId: string }) {
  const queryClient = useQueryClient();
  const session = useSession();
  const canSeeInvoices = session.apps.includes('invoice');
  const phone = useIsPhone();
  const q = useQuery({
    queryKey: [...CREDIT_NOTES_KEY, 'detail', creditNoteId],
    queryFn: ({ signal }) => api.get<CreditNoteDetail>(`/api/v1/credit-notes/${creditNoteId}`, undefined, signal),
    refetchInterval: (query) => (query.state.data?.refundStatus === 'pending' ? 3000 : false),
  });
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: CREDIT_NOTES_KEY });
  };
  if (q.isPending) return <LoadingState />;
  if (q.isError) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  const n = q.data;
  const c = n.currency;
  return (
    <Stack maw={1100}>
      <Group justify="space-between" align="flex-start">
        <Stack gap={4}>
          <Anchor component={Link} to="/admin/finance/credit-notes" size="sm">← Credit notes</Anchor>
          <Group gap="sm">
            <Title order={3} data-testid="credit-note-number">{n.number ?? 'Draft credit note'}</Title>
            <CreditNoteStatusBadge status={n.status} />
          </Group>
          <Text size="sm" c="dimmed">
            {n.customer.name} · invoice{' '}
            {canSeeInvoices ? <Anchor component={Link} to={`/admin/invoice/${n.invoice.id}`} size="sm">{n.invoice.number}</Anchor> : n.invoice.number}
          </Text>
        </Stack>
        <Group>
          <Button component="a" href={`/api/v1/credit-notes/${n.id}/pdf`} download={`${n.number ?? n.id}.pdf`} variant="default" leftSection={<IconDownload size={16} />}>
            Download PDF
          </Button>
          {n.status === 'draft' ? (
            <ConfirmButton
              label="Void draft"
              title="Void this draft?"
              message="A void draft is kept for the record and can no longer be issued. Nothing was posted for it."
              confirmLabel="Void draft"
              color="red"
              withNote
              noteLabel="Why (required)"
              buttonProps={{ variant: 'light', color: 'red' }}
              onConfirm={async (note) => {
                await api.post(`/api/v1/credit-notes/${n.id}/void`, { reason: note || 'Voided draft' });
                await refresh();
              }}
            />
          ) : null}
        </Group>
      </Group>

      <Paper withBorder radius="md" p="md">
        <SimpleGrid cols={{ base: 2, sm: 4 }}>
          <Fact label="Total credited" testId="credit-note-total">{formatMoney(n.total, c)}</Fact>
          <Fact label="Outcome" testId="credit-note-outcome">{outcomeLabel(n)}</Fact>
          <Fact label="Reason">{reasonLabel(n.reason)}</Fact>
          <Fact label={n.status === 'issued' ? 'Issued' : 'Created'}>{formatDate(n.issuedAt ?? n.createdAt)}</Fact>
          <Fact label="Invoice total">{formatMoney(n.invoice.total, c)}</Fact>
          <Fact label="Invoice paid">{formatMoney(n.invoice.amountPaid, c)}</Fact>
          <Fact label="Invoice due now">{formatMoney(n.invoice.amountDue, c)}</Fact>
          <Fact label="Margin effect"><MarginText margin={n.margin} cost={n.cost} costKnown={n.costKnown} currency={c} /></Fact>
        </SimpleGrid>
        {n.memo ? <Text size="sm" mt="sm">Memo: {n.memo}</Text> : null}
        {n.refundReference ? <Text size="sm">Refund reference: {n.refundReference}</Text> : null}
        {n.voidReason ? <Text size="sm" c="red.7">Voided {formatDateTime(n.voidedAt)}: {n.voidReason}</Text> : null}
      </Paper>

      {n.status === 'draft' ? (
        <Paper withBorder radius="md" p="md">
          <IssuePanel note={n} onDone={refresh} />
        </Paper>
      ) : null}

      <Paper withBorder radius="md" p="md">
        {/* On a phone the quantity, net, tax, cost and margin sit under the line instead of in columns of their own, as the
            invoice's lines do: the seven columns were 474 px wide at 390 and the page scrolled sideways to the total. */}
        <Table aria-label="Credited lines">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Invoice line</Table.Th><Table.Th ta="right" visibleFrom="sm">Qty</Table.Th><Table.Th ta="right" visibleFrom="sm">Net</Table.Th>
              <Table.Th ta="right" visibleFrom="sm">Tax</Table.Th><Table.Th ta="right">Total</Table.Th><Table.Th ta="right" visibleFrom="sm">Cost</Table.Th>
              <Table.Th ta="right" visibleFrom="sm">Margin</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {n.lines.map((l, i) => (
              <Table.Tr key={i}>
                <Table.Td>
                  <Text size="sm">{l.invoiceLinePosition}. {l.description}</Text>
                  {phone ? (
                    <Text size="xs" c="dimmed" data-testid="credited-line-figures">
                      {l.quantity === null ? '' : `Qty ${l.quantity} · `}net {formatMoney(l.amount)} · tax {formatMoney(l.tax)}
                      {' · '}{l.cost === null ? 'no cost known' : `cost ${formatMoney(l.cost)}`}{l.margin === null ? '' : ` · margin ${formatMoney(l.margin)}`}
                    </Text>
                  ) : null}
                </Table.Td>
                <Table.Td ta="right" visibleFrom="sm">{l.quantity ?? '—'}</Table.Td>
                <Table.Td ta="right" visibleFrom="sm">{formatMoney(l.amount)}</Table.Td>
                <Table.Td ta="right" visibleFrom="sm">{formatMoney(l.tax)}</Table.Td>
                <Table.Td ta="right">{formatMoney(l.total)}</Table.Td>
                <Table.Td ta="right" visibleFrom="sm">{l.cost === null ? <Text size="sm" c="dimmed">no cost known</Text> : formatMoney(l.cost)}</Table.Td>
                <Table.Td ta="right" visibleFrom="sm">{l.margin === null ? '—' : formatMoney(l.margin)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <Text size="sm" ta="right" mt="xs">Subtotal {formatMoney(n.subtotal, c)} · tax {formatMoney(n.tax, c)} · total {formatMoney(n.total, c)}</Text>
      </Paper>

      {n.refunds.length > 0 ? (
        <Paper withBorder radius="md" p="md">
          <Title order={5} mb="xs">Card refunds</Title>
          <DataTable<CardRefund>
            label="Card refunds"
            rows={n.refunds}
            rowKey={(r) => r.chargeRef}
            emptyTitle="No card refunds"
            columns={[
              { key: 'charge', header: 'Charge', card: 'field', render: (r) => <Text size="sm" ff="monospace">{r.chargeRef}</Text> },
              { key: 'amount', header: 'Amount', align: 'right', card: 'title', render: (r) => formatMoney(r.amount, c) },
              {
                key: 'status', header: 'Status', card: 'field',
                render: (r) => `${r.status}${r.failureReason ? `: ${r.failureReason} (owed to the customer: refunds payable)` : ''}`,
              },
              { key: 'refund', header: 'Refund', card: 'field', render: (r) => <Text size="sm" ff="monospace">{r.refundRef ?? '—'}</Text> },
            ]}
          />
        </Paper>
      ) : null}
    </Stack>
  );
}
