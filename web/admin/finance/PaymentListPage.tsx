import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Anchor, Button, Group, Paper, Select, SimpleGrid, Stack, Switch, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconDownload, IconPlus, IconSearch, IconUserPlus } from '@tabler/icons-react';
import { api, withQuery, type QueryValue } from '../../shared/api.ts';
import { formatDate } from '../../shared/format.ts';
import { sumsByCurrency } from '../../shared/money.ts';
import { usePagedList } from '../../shared/queries.ts';
import { anyFilter, useUrlFilters } from '../../shared/url-filters.ts';
import { DataTable, HeadlineFigure, LoadMore, PageHeader, type Column } from '../../shared/ui.tsx';
import type { Page } from '../../shared/types.ts';
import { Amount, CustomerPicker, type PickedCustomer } from '../invoices/invoice-ui.tsx';
import { PAYMENT_METHODS, PAYMENT_STATUSES, PAYMENTS_KEY, methodLabel, paymentUrl, type PaymentSummary } from './finance-types.ts';
import { AssignDialog, PaymentStatusBadge } from './finance-ui.tsx';

const HEADLINE_LIMIT = 200;

/** Headline figures from bounded list queries (there is no summary endpoint): money waiting for a payer, and money not yet applied. */
function Headlines() {
  const page = (status: string) => ({
    queryKey: [...PAYMENTS_KEY, 'headline', status],
    queryFn: ({ signal }: { signal: AbortSignal }) => api.get<Page<PaymentSummary>>('/api/v1/payments', { status, limit: HEADLINE_LIMIT }, signal),
  });
  const unassigned = useQuery(page('unassigned'));
  const unallocated = useQuery(page('unallocated'));
  const partial = useQuery(page('partially_allocated'));
  if (unassigned.isError || unallocated.isError || partial.isError) return null;
  const loading = unassigned.isPending || unallocated.isPending || partial.isPending;
  const waiting = unassigned.data?.data ?? [];
  const free = [...(unallocated.data?.data ?? []), ...(partial.data?.data ?? [])];
  const more = (n: { data?: Page<PaymentSummary> }) => (n.data?.nextCursor ? '+' : '');
  return (
    <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm" aria-label="Headline figures" component="section">
      <HeadlineFigure
        label="Unassigned"
        testId="headline-unassigned"
        value={loading ? '…' : sumsByCurrency(waiting, (p) => ({ amount: p.amount, currency: p.currency }))}
        hint={loading ? null : `${waiting.length}${more(unassigned)} payment${waiting.length === 1 ? '' : 's'} waiting for their payer`}
      />
      <HeadlineFigure
        label="Not yet allocated"
        testId="headline-unallocated"
        value={loading ? '…' : sumsByCurrency(free, (p) => ({ amount: p.unallocated, currency: p.currency }))}
        hint={loading ? null : `on ${free.length}${more(unallocated) || more(partial)} payment${free.length === 1 ? '' : 's'} of known customers`}
      />
      <HeadlineFigure label="Payments to allocate" testId="headline-to-allocate" value={loading ? '…' : `${free.length}${more(unallocated) || more(partial)}`} hint="unallocated or partly allocated" />
    </SimpleGrid>
  );
}

function paymentColumns(opts: { onAssign?: (p: PaymentSummary) => void } = {}): Column<PaymentSummary>[] {
  const cols: Column<PaymentSummary>[] = [
    {
      key: 'received',
      header: 'Received',
      card: 'title',
      render: (p) => (
        <Anchor component={Link} to={paymentUrl(p.id)} size="sm" fw={500} onClick={(e) => e.stopPropagation()} style={{ whiteSpace: 'nowrap' }}>
          {formatDate(p.receivedOn)}
        </Anchor>
      ),
    },
    {
      key: 'customer',
      header: 'Customer',
      minWidth: 160,
      card: 'field',
      render: (p) =>
        p.customer ? (
          <Text size="sm">{p.customer.name}</Text>
        ) : (
          <Text size="sm" c="orange.8" fs="italic">
            Payer unknown
          </Text>
        ),
    },
    { key: 'method', header: 'Method', render: (p) => <Text size="sm">{methodLabel(p.method)}</Text> },
    {
      key: 'receipt',
      header: 'Receipt',
      render: (p) => (
        <Text size="sm" ff="monospace" style={{ whiteSpace: 'nowrap' }}>
          {p.receiptNumber}
        </Text>
      ),
    },
    {
      key: 'reference',
      header: 'Reference',
      card: 'field',
      render: (p) => (
        <Text size="sm" ff="monospace" c={p.reference ? undefined : 'dimmed'}>
          {p.reference ?? '—'}
        </Text>
      ),
    },
    { key: 'status', header: 'Status', card: 'status', render: (p) => <PaymentStatusBadge status={p.status} /> },
    { key: 'amount', header: 'Amount', align: 'right', card: 'field', render: (p) => <Amount amount={p.amount} currency={p.currency} strong /> },
    { key: 'unallocated', header: 'Unallocated', align: 'right', card: 'field', render: (p) => <Amount amount={p.unallocated} currency={p.currency} dimZero /> },
  ];
  if (opts.onAssign) {
    const onAssign = opts.onAssign;
    cols.push({
      key: 'assign',
      header: '',
      align: 'right',
      card: 'actions',
      render: (p) => (
        <Button
          size="xs"
          variant="light"
          leftSection={<IconUserPlus size={14} />}
          aria-label={`Assign ${p.reference ?? p.id}`}
          onClick={(e) => {
            e.stopPropagation();
            onAssign(p);
          }}
        >
          Assign
        </Button>
      ),
    });
  }
  return cols;
}

/** Payments: filters in the address (shareable), newest first, load more, CSV of the same filters. */
export function PaymentListPage() {
  const navigate = useNavigate();
  const { params, filter, setFilters, clearFilters } = useUrlFilters();
  const [q, setQ] = useState(filter('q'));
  const [debounced] = useDebouncedValue(q.trim(), 300);
  const [customer, setCustomer] = useState<PickedCustomer | null>(() => {
    const id = params.get('customerId');
    return id ? { id, name: params.get('customerName') ?? id, currency: '' } : null;
  });
  const method = filter('method');
  const status = filter('status');
  const receivedFrom = filter('receivedFrom');
  const receivedTo = filter('receivedTo');
  const unassigned = params.get('unassigned') === 'true';
  const filters: Record<string, QueryValue> = { q: debounced, method, status, customerId: customer?.id, receivedFrom, receivedTo, unassigned: unassigned ? 'true' : undefined };
  const list = usePagedList<PaymentSummary>([...PAYMENTS_KEY, 'list'], '/api/v1/payments', { ...filters, limit: 50 });
  const filtered = anyFilter(filters);
  const clear = () => {
    setQ('');
    setCustomer(null);
    clearFilters();
  };

  return (
    <Stack maw={1400}>
      <PageHeader
        title="Payments"
        description="Money your customers sent outside the portal: record it, give it to its payer, allocate it to invoices, reverse it when it bounces."
        actions={
          <>
            <Button component="a" href={withQuery('/api/v1/payments', { ...filters, format: 'csv' })} download="payments.csv" variant="default" leftSection={<IconDownload size={16} />}>
              Download CSV
            </Button>
            <Button component={Link} to="/admin/finance/payments/new" leftSection={<IconPlus size={16} />}>
              Record payment
            </Button>
          </>
        }
      />
      <Headlines />
      <Paper withBorder radius="md" p="md">
        <Stack>
          <Stack gap="sm" role="search" aria-label="Find payments">
            <Group align="flex-end" gap="sm">
              <TextInput
                label="Reference"
                placeholder="Bank reference or receipt number"
                leftSection={<IconSearch size={16} />}
                value={q}
                onChange={(e) => {
                  setQ(e.currentTarget.value);
                  setFilters({ q: e.currentTarget.value });
                }}
                w={240}
              />
              <Select label="Method" data={[{ value: '', label: 'Any method' }, ...PAYMENT_METHODS]} value={method} onChange={(v) => setFilters({ method: v ?? '' })} allowDeselect={false} w={170} />
              <Select
                label="Status"
                data={[{ value: '', label: 'Any status' }, ...PAYMENT_STATUSES.map(({ value, label }) => ({ value, label }))]}
                value={status}
                onChange={(v) => setFilters({ status: v ?? '' })}
                allowDeselect={false}
                w={190}
              />
              <CustomerPicker
                label="Customer"
                placeholder="All customers"
                value={customer}
                onChange={(c) => {
                  setCustomer(c);
                  setFilters({ customerId: c?.id ?? '', customerName: c?.name ?? '' });
                }}
                w={240}
              />
            </Group>
            <Group align="flex-end" gap="sm">
              <TextInput label="Received from" type="date" value={receivedFrom} onChange={(e) => setFilters({ receivedFrom: e.currentTarget.value })} w={170} />
              <TextInput label="Received to" type="date" value={receivedTo} onChange={(e) => setFilters({ receivedTo: e.currentTarget.value })} w={170} />
              <Switch
                label="Unassigned only"
                checked={unassigned}
                onChange={(e) => setFilters({ unassigned: e.currentTarget.checked ? 'true' : '' })}
                mb={8}
              />
              <Button variant="subtle" onClick={clear} disabled={!filtered} mb={2}>
                Clear filters
              </Button>
            </Group>
          </Stack>
          <DataTable
            label="Payments"
            rows={list.rows}
            loading={list.isPending}
            error={list.error}
            onRetry={() => void list.refetch()}
            rowKey={(p) => p.id}
            onRowClick={(p) => void navigate(paymentUrl(p.id))}
            emptyTitle={filtered ? 'No matching payments' : 'No payments yet'}
            emptyDescription={filtered ? 'Nothing matches this search and these filters.' : 'Record a bank transfer, cheque or cash payment with “Record payment”.'}
            footer={<LoadMore hasNextPage={list.hasNextPage} isFetchingNextPage={list.isFetchingNextPage} onLoadMore={() => void list.fetchNextPage()} />}
            columns={paymentColumns()}
          />
        </Stack>
      </Paper>
    </Stack>
  );
}

/** The payments whose payer is not known yet, oldest concern first in the eye of Finance: each can be assigned from here. */
export function UnassignedPage() {
  const navigate = useNavigate();
  const [assigning, setAssigning] = useState<PaymentSummary | null>(null);
  const list = usePagedList<PaymentSummary>([...PAYMENTS_KEY, 'list'], '/api/v1/payments', { status: 'unassigned', limit: 50 });
  return (
    <Stack maw={1400}>
      <PageHeader
        title="Unassigned payments"
        description="Money received whose payer is not known yet. Find the customer from the reference, then assign it; it can then be allocated to invoices."
        actions={
          <>
            <Button component="a" href={withQuery('/api/v1/payments', { status: 'unassigned', format: 'csv' })} download="unassigned-payments.csv" variant="default" leftSection={<IconDownload size={16} />}>
              Download CSV
            </Button>
            <Button component={Link} to="/admin/finance/payments/new" leftSection={<IconPlus size={16} />}>
              Record payment
            </Button>
          </>
        }
      />
      <Paper withBorder radius="md" p="md">
        <DataTable
          label="Unassigned payments"
          rows={list.rows}
          loading={list.isPending}
          error={list.error}
          onRetry={() => void list.refetch()}
          rowKey={(p) => p.id}
          onRowClick={(p) => void navigate(paymentUrl(p.id))}
          emptyTitle="Nothing waiting"
          emptyDescription="Every payment received has its payer."
          footer={<LoadMore hasNextPage={list.hasNextPage} isFetchingNextPage={list.isFetchingNextPage} onLoadMore={() => void list.fetchNextPage()} />}
          columns={paymentColumns({ onAssign: setAssigning })}
        />
      </Paper>
      <AssignDialog payment={assigning} opened={!!assigning} onClose={() => setAssigning(null)} />
    </Stack>
  );
}
