import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Badge, Button, Checkbox, Group, Modal, NumberInput, Select, SimpleGrid, Stack, Switch, TagsInput, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconPlus } from '@tabler/icons-react';
import { api, isApiError } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { usePagedList } from '../../shared/queries.ts';
import { ServiceActions, UnderNameOnPhone } from './ServiceActions.tsx';
import { DataTable, LoadMore, StatusWithRemoval } from '../../shared/ui.tsx';
import { subscriptionLabel, usePortalSubscriptions } from './queries.ts';
import { SERVICES_KEY, WIDGETS, widgetLabel, type PortalSubscription, type Wallboard } from './types.ts';

const KEY = [...SERVICES_KEY, 'wallboards'] as const;

function refreshLabel(seconds: number): string {
  if (seconds % 60 === 0) return `every ${seconds / 60} min`;
  return `every ${seconds} s`;
}

/** The organisation's wallboards: everyone reads them; owners and admins add, edit and remove them. */
export function WallboardsTab({ canManage }: { canManage: boolean }) {
  const queryClient = useQueryClient();
  const [showRemoved, setShowRemoved] = useState(false);
  const boards = usePagedList<Wallboard>(KEY, '/api/v1/portal/wallboards', { status: showRemoved ? 'all' : 'active' });
  const subscriptions = usePortalSubscriptions();
  const subscriptionList = subscriptions.data?.data ?? null;
  const [editing, setEditing] = useState<{ board: Wallboard | null; key: number } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: KEY });

  const remove = async (b: Wallboard) => {
    await api.post(`/api/v1/portal/wallboards/${b.id}/remove`, { version: b.version });
    notifications.show({ color: 'teal', message: `${b.name} was removed.` });
    await refresh();
  };
  /** Edit and Remove of an active wallboard: in their own column, or under its name on a phone. */
  const boardActions = (b: Wallboard, under = false) =>
    b.status === 'active' ? (
      <ServiceActions
        name={b.name}
        removeMessage="The wallboard stops showing. It stays on record in your audit history."
        onEdit={() => setEditing({ board: b, key: Date.now() })}
        onRemove={() => remove(b)}
        under={under}
      />
    ) : null;

  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <Switch label="Show removed wallboards" checked={showRemoved} onChange={(e) => setShowRemoved(e.currentTarget.checked)} />
        {canManage ? (
          <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing({ board: null, key: Date.now() })}>
            Add wallboard
          </Button>
        ) : null}
      </Group>
      <DataTable
        label="Wallboards"
        rows={boards.rows}
        loading={boards.isPending}
        error={boards.error}
        onRetry={() => void boards.refetch()}
        rowKey={(b) => b.id}
        emptyTitle="No wallboards"
        emptyDescription={canManage ? 'Add a wallboard to show your queues live on a screen.' : 'Your organisation has no wallboards yet.'}
        columns={[
          {
            key: 'name',
            header: 'Name',
            render: (b) => (
              <div>
                <Text size="sm" fw={500}>
                  {b.name}
                </Text>
                <UnderNameOnPhone status={b.status} removedAt={b.removedAt} actions={canManage ? boardActions(b, true) : null} />
              </div>
            ),
          },
          {
            key: 'queues',
            header: 'Queues',
            render: (b) => (
              <Group gap={4}>
                {b.queues.map((q) => (
                  <Badge key={q} variant="outline" radius="sm" tt="none">
                    {q}
                  </Badge>
                ))}
              </Group>
            ),
          },
          { key: 'widgets', header: 'Widgets', minWidth: 200, visibleFrom: 'sm', render: (b) => <Text size="sm">{b.widgets.map(widgetLabel).join(', ')}</Text> },
          { key: 'refresh', header: 'Refresh', visibleFrom: 'sm', render: (b) => <Text size="sm">{refreshLabel(b.refreshIntervalSeconds)}</Text> },
          {
            key: 'subscription',
            header: 'Subscription',
            visibleFrom: 'md',
            render: (b) => {
              const s = b.subscriptionId ? subscriptionList?.find((x) => x.id === b.subscriptionId) : undefined;
              return <Text size="sm">{s ? subscriptionLabel(s) : (b.subscriptionId ?? '—')}</Text>;
            },
          },
          {
            key: 'status',
            header: 'Status',
            visibleFrom: 'sm',
            render: (b) => <StatusWithRemoval status={b.status} removedAt={b.removedAt} />,
          },
          ...(canManage
            ? [
                {
                  key: 'actions',
                  header: <VisuallyHidden>Actions</VisuallyHidden>,
                  align: 'right' as const,
                  visibleFrom: 'sm' as const,
                  render: (b: Wallboard) => boardActions(b),
                },
              ]
            : []),
        ]}
        footer={<LoadMore hasNextPage={boards.hasNextPage} isFetchingNextPage={boards.isFetchingNextPage} onLoadMore={() => void boards.fetchNextPage()} />}
      />
      {canManage && editing ? (
        <WallboardDialog
          key={editing.key}
          board={editing.board}
          subscriptions={subscriptionList}
          onClose={() => setEditing(null)}
          onStale={refresh}
          onSaved={async (b, created) => {
            notifications.show({ color: 'teal', message: created ? `${b.name} was added.` : `${b.name} was saved.` });
            setEditing(null);
            await refresh();
          }}
        />
      ) : null}
    </Stack>
  );
}

function WallboardDialog(props: {
  board: Wallboard | null;
  subscriptions: PortalSubscription[] | null;
  onClose: () => void;
  onSaved: (b: Wallboard, created: boolean) => Promise<void>;
  onStale: () => Promise<void>;
}) {
  const { board } = props;
  const [name, setName] = useState(board?.name ?? '');
  const [queues, setQueues] = useState<string[]>(board?.queues ?? []);
  const [widgets, setWidgets] = useState<string[]>(board?.widgets ?? ['calls_waiting', 'longest_wait', 'agents_available']);
  const [refresh, setRefresh] = useState<string | number>(board?.refreshIntervalSeconds ?? 30);
  const [subscriptionId, setSubscriptionId] = useState<string | null>(board?.subscriptionId ?? null);
  const body = () => ({
    name,
    queues,
    // In the order of the fixed list, whatever order they were ticked in.
    widgets: WIDGETS.map((w) => w.value).filter((w) => widgets.includes(w)),
    refreshIntervalSeconds: typeof refresh === 'number' ? refresh : Number(refresh),
    ...(props.subscriptions !== null || subscriptionId !== null ? { subscriptionId } : {}),
  });
  const save = useMutation({
    mutationFn: async () => {
      if (board) return { board: await api.patch<Wallboard>(`/api/v1/portal/wallboards/${board.id}`, { version: board.version, ...body() }), created: false };
      return { board: await api.post<Wallboard>('/api/v1/portal/wallboards', body()), created: true };
    },
    onSuccess: async (r) => props.onSaved(r.board, r.created),
    onError: async (e) => {
      if (isApiError(e) && e.code === 'stale_version') await props.onStale();
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const err = (path: string) => fieldError(save.error, path);
  const listError = (path: string, n: number) => err(path) ?? Array.from({ length: n }, (_x, i) => err(`${path}.${i}`)).find(Boolean);
  const stale = isApiError(save.error) && save.error.code === 'stale_version';
  const title = board ? `Edit ${board.name}` : 'Add wallboard';
  const fields = ['name', 'queues', 'widgets', 'refreshIntervalSeconds', 'subscriptionId', ...queues.map((_q, i) => `queues.${i}`), ...WIDGETS.map((_w, i) => `widgets.${i}`)];
  return (
    <Modal opened onClose={props.onClose} title={title} centered size="lg">
      <form onSubmit={onSubmit} noValidate aria-label={title}>
        <Stack>
          {stale ? (
            <Alert color="orange" title="Someone else changed this wallboard" role="alert">
              Your changes were not saved. Close this dialog and open the wallboard again to see the latest version.
            </Alert>
          ) : (
            <FormError error={save.error} fields={fields} />
          )}
          <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={err('name')} required data-autofocus />
          <TagsInput label="Queues shown" description="Type a queue name and press Enter" value={queues} onChange={setQueues} error={listError('queues', queues.length)} required clearable />
          <Checkbox.Group label="Widgets" value={widgets} onChange={setWidgets} error={listError('widgets', WIDGETS.length)} required>
            <SimpleGrid cols={{ base: 1, sm: 2 }} mt="xs" spacing={6}>
              {WIDGETS.map((w) => (
                <Checkbox key={w.value} value={w.value} label={w.label} />
              ))}
            </SimpleGrid>
          </Checkbox.Group>
          <NumberInput label="Refresh every (seconds)" description="5 to 3600" min={5} max={3600} allowDecimal={false} value={refresh} onChange={setRefresh} error={err('refreshIntervalSeconds')} required maw={220} />
          {props.subscriptions !== null ? (
            <Select
              label="Comes with subscription"
              placeholder="None"
              clearable
              data={props.subscriptions.filter((s) => s.status !== 'terminated' || s.id === subscriptionId).map((s) => ({ value: s.id, label: subscriptionLabel(s) }))}
              value={subscriptionId}
              onChange={setSubscriptionId}
              error={err('subscriptionId')}
              maw={420}
            />
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={props.onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              {board ? 'Save changes' : 'Add wallboard'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
