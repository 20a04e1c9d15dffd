import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Button, Group, Stack, Switch, Text, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconPlus } from '@tabler/icons-react';
import { api } from '../../shared/api.ts';
import { usePagedList } from '../../shared/queries.ts';
import { ServiceActions, UnderNameOnPhone } from './ServiceActions.tsx';
import { DataTable, LoadMore, StatusWithRemoval } from '../../shared/ui.tsx';
import { subscriptionLabel, useMembers, usePortalSubscriptions } from './queries.ts';
import { VirtualLineDialog } from './VirtualLineDialog.tsx';
import { SERVICES_KEY, type VirtualLine } from './types.ts';

const KEY = [...SERVICES_KEY, 'virtual-lines'] as const;

/** The organisation's virtual lines: everyone reads them; owners and admins add, edit and remove them. */
export function VirtualLinesTab({ canManage }: { canManage: boolean }) {
  const queryClient = useQueryClient();
  const [showRemoved, setShowRemoved] = useState(false);
  const lines = usePagedList<VirtualLine>(KEY, '/api/v1/portal/virtual-lines', { status: showRemoved ? 'all' : 'active' });
  const members = useMembers();
  const subscriptions = usePortalSubscriptions();
  const subscriptionList = subscriptions.data?.data ?? null;
  const [editing, setEditing] = useState<{ line: VirtualLine | null; key: number } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: KEY });

  const remove = async (l: VirtualLine) => {
    await api.post(`/api/v1/portal/virtual-lines/${l.id}/remove`, { version: l.version });
    notifications.show({ color: 'teal', message: `${l.name} (${l.number}) was removed.` });
    await refresh();
  };
  /** Edit and Remove of an active line: in their own column, or under its name on a phone. */
  const lineActions = (l: VirtualLine, under = false) =>
    l.status === 'active' ? (
      <ServiceActions
        name={l.name}
        removeMessage={`${l.number} stops ringing. The line stays on record in your audit history.`}
        onEdit={() => setEditing({ line: l, key: Date.now() })}
        onRemove={() => remove(l)}
        under={under}
      />
    ) : null;
  const subscriptionName = (id: string | null) => {
    if (!id) return '—';
    const s = subscriptionList?.find((x) => x.id === id);
    return s ? subscriptionLabel(s) : id;
  };

  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <Switch label="Show removed lines" checked={showRemoved} onChange={(e) => setShowRemoved(e.currentTarget.checked)} />
        {canManage ? (
          <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing({ line: null, key: Date.now() })}>
            Add virtual line
          </Button>
        ) : null}
      </Group>
      <DataTable
        label="Virtual lines"
        rows={lines.rows}
        loading={lines.isPending}
        error={lines.error}
        onRetry={() => void lines.refetch()}
        rowKey={(l) => l.id}
        emptyTitle="No virtual lines"
        emptyDescription={canManage ? 'Add a line to route calls to your people, a group, or another number.' : 'Your organisation has no virtual lines yet.'}
        columns={[
          {
            key: 'line',
            header: 'Line',
            render: (l) => (
              <div>
                <Text size="sm" fw={500}>
                  {l.name}
                </Text>
                <Text size="xs" c="dimmed" ff="monospace">
                  {l.number}
                </Text>
                <UnderNameOnPhone status={l.status} removedAt={l.removedAt} actions={canManage ? lineActions(l, true) : null} />
              </div>
            ),
          },
          { key: 'destination', header: 'Calls go to', render: (l) => <Text size="sm">{l.destinationSummary}</Text> },
          { key: 'hours', header: 'Business hours', minWidth: 180, visibleFrom: 'sm', render: (l) => <Text size="sm">{l.businessHoursSummary}</Text> },
          { key: 'subscription', header: 'Subscription', visibleFrom: 'md', render: (l) => <Text size="sm">{subscriptionName(l.subscriptionId)}</Text> },
          {
            key: 'status',
            header: 'Status',
            visibleFrom: 'sm',
            render: (l) => <StatusWithRemoval status={l.status} removedAt={l.removedAt} />,
          },
          ...(canManage
            ? [
                {
                  key: 'actions',
                  header: <VisuallyHidden>Actions</VisuallyHidden>,
                  align: 'right' as const,
                  visibleFrom: 'sm' as const,
                  render: (l: VirtualLine) => lineActions(l),
                },
              ]
            : []),
        ]}
        footer={<LoadMore hasNextPage={lines.hasNextPage} isFetchingNextPage={lines.isFetchingNextPage} onLoadMore={() => void lines.fetchNextPage()} />}
      />
      {canManage && editing ? (
        <VirtualLineDialog
          key={editing.key}
          opened
          line={editing.line}
          members={members.data ?? []}
          subscriptions={subscriptionList}
          onClose={() => setEditing(null)}
          onStale={refresh}
          onSaved={async (l, created) => {
            notifications.show({ color: 'teal', message: created ? `${l.name} (${l.number}) was added.` : `${l.name} was saved.` });
            setEditing(null);
            await refresh();
          }}
        />
      ) : null}
    </Stack>
  );
}
