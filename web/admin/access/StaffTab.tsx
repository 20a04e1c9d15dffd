import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Badge, Button, Group, Modal, Stack, Switch, Text, Tooltip, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { api, errorMessage } from '../../shared/api.ts';
import { APPS, appLabel } from '../../shared/apps.tsx';
import { ConfirmButton } from '../../shared/ConfirmButton.tsx';
import { formatRelative } from '../../shared/format.ts';
import { usePagedList } from '../../shared/queries.ts';
import { useSession } from '../../shared/session.tsx';
import { DataTable, LoadMore, StatusBadge } from '../../shared/ui.tsx';
import type { AppName, StaffMember } from '../../shared/types.ts';

export const STAFF_KEY = ['staff'] as const;

export function StaffTab() {
  const session = useSession();
  const queryClient = useQueryClient();
  const staff = usePagedList<StaffMember>(STAFF_KEY, '/api/v1/staff');
  const [editing, setEditing] = useState<string | null>(null);
  const member = staff.rows?.find((s) => s.id === editing) ?? null;
  const refresh = () => queryClient.invalidateQueries({ queryKey: STAFF_KEY });

  const toggle = useMutation({
    mutationFn: ({ userId, app, on }: { userId: string; app: AppName; on: boolean }) =>
      on ? api.put<StaffMember>(`/api/v1/staff/${userId}/apps/${app}`) : api.delete<StaffMember>(`/api/v1/staff/${userId}/apps/${app}`),
    onSuccess: async (_m, v) => {
      notifications.show({ color: 'teal', message: `${appLabel(v.app)} ${v.on ? 'granted' : 'removed'}.` });
      await refresh();
    },
    onError: (e) => notifications.show({ color: 'red', title: 'Not changed', message: errorMessage(e) }),
  });

  const setEnabled = async (m: StaffMember, enable: boolean) => {
    await api.post<StaffMember>(`/api/v1/staff/${m.id}/${enable ? 'enable' : 'disable'}`);
    notifications.show({ color: 'teal', message: `${m.name} is ${enable ? 'enabled' : 'disabled'}.` });
    await refresh();
  };

  return (
    <>
      <DataTable
        label="Staff"
        rows={staff.rows}
        loading={staff.isPending}
        error={staff.error}
        onRetry={() => void staff.refetch()}
        rowKey={(m) => m.id}
        emptyTitle="No staff yet"
        emptyDescription="Invite colleagues from the Invitations tab."
        footer={<LoadMore hasNextPage={staff.hasNextPage} isFetchingNextPage={staff.isFetchingNextPage} onLoadMore={() => void staff.fetchNextPage()} />}
        columns={[
          {
            key: 'name',
            header: 'Name',
            card: 'title',
            render: (m) => (
              <div>
                <Text size="sm" fw={500}>
                  {m.name} {m.id === session.user.id ? <Badge size="xs" variant="light" ml={4}>You</Badge> : null}
                </Text>
                <Text size="xs" c="dimmed">
                  {m.email}
                </Text>
              </div>
            ),
          },
          { key: 'status', header: 'Status', card: 'status', render: (m) => <StatusBadge status={m.status} /> },
          {
            key: 'apps',
            header: 'Apps',
            card: 'field',
            render: (m) =>
              m.apps.length === 0 ? (
                <Text size="xs" c="dimmed">None</Text>
              ) : (
                <Group gap={4}>
                  {APPS.filter((a) => m.apps.includes(a.name)).map((a) => (
                    <Badge key={a.name} size="sm" variant="outline" color={a.name === 'finance' ? 'grape' : 'indigo'} radius="sm">
                      {a.label}
                    </Badge>
                  ))}
                </Group>
              ),
          },
          { key: 'login', header: 'Last sign-in', card: 'field', render: (m) => <Text size="sm">{formatRelative(m.lastLoginAt)}</Text> },
          {
            key: 'actions',
            header: <VisuallyHidden>Actions</VisuallyHidden>,
            align: 'right',
            card: 'actions',
            render: (m) => (
              <Group gap={6} justify="flex-end" wrap="nowrap">
                <Button size="xs" variant="default" onClick={() => setEditing(m.id)} aria-label={`Manage apps for ${m.name}`}>
                  Apps
                </Button>
                {m.id === session.user.id ? null : m.status === 'disabled' ? (
                  <ConfirmButton label="Enable" ariaLabel={`Enable ${m.name}`} title={`Enable ${m.name}?`} message={`${m.name} will be able to sign in again.`} color="teal" onConfirm={() => setEnabled(m, true)} />
                ) : (
                  <ConfirmButton
                    label="Disable"
                    ariaLabel={`Disable ${m.name}`}
                    title={`Disable ${m.name}?`}
                    message={`${m.name} is signed out everywhere and cannot sign in until enabled again. Their app grants are kept.`}
                    color="red"
                    onConfirm={() => setEnabled(m, false)}
                  />
                )}
              </Group>
            ),
          },
        ]}
      />
      <Modal opened={member !== null} onClose={() => setEditing(null)} title={member ? `Apps for ${member.name}` : ''} centered>
        {member ? (
          <Stack gap="sm">
            <Text size="sm" c="dimmed">
              Changes apply at once. {member.email}
            </Text>
            {APPS.map((a) => {
              const on = member.apps.includes(a.name);
              const ownAccess = a.name === 'access' && member.id === session.user.id;
              // Nobody gives an app they do not hold (docs/adr/0039); taking one away is always possible.
              const notHeld = !on && !session.apps.includes(a.name);
              const locked = a.name === 'finance' || ownAccess || notHeld;
              const why = a.name === 'finance'
                ? 'Granted by the platform operator through an access request'
                : ownAccess ? 'You cannot remove your own Access Control' : notHeld ? 'You can grant only apps you hold' : undefined;
              const pending = toggle.isPending && toggle.variables?.app === a.name && toggle.variables.userId === member.id;
              const sw = (
                <Switch
                  label={a.label}
                  description={why}
                  checked={on}
                  disabled={locked || pending}
                  onChange={(e) => toggle.mutate({ userId: member.id, app: a.name, on: e.currentTarget.checked })}
                />
              );
              return locked && why ? (
                <Tooltip key={a.name} label={why} position="top-start">
                  <div>{sw}</div>
                </Tooltip>
              ) : (
                <div key={a.name}>{sw}</div>
              );
            })}
            <Group justify="flex-end" mt="sm">
              <Button variant="default" onClick={() => setEditing(null)}>
                Done
              </Button>
            </Group>
          </Stack>
        ) : null}
      </Modal>
    </>
  );
}
