import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Group, Modal, Stack, TextInput, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconUserPlus } from '@tabler/icons-react';
import { api } from '../../shared/api.ts';
import { ConfirmButton } from '../../shared/ConfirmButton.tsx';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatDateTime } from '../../shared/format.ts';
import { usePagedList } from '../../shared/queries.ts';
import { useSession } from '../../shared/session.tsx';
import { DataTable, LoadMore, StatusBadge } from '../../shared/ui.tsx';
import type { AppName, StaffInvitation } from '../../shared/types.ts';
import { AppPicker } from './AppPicker.tsx';
import { STAFF_KEY } from './StaffTab.tsx';

const INVITATIONS_KEY = ['staff-invitations'] as const;

export function InvitationsTab() {
  const session = useSession();
  // Only apps the inviter holds can be given (docs/adr/0039); Finance only by the operator.
  const givable = (a: AppName) => a !== 'finance' && session.apps.includes(a);
  const firstApps: AppName[] = givable('customer') ? ['customer'] : [];
  const queryClient = useQueryClient();
  const invitations = usePagedList<StaffInvitation>(INVITATIONS_KEY, '/api/v1/staff/invitations');
  const [open, setOpen] = useState(false);
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [apps, setApps] = useState<AppName[]>(firstApps);
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: INVITATIONS_KEY });
    await queryClient.invalidateQueries({ queryKey: STAFF_KEY });
  };
  const invite = useMutation({
    mutationFn: () => api.post<{ id: string; email: string }>('/api/v1/staff/invitations', { email: email.trim(), name: name.trim(), apps }),
    onSuccess: async (answer) => {
      notifications.show({ color: 'teal', title: 'Invitation sent', message: `We emailed an invitation to ${answer.email}.` });
      setOpen(false);
      setEmail('');
      setName('');
      setApps(firstApps);
      invite.reset();
      await refresh();
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate();
  };
  const revoke = async (inv: StaffInvitation) => {
    await api.post(`/api/v1/staff/invitations/${inv.id}/revoke`);
    notifications.show({ color: 'teal', message: `Invitation to ${inv.email} revoked.` });
    await refresh();
  };

  return (
    <Stack>
      <Group justify="flex-end">
        <Button leftSection={<IconUserPlus size={16} />} onClick={() => setOpen(true)}>
          Invite staff member
        </Button>
      </Group>
      <DataTable
        label="Staff invitations"
        rows={invitations.rows}
        loading={invitations.isPending}
        error={invitations.error}
        onRetry={() => void invitations.refetch()}
        rowKey={(i) => i.id}
        emptyTitle="No invitations"
        emptyDescription="Invite a colleague to give them access to the admin portal."
        footer={<LoadMore hasNextPage={invitations.hasNextPage} isFetchingNextPage={invitations.isFetchingNextPage} onLoadMore={() => void invitations.fetchNextPage()} />}
        columns={[
          { key: 'email', header: 'Email', render: (i) => i.email },
          { key: 'status', header: 'Status', render: (i) => <StatusBadge status={i.status} /> },
          { key: 'sent', header: 'Sent', render: (i) => formatDateTime(i.createdAt) },
          { key: 'expires', header: 'Expires', render: (i) => formatDateTime(i.expiresAt) },
          {
            key: 'actions',
            header: <VisuallyHidden>Actions</VisuallyHidden>,
            align: 'right',
            render: (i) =>
              i.status === 'pending' ? (
                <ConfirmButton
                  label="Revoke"
                  ariaLabel={`Revoke invitation to ${i.email}`}
                  title="Revoke this invitation?"
                  message={`The link sent to ${i.email} will stop working.`}
                  color="red"
                  onConfirm={() => revoke(i)}
                />
              ) : null,
          },
        ]}
      />
      <Modal opened={open} onClose={() => setOpen(false)} title="Invite staff member" centered size="lg">
        <form onSubmit={onSubmit} noValidate aria-label="Invite staff member">
          <Stack>
            <FormError error={invite.error} fields={['email', 'name', 'apps']} />
            <Group grow align="flex-start">
              <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(invite.error, 'name')} required data-autofocus />
              <TextInput label="Email" type="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={fieldError(invite.error, 'email')} required />
            </Group>
            <AppPicker
              label="Apps"
              description="Only apps you hold. Finance is granted only by the platform operator, on request."
              value={apps}
              onChange={setApps}
              allowed={givable}
              error={fieldError(invite.error, 'apps')}
            />
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button type="submit" loading={invite.isPending}>
                Send invitation
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </Stack>
  );
}
