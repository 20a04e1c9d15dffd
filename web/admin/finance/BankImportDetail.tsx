import { useState } from 'react';
import { Link } from 'react-router';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Anchor, Badge, Button, Group, List, Modal, SegmentedControl, Stack, Text, Textarea, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconArrowLeft, IconChecks } from '@tabler/icons-react';
import { api, apiRequest, errorMessage, newIdempotencyKey } from '../../shared/api.ts';
import { FormError } from '../../shared/forms.tsx';
import { formatDateTime } from '../../shared/format.ts';
import { DataTable, ErrorState, LoadingState, LoadMore, PageHeader, type Column } from '../../shared/ui.tsx';
import { Amount } from '../invoices/invoice-ui.tsx';
import { PAYMENTS_KEY } from './finance-types.ts';
import {
  BANK_IMPORT_BASE, BANK_IMPORTS_KEY, CONFIDENCE_COLORS, LINE_STATES, lineStateColor, lineStateLabel, statementPath,
  type AcceptConfidentResult, type BankLineView, type BankStatementDetail,
} from './bank-import-types.ts';
import { LineCountBadges } from './BankImportBadges.tsx';
import { AcceptLineDialog } from './BankImportAcceptDialog.tsx';

const PAGE = 100;

function Proposal({ line }: { line: BankLineView }) {
  if (!line.customer) return <Text size="sm" c="dimmed">—</Text>;
  return (
    <Stack gap={2}>
      <Text size="sm" fw={600} data-testid="proposed-customer">
        {line.customer.name}
      </Text>
      {line.invoices.map((i) => (
        <Text key={i.id} size="xs" c="dimmed">
          {i.number ?? i.id} · owes {i.amountDue}
        </Text>
      ))}
    </Stack>
  );
}

function RejectDialog({ statementId, line, onClose }: { statementId: string; line: BankLineView | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [reason, setReason] = useState('');
  const reject = useMutation({
    mutationFn: () => api.post<BankLineView>(statementPath(statementId, 'lines', line!.id, 'reject'), reason.trim() ? { reason: reason.trim() } : {}),
    onSuccess: async (l) => {
      notifications.show({ color: 'gray', title: 'Line rejected', message: `Line ${l.lineNo} will not be recorded as a payment.` });
      close();
      await queryClient.invalidateQueries({ queryKey: BANK_IMPORTS_KEY });
    },
  });
  const close = () => {
    setReason('');
    reject.reset();
    onClose();
  };
  return (
    <Modal opened={!!line} onClose={close} title={line ? `Reject line ${line.lineNo}` : ''} centered>
      <Stack>
        <FormError error={reject.error} />
        <Text size="sm">The line stays in the import, marked rejected; no payment is recorded. This cannot be undone.</Text>
        <Textarea label="Reason (optional)" value={reason} maxLength={500} onChange={(e) => setReason(e.currentTarget.value)} autosize minRows={2} />
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button color="red" loading={reject.isPending} onClick={() => reject.mutate()}>
            Reject line
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** One import: its counts, unreadable lines, and its lines with their proposals and actions. */
export function BankImportDetail({ statementId }: { statementId: string }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<string>('all');
  const [editing, setEditing] = useState<BankLineView | null>(null);
  const [rejecting, setRejecting] = useState<BankLineView | null>(null);
  const [bulkResult, setBulkResult] = useState<AcceptConfidentResult | null>(null);
  const q = useInfiniteQuery({
    queryKey: [...BANK_IMPORTS_KEY, statementId, status],
    queryFn: ({ pageParam, signal }) =>
      api.get<BankStatementDetail>(statementPath(statementId), { limit: PAGE, cursor: pageParam, status: status === 'all' ? undefined : status }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.lines.nextCursor ?? undefined,
  });
  const refresh = async () => {
    await Promise.all([queryClient.invalidateQueries({ queryKey: BANK_IMPORTS_KEY }), queryClient.invalidateQueries({ queryKey: PAYMENTS_KEY })]);
  };
  const quickAccept = useMutation({
    mutationFn: async (line: BankLineView) =>
      (await apiRequest<BankLineView>(statementPath(statementId, 'lines', line.id, 'accept'), {
        method: 'POST', body: {}, headers: { 'idempotency-key': newIdempotencyKey('bank-accept') },
      })).data,
    onSuccess: async (l) => {
      notifications.show({ color: 'teal', title: 'Payment recorded', message: `Line ${l.lineNo}: ${l.currency} ${l.amount}${l.customer ? ` from ${l.customer.name}` : ' (payer unknown)'}.` });
      await refresh();
    },
    onError: (e) => notifications.show({ color: 'red', title: 'Could not accept the line', message: errorMessage(e) }),
  });
  const bulk = useMutation({
    mutationFn: async () => {
      const total: AcceptConfidentResult = { accepted: 0, failed: [], remaining: 0 };
      // Bounded batches on the server; keep going while a batch makes progress.
      for (;;) {
        const r = (await apiRequest<AcceptConfidentResult>(statementPath(statementId, 'accept-confident'), {
          method: 'POST', body: {}, headers: { 'idempotency-key': newIdempotencyKey('bank-confident') },
        })).data;
        total.accepted += r.accepted;
        total.failed = [...total.failed.filter((f) => !r.failed.some((g) => g.lineId === f.lineId)), ...r.failed];
        total.remaining = r.remaining;
        if (r.accepted === 0 || r.remaining === 0) return total;
      }
    },
    onSuccess: async (r) => {
      setBulkResult(r);
      notifications.show({ color: r.failed.length ? 'yellow' : 'teal', title: 'Confident suggestions accepted', message: `${r.accepted} payment(s) recorded${r.failed.length ? `, ${r.failed.length} could not be accepted` : ''}.` });
      await refresh();
    },
  });

  const first = q.data?.pages[0];
  if (q.isError && !first) return <ErrorState error={q.error} onRetry={() => void q.refetch()} title="Could not load this import" />;
  if (!first) return <LoadingState label="Loading the import…" />;
  const rows = q.data?.pages.flatMap((p) => p.lines.data) ?? [];
  const open = (l: BankLineView) => l.status === 'suggested' || l.status === 'unmatched';

  const columns: Column<BankLineView>[] = [
    { key: 'line', header: 'Line', width: 60, render: (l) => <Text size="sm" c="dimmed">{l.lineNo}</Text> },
    { key: 'date', header: 'Date', render: (l) => <Text size="sm" style={{ whiteSpace: 'nowrap' }}>{l.bookedOn}</Text> },
    { key: 'amount', header: 'Amount', align: 'right', render: (l) => <Amount amount={l.amount} currency={l.currency} strong /> },
    {
      key: 'reference', header: 'Reference / payer', minWidth: 200,
      render: (l) => (
        <Stack gap={0}>
          <Text size="sm" lineClamp={2}>{l.reference ?? '—'}</Text>
          {l.payerName ? <Text size="xs" c="dimmed">{l.payerName}{l.payerAccount ? ` · ${l.payerAccount}` : ''}</Text> : null}
        </Stack>
      ),
    },
    { key: 'proposal', header: 'Proposed customer and invoices', minWidth: 200, render: (l) => <Proposal line={l} /> },
    {
      key: 'reason', header: 'Why', minWidth: 160,
      render: (l) => (
        <Stack gap={2}>
          {l.status === 'suggested' ? (
            <Badge color={CONFIDENCE_COLORS[l.confidence]} variant="dot" tt="none" size="sm">{l.confidence} confidence</Badge>
          ) : null}
          <Text size="xs" data-testid="match-reason">{l.reason ?? ''}</Text>
        </Stack>
      ),
    },
    {
      key: 'status', header: 'State', minWidth: 120,
      render: (l) => (
        <Stack gap={2}>
          <Badge color={lineStateColor(l.status)} variant="light" tt="none" size="sm" data-testid="line-status" style={{ minWidth: 'max-content' }}>{lineStateLabel(l.status)}</Badge>
          {l.paymentId ? <Anchor component={Link} to={`/admin/finance/payments/${l.paymentId}`} size="xs">Payment</Anchor> : null}
          {l.rejectReason ? <Text size="xs" c="dimmed">{l.rejectReason}</Text> : null}
        </Stack>
      ),
    },
    {
      key: 'actions', header: '', minWidth: 90,
      render: (l) => open(l) ? (
        <Stack gap={4} align="stretch">
          <Tooltip label={l.customer ? 'Record the payment as proposed' : 'Record it as an unassigned payment'}>
            <Button size="compact-sm" aria-label={`Accept line ${l.lineNo}`} loading={quickAccept.isPending && quickAccept.variables?.id === l.id}
              disabled={quickAccept.isPending} onClick={() => quickAccept.mutate(l)}>
              Accept
            </Button>
          </Tooltip>
          <Button size="compact-sm" variant="default" aria-label={`Edit line ${l.lineNo}`} onClick={() => setEditing(l)}>Edit</Button>
          <Button size="compact-sm" variant="subtle" color="red" aria-label={`Reject line ${l.lineNo}`} onClick={() => setRejecting(l)}>Reject</Button>
        </Stack>
      ) : null,
    },
  ];

  return (
    <Stack gap="md">
      <Anchor component={Link} to={BANK_IMPORT_BASE} size="sm">
        <Group gap={4}><IconArrowLeft size={14} /> All imports</Group>
      </Anchor>
      <PageHeader
        title={first.fileName}
        description={`Imported ${formatDateTime(first.createdAt)}${first.uploadedBy ? ` by ${first.uploadedBy.name}` : ''} · ${first.recordCount} line(s) · default currency ${first.defaultCurrency}`}
        actions={
          <Button leftSection={<IconChecks size={16} />} disabled={first.counts.confident === 0} loading={bulk.isPending} onClick={() => bulk.mutate()}>
            Accept all confident ({first.counts.confident})
          </Button>
        }
      />
      <LineCountBadges statement={first} />
      {first.warnings.map((w) => (
        <Alert key={w} color="yellow" variant="light" title="Already imported">{w}</Alert>
      ))}
      <FormError error={bulk.error} title="Bulk accept stopped" />
      {bulkResult && bulkResult.failed.length > 0 ? (
        <Alert color="yellow" variant="light" title={`${bulkResult.failed.length} confident line(s) could not be accepted`} withCloseButton onClose={() => setBulkResult(null)}>
          <List size="sm">
            {bulkResult.failed.slice(0, 20).map((f) => <List.Item key={f.lineId}>Line {f.lineNo}: {f.message}</List.Item>)}
          </List>
        </Alert>
      ) : null}
      {first.errorCount > 0 ? (
        <Alert color="red" variant="light" title={`${first.errorCount} line(s) could not be read`}>
          <List size="sm">
            {first.errors.slice(0, 50).map((e) => <List.Item key={`${e.line}:${e.field}`}>Line {e.line}, {e.field}: {e.message}</List.Item>)}
          </List>
          {first.errorCount > 50 ? <Text size="xs" c="dimmed">…and {first.errorCount - 50} more.</Text> : null}
        </Alert>
      ) : null}
      <SegmentedControl
        aria-label="Show lines"
        value={status}
        onChange={setStatus}
        data={[{ value: 'all', label: 'All' }, ...LINE_STATES.map((s) => ({ value: s.value, label: `${s.label} (${first.counts[s.value]})` }))]}
        style={{ alignSelf: 'flex-start' }}
      />
      <DataTable
        label="Statement lines"
        columns={columns}
        rows={rows}
        rowKey={(l) => l.id}
        loading={q.isFetching && rows.length === 0}
        emptyTitle="No lines in this state"
      />
      <LoadMore hasNextPage={q.hasNextPage} isFetchingNextPage={q.isFetchingNextPage} onLoadMore={() => void q.fetchNextPage()} />
      <AcceptLineDialog statementId={statementId} line={editing} onClose={() => setEditing(null)} onDone={refresh} />
      <RejectDialog statementId={statementId} line={rejecting} onClose={() => setRejecting(null)} />
    </Stack>
  );
}
