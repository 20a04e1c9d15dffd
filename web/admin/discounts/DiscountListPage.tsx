import { Link, useNavigate } from 'react-router';
import { Badge, Button, Group, Paper, Select, Stack, Text } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { usePagedList } from '../../shared/queries.ts';
import { useUrlFilters } from '../../shared/url-filters.ts';
import { DataTable, LoadMore, PageHeader } from '../../shared/ui.tsx';
import { DISCOUNTS_KEY, SCOPES, periodOf, rateOf, type DiscountView } from './discount-types.ts';
import { CustomerSelect } from './CustomerSelect.tsx';
import { DiscountStatusBadge } from './DiscountStatusBadge.tsx';
import { PrecedenceHelp } from './PrecedenceHelp.tsx';

/** The Discount app's list: filters in the address (customer, target, scope, status), newest first, load more. */
export function DiscountListPage() {
  const navigate = useNavigate();
  const { filter, setFilters } = useUrlFilters();
  const customerId = filter('customerId');
  const target = filter('target');
  const scope = filter('scope');
  const status = filter('status');
  const filters = { customerId: customerId || undefined, target: target || undefined, scope: scope || undefined, status: status || undefined };
  const list = usePagedList<DiscountView>(DISCOUNTS_KEY, '/api/v1/discounts', { ...filters, limit: 50 });

  return (
    <Stack maw={1300}>
      <PageHeader
        title="Discounts"
        description="Discounts for one customer or every customer, on a product type, a product, a variant or one billing cycle. They apply to purchases and renewals automatically."
        actions={
          <Button component={Link} to="/admin/discount/new" leftSection={<IconPlus size={16} />}>
            New discount
          </Button>
        }
      />
      <PrecedenceHelp compact />
      <Paper withBorder radius="md" p="md">
        <Stack>
          <Group align="flex-end" gap="sm" role="search" aria-label="Filter discounts">
            <CustomerSelect label="Customer" value={customerId || null} onChange={(id) => setFilters({ customerId: id ?? '' })} w={260} clearable placeholder="Any customer" />
            <Select
              label="Target" w={170} clearable placeholder="Any target" value={target || null} onChange={(v) => setFilters({ target: v ?? '' })}
              data={[{ value: 'customer', label: 'One customer' }, { value: 'all', label: 'Every customer' }]}
            />
            <Select label="Scope" w={240} clearable placeholder="Any scope" value={scope || null} onChange={(v) => setFilters({ scope: v ?? '' })} data={SCOPES} />
            <Select
              label="Status" w={160} clearable placeholder="Any status" value={status || null} onChange={(v) => setFilters({ status: v ?? '' })}
              data={[{ value: 'active', label: 'Active' }, { value: 'scheduled', label: 'Scheduled' }, { value: 'ended', label: 'Ended' }]}
            />
          </Group>
          <DataTable
            label="Discounts"
            rows={list.rows}
            loading={list.isPending}
            error={list.error}
            onRetry={() => void list.refetch()}
            rowKey={(d) => d.id}
            onRowClick={(d) => void navigate(`/admin/discount/${d.id}`)}
            emptyTitle="No discounts"
            emptyDescription="Create one with New discount: you will see its effect on margins before you save it."
            columns={[
              { key: 'name', header: 'Discount', render: (d) => <Text size="sm" fw={550}>{d.name}</Text> },
              {
                key: 'target', header: 'For',
                render: (d) => (d.customer ? d.customer.name : <Badge variant="light" color="gray" radius="sm">Every customer</Badge>),
              },
              { key: 'scope', header: 'Scope', render: (d) => <Text size="sm">{d.scopeLabel}</Text> },
              { key: 'rate', header: 'Discount', align: 'right', render: (d) => <Text size="sm" ff="monospace">{rateOf(d)}</Text> },
              { key: 'period', header: 'Period', render: (d) => <Text size="sm">{periodOf(d)}</Text> },
              { key: 'status', header: 'Status', render: (d) => <DiscountStatusBadge status={d.status} /> },
            ]}
            footer={<LoadMore hasNextPage={list.hasNextPage} isFetchingNextPage={list.isFetchingNextPage} onLoadMore={() => void list.fetchNextPage()} />}
          />
        </Stack>
      </Paper>
    </Stack>
  );
}
