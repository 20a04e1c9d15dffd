import { Link } from 'react-router';
import { Anchor, Paper, Text } from '@mantine/core';
import { formatDate } from '../shared/format.ts';
import { usePagedList } from '../shared/queries.ts';
import { DataTable, LoadMore, PageHeader, StatusBadge } from '../shared/ui.tsx';
import type { OperatorPartner } from '../shared/types.ts';

export function usePartners() {
  return usePagedList<OperatorPartner>(['operator', 'partners'], '/api/v1/operator/partners', { limit: 200 });
}

export function PartnersPage() {
  const partners = usePartners();
  return (
    <>
      <PageHeader mb="lg" title="Partners" description="Service providers running on this Folio platform." />
      <Paper withBorder radius="md" p="md">
        <DataTable
          label="Partners"
          rows={partners.rows}
          loading={partners.isPending}
          error={partners.error}
          onRetry={() => void partners.refetch()}
          rowKey={(p) => p.id}
          emptyTitle="No partners yet"
          footer={<LoadMore hasNextPage={partners.hasNextPage} isFetchingNextPage={partners.isFetchingNextPage} onLoadMore={() => void partners.fetchNextPage()} />}
          columns={[
            {
              key: 'name',
              header: 'Partner',
              render: (p) => (
                <div>
                  <Text size="sm" fw={500}>
                    {p.name}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {p.slug}
                  </Text>
                </div>
              ),
            },
            { key: 'status', header: 'Status', render: (p) => <StatusBadge status={p.status} /> },
            { key: 'staff', header: 'Staff', align: 'right', render: (p) => p.staffCount },
            { key: 'customers', header: 'Customers', align: 'right', render: (p) => p.customerCount },
            { key: 'created', header: 'Created', render: (p) => formatDate(p.createdAt) },
            {
              key: 'links',
              header: 'Activity',
              render: (p) => (
                <Anchor component={Link} to={`/operator/audit?partnerId=${p.id}`} size="sm">
                  Audit events
                </Anchor>
              ),
            },
          ]}
        />
      </Paper>
    </>
  );
}
