import { useQueryClient } from '@tanstack/react-query';
import { Group, Paper, Stack, Text, Title, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { api } from '../shared/api.ts';
import { appLabel } from '../shared/apps.tsx';
import { ConfirmButton } from '../shared/ConfirmButton.tsx';
import { formatDateTime } from '../shared/format.ts';
import { usePagedList } from '../shared/queries.ts';
import { DataTable, LoadMore, PageHeader, StatusBadge, type Column } from '../shared/ui.tsx';
import type { OperatorAccessRequest } from '../shared/types.ts';
import { usePendingRequests } from './OperatorLayout.tsx';

const who: Column<OperatorAccessRequest> = {
  key: 'who',
  header: 'Requested by',
  render: (r) => (
    <div>
      <Text size="sm" fw={500}>
        {r.user.name}
      </Text>
      <Text size="xs" c="dimmed">
        {r.user.email}
      </Text>
    </div>
  ),
};
const partner: Column<OperatorAccessRequest> = { key: 'partner', header: 'Partner', render: (r) => r.partner.name };
const app: Column<OperatorAccessRequest> = { key: 'app', header: 'App', render: (r) => appLabel(r.app) };
const reason: Column<OperatorAccessRequest> = { key: 'note', header: 'Reason', render: (r) => r.note ?? '—' };

export function AccessRequestsPage() {
  const queryClient = useQueryClient();
  const pending = usePendingRequests();
  const all = usePagedList<OperatorAccessRequest>(['operator', 'access-requests', 'all'], '/api/v1/operator/access-requests');
  const decided = all.rows?.filter((r) => r.status !== 'pending');
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: ['operator', 'access-requests'] });
  };
  const decide = async (r: OperatorAccessRequest, verdict: 'approve' | 'decline', note: string) => {
    await api.post(`/api/v1/operator/access-requests/${r.id}/${verdict}`, note ? { note } : {});
    notifications.show({
      color: verdict === 'approve' ? 'teal' : 'orange',
      title: verdict === 'approve' ? 'Access granted' : 'Request declined',
      message: `${r.user.name} (${r.partner.name}) ${verdict === 'approve' ? `now has the ${appLabel(r.app)} app` : 'has been told'}; they get an email.`,
    });
    await refresh();
  };

  return (
    <Stack maw={1200}>
      <PageHeader title="Access requests" description="Partner staff asking for apps: Finance, which only you grant, or any other their colleagues cannot give them. Approving grants the app at once and emails the requester." />
      <Paper withBorder radius="md" p="md" component="section" aria-labelledby="pending-title">
        <Title order={3} size="h4" mb="md" id="pending-title">
          Pending
        </Title>
        <DataTable
          label="Pending access requests"
          rows={pending.data?.data}
          loading={pending.isPending}
          error={pending.error}
          onRetry={() => void pending.refetch()}
          rowKey={(r) => r.id}
          emptyTitle="Nothing waiting"
          emptyDescription="New requests from partner staff appear here."
          columns={[
            who,
            partner,
            app,
            reason,
            { key: 'requested', header: 'Requested', render: (r) => formatDateTime(r.createdAt) },
            {
              key: 'actions',
              header: <VisuallyHidden>Decision</VisuallyHidden>,
              align: 'right',
              render: (r) => (
                <Group gap={6} justify="flex-end" wrap="nowrap">
                  <ConfirmButton
                    label="Approve"
                    title={`Grant ${appLabel(r.app)} to ${r.user.name}?`}
                    message={`${r.user.name} (${r.user.email}) at ${r.partner.name} gets the ${appLabel(r.app)} app at once.`}
                    color="teal"
                    buttonProps={{ variant: 'filled' }}
                    withNote
                    noteLabel="Note to the requester (optional)"
                    onConfirm={(note) => decide(r, 'approve', note)}
                  />
                  <ConfirmButton
                    label="Decline"
                    title={`Decline ${r.user.name}'s request?`}
                    message="They will get an email with your note."
                    color="red"
                    withNote
                    noteLabel="Reason (optional)"
                    onConfirm={(note) => decide(r, 'decline', note)}
                  />
                </Group>
              ),
            },
          ]}
        />
      </Paper>
      <Paper withBorder radius="md" p="md" component="section" aria-labelledby="decided-title">
        <Title order={3} size="h4" mb="md" id="decided-title">
          Decided
        </Title>
        <DataTable
          label="Decided access requests"
          rows={decided}
          loading={all.isPending}
          error={all.error}
          onRetry={() => void all.refetch()}
          rowKey={(r) => r.id}
          emptyTitle="No decisions yet"
          footer={<LoadMore hasNextPage={all.hasNextPage} isFetchingNextPage={all.isFetchingNextPage} onLoadMore={() => void all.fetchNextPage()} />}
          columns={[
            who,
            partner,
            app,
            { key: 'status', header: 'Decision', render: (r) => <StatusBadge status={r.status} /> },
            { key: 'decided', header: 'Decided', render: (r) => formatDateTime(r.decidedAt) },
            { key: 'decisionNote', header: 'Note', render: (r) => r.decisionNote ?? '—' },
          ]}
        />
      </Paper>
    </Stack>
  );
}
