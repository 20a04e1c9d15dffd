import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Anchor, Box, Button, Group, Paper, Select, SimpleGrid, Stack, Switch, Text, TextInput, Tooltip } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconDownload, IconPlus, IconSearch } from '@tabler/icons-react';
import { api, withQuery, type QueryValue } from '../../shared/api.ts';
import { formatDate } from '../../shared/format.ts';
import { sumsByCurrency } from '../../shared/money.ts';
import { usePagedList } from '../../shared/queries.ts';
import { anyFilter, useUrlFilters } from '../../shared/url-filters.ts';
import { DataTable, HeadlineFigure, LoadMore, PageHeader } from '../../shared/ui.tsx';
import type { Page } from '../../shared/types.ts';
import { INVOICE_STATUSES, INVOICE_TYPES, INVOICES_KEY, type InvoiceSummary } from './invoice-types.ts';
import { Amount, CustomerPicker, InvoiceBadges, InvoiceTypeBadge, type PickedCustomer } from './invoice-ui.tsx';

const HEADLINE_LIMIT = 200;

/**
 * Headline figures from three bounded list queries (there is no summary endpoint): open invoices (awaiting payment and
 * partially paid) and the overdue ones. Beyond 200 of a kind the figure says it covers the first 200.
 */
function Headlines() {
  const page = (status: string | undefined, overdue: boolean) => ({
    queryKey: [...INVOICES_KEY, 'headline', status ?? 'any', overdue],
    queryFn: ({ signal }: { signal: AbortSignal }) =>
      api.get<Page<InvoiceSummary>>('/api/v1/invoices', { status, overdue: overdue ? 'true' : undefined, limit: HEADLINE_LIMIT }, signal),
  });
  const awaiting = useQuery(page('awaiting_payment', false));
  const partial = useQuery(page('partially_paid', false));
  const overdue = useQuery(page(undefined, true));
  if (awaiting.isError || partial.isError || overdue.isError) return null;
  const loading = awaiting.isPending || partial.isPending || overdue.isPending;
  const open = [...(awaiting.data?.data ?? []), ...(partial.data?.data ?? [])];
  const openMore = !!awaiting.data?.nextCursor || !!partial.data?.nextCursor;
  const late = overdue.data?.data ?? [];
  return (
    <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm" aria-label="Headline figures" component="section">
      <HeadlineFigure
        label="Open amount due"
        testId="headline-open"
        value={loading ? '…' : sumsByCurrency(open, (i) => ({ amount: i.amountDue, currency: i.currency }))}
        hint={loading ? null : `${open.length}${openMore ? '+' : ''} invoice${open.length === 1 ? '' : 's'} awaiting payment${openMore ? ` (first ${HEADLINE_LIMIT} of each status)` : ''}`}
      />
      <HeadlineFigure label="Overdue amount" testId="headline-overdue" value={loading ? '…' : sumsByCurrency(late, (i) => ({ amount: i.amountDue, currency: i.currency }))} hint={overdue.data?.nextCursor ? `first ${HEADLINE_LIMIT} overdue invoices` : 'past their due date'} />
      <HeadlineFigure label="Overdue invoices" testId="headline-overdue-count" value={loading ? '…' : `${late.length}${overdue.data?.nextCursor ? '+' : ''}`} />
    </SimpleGrid>
  );
}

/** The Invoice app's list: search, filters in the address (shareable), newest first, load more, CSV of the same filters. */
export function InvoiceListPage() {
  const navigate = useNavigate();
  const { params, filter, setFilters, clearFilters } = useUrlFilters();
  const [q, setQ] = useState(filter('q'));
  const [debounced] = useDebouncedValue(q.trim(), 300);
  const [customer, setCustomer] = useState<PickedCustomer | null>(() => {
    const id = params.get('customerId');
    return id ? { id, name: params.get('customerName') ?? id, currency: '' } : null;
  });
  const type = filter('type');
  const status = filter('status');
  const issuedFrom = filter('issuedFrom');
  const issuedTo = filter('issuedTo');
  const overdue = params.get('overdue') === 'true';
  const filters: Record<string, QueryValue> = {
    q: debounced, type, status, customerId: customer?.id, issuedFrom, issuedTo, overdue: overdue ? 'true' : undefined,
  };
  const list = usePagedList<InvoiceSummary>(INVOICES_KEY, '/api/v1/invoices', { ...filters, limit: 50 });
  const filtered = anyFilter(filters);
  const clear = () => {
    setQ('');
    setCustomer(null);
    clearFilters();
  };

  return (
    <Stack maw={1400}>
      <PageHeader
        title="Invoices"
        description="Purchase, Monthly and Top-up invoices of all your customers. Payments and credit notes are recorded in the Finance app."
        actions={
          <>
            <Button
              component="a"
              href={withQuery('/api/v1/invoices', { ...filters, format: 'csv' })}
              download="invoices.csv"
              variant="default"
              leftSection={<IconDownload size={16} />}
            >
              Download CSV
            </Button>
            <Button component={Link} to="/admin/invoice/new" leftSection={<IconPlus size={16} />}>
              New invoice
            </Button>
          </>
        }
      />
      <Headlines />
      <Paper withBorder radius="md" p="md">
        <Stack>
          <Stack gap="sm" role="search" aria-label="Find invoices">
            <Group align="flex-end" gap="sm">
              <TextInput
                label="Search invoices"
                placeholder="Number or customer name"
                leftSection={<IconSearch size={16} />}
                value={q}
                onChange={(e) => {
                  setQ(e.currentTarget.value);
                  setFilters({ q: e.currentTarget.value });
                }}
                w={280}
              />
              <Select
                label="Type"
                data={[{ value: '', label: 'All types' }, ...INVOICE_TYPES]}
                value={type}
                onChange={(v) => setFilters({ type: v ?? '' })}
                allowDeselect={false}
                w={150}
              />
              <Select
                label="Status"
                data={[{ value: '', label: 'Any status' }, ...INVOICE_STATUSES]}
                value={status}
                onChange={(v) => setFilters({ status: v ?? '' })}
                allowDeselect={false}
                w={180}
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
              <TextInput label="Issued from" type="date" value={issuedFrom} onChange={(e) => setFilters({ issuedFrom: e.currentTarget.value })} w={170} />
              <TextInput label="Issued to" type="date" value={issuedTo} onChange={(e) => setFilters({ issuedTo: e.currentTarget.value })} w={170} />
              <Switch label="Overdue only" checked={overdue} onChange={(e) => setFilters({ overdue: e.currentTarget.checked ? 'true' : '' })} mb={8} />
              <Button variant="subtle" onClick={clear} disabled={!filtered} mb={2}>
                Clear filters
              </Button>
            </Group>
          </Stack>
          <DataTable
            label="Invoices"
            rows={list.rows}
            loading={list.isPending}
            error={list.error}
            onRetry={() => void list.refetch()}
            rowKey={(i) => i.id}
            onRowClick={(i) => void navigate(`/admin/invoice/${i.id}`)}
            emptyTitle={filtered ? 'No matching invoices' : 'No invoices yet'}
            emptyDescription={filtered ? 'Nothing matches this search and these filters.' : 'Invoices appear here as they are created; create one by hand with “New invoice”.'}
            footer={<LoadMore hasNextPage={list.hasNextPage} isFetchingNextPage={list.isFetchingNextPage} onLoadMore={() => void list.fetchNextPage()} />}
            columns={[
              {
                key: 'number',
                header: 'Number',
                card: 'title',
                render: (i) => (
                  <>
                    <Anchor component={Link} to={`/admin/invoice/${i.id}`} size="sm" fw={500} ff={i.number ? 'monospace' : undefined} onClick={(e) => e.stopPropagation()} style={{ whiteSpace: 'nowrap' }}>
                      {i.number ?? 'Draft'}
                    </Anchor>
                    {/* Below 1408 px the type sits under the number (its own column is left out). */}
                    <Box hiddenFrom="xl" mt={2}>
                      <InvoiceTypeBadge type={i.type} />
                    </Box>
                  </>
                ),
              },
              { key: 'customer', header: 'Customer', minWidth: 140, card: 'field', render: (i) => <Text size="sm">{i.customer.name}</Text> },
              // The type has a column of its own from 1408 px, under the number below that: the amounts stay on a 1280-px
              // laptop's screen.
              { key: 'type', header: 'Type', visibleFrom: 'xl', render: (i) => <InvoiceTypeBadge type={i.type} /> },
              { key: 'status', header: 'Status', minWidth: 210, card: 'status', render: (i) => <InvoiceBadges invoice={i} /> },
              {
                key: 'issued',
                header: 'Issued',
                render: (i) => (
                  <Text size="sm" style={{ whiteSpace: 'nowrap' }} c={i.issuedAt ? undefined : 'dimmed'}>
                    {i.issuedAt ? formatDate(i.issuedAt) : `Created ${formatDate(i.createdAt)}`}
                  </Text>
                ),
              },
              {
                key: 'due',
                header: 'Due',
                card: 'field',
                render: (i) => (
                  <Text size="sm" style={{ whiteSpace: 'nowrap' }} c={i.overdue ? 'red.7' : undefined}>
                    {formatDate(i.dueAt)}
                  </Text>
                ),
              },
              { key: 'total', header: 'Total', align: 'right', card: 'field', render: (i) => <Amount amount={i.total} currency={i.currency} /> },
              {
                key: 'due-amount',
                header: 'Amount due',
                align: 'right',
                card: 'field',
                render: (i) =>
                  i.status === 'void' ? (
                    <Tooltip label="Void: nothing is due">
                      <Text size="sm" c="dimmed">
                        —
                      </Text>
                    </Tooltip>
                  ) : (
                    <Amount amount={i.amountDue} currency={i.currency} strong dimZero />
                  ),
              },
            ]}
          />
        </Stack>
      </Paper>
    </Stack>
  );
}
