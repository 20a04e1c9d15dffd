import { Text } from '@mantine/core';
import { appLabel } from '../../shared/apps.tsx';
import { formatDateTime } from '../../shared/format.ts';
import { usePagedList } from '../../shared/queries.ts';
import { DataTable, LoadMore, StatusBadge } from '../../shared/ui.tsx';
import type { AccessRequest } from '../../shared/types.ts';

export function AccessRequestsTab() {
  const requests = usePagedList<AccessRequest>(['access-requests'], '/api/v1/access-requests');
  return (
    <DataTable
      label="Access requests"
      rows={requests.rows}
      loading={requests.isPending}
      error={requests.error}
      onRetry={() => void requests.refetch()}
      rowKey={(r) => r.id}
      emptyTitle="No access requests"
      emptyDescription="When staff ask the platform operator for an app, their requests appear here."
      footer={<LoadMore hasNextPage={requests.hasNextPage} isFetchingNextPage={requests.isFetchingNextPage} onLoadMore={() => void requests.fetchNextPage()} />}
      columns={[
        {
          key: 'who',
          header: 'Staff member',
          render: (r) => (
            <div>
              <Text size="sm" fw={500}>
                {r.user?.name ?? '—'}
              </Text>
              <Text size="xs" c="dimmed">
                {r.user?.email}
              </Text>
            </div>
          ),
        },
        { key: 'app', header: 'App', render: (r) => appLabel(r.app) },
        { key: 'note', header: 'Reason', render: (r) => r.note ?? '—' },
        { key: 'status', header: 'Status', render: (r) => <StatusBadge status={r.status} /> },
        { key: 'requested', header: 'Requested', render: (r) => formatDateTime(r.createdAt) },
        { key: 'decided', header: 'Decided', render: (r) => (r.decidedAt ? formatDateTime(r.decidedAt) : '—') },
        { key: 'decision', header: 'Operator note', render: (r) => r.decisionNote ?? '—' },
      ]}
    />
  );
}
