import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Badge, Box, Button, Group, Modal, Paper, Select, Stack, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconUserPlus } from '@tabler/icons-react';
import { api, errorMessage } from '../shared/api.ts';
import { ConfirmButton } from '../shared/ConfirmButton.tsx';
import { FormError, fieldError } from '../shared/forms.tsx';
import { titleCase } from '../shared/format.ts';
import { SESSION_KEY, useSession } from '../shared/session.tsx';
import { DataTable, PageHeader, StatusBadge } from '../shared/ui.tsx';
import type { CustomerRole, PortalMember } from '../shared/types.ts';
import { useAccountClosed } from './ClosedAccount.tsx';
import { lineRings, type VirtualLine } from './services/types.ts';

const MEMBERS_KEY = ['portal', 'members'] as const;

const ROLE_HELP: Record<CustomerRole, string> = {
  owner: 'All rights; can transfer ownership',
  admin: 'Everything except roles and company details',
  member: 'Cannot see or use the organisation’s points or change billing',
  guest: 'As Member, and cannot use the organisation’s points at all',
};

export function MembersPage() {
  const session = useSession();
  const queryClient = useQueryClient();
  const me = session.customer?.role ?? 'guest';
  // A closed organisation invites no one new (the API answers 409; the page's notice says so).
  const closed = useAccountClosed();
  const canInvite = (me === 'owner' || me === 'admin') && !closed;
  const members = useQuery({ queryKey: MEMBERS_KEY, queryFn: ({ signal }) => api.get<{ data: PortalMember[] }>('/api/v1/portal/members', {}, signal) });
  // The active lines (first page: 100), so that removing someone says which lines ring them.
  const lines = useQuery({
    queryKey: [...MEMBERS_KEY, 'lines'],
    queryFn: ({ signal }) => api.get<{ data: VirtualLine[] }>('/api/v1/portal/virtual-lines', { status: 'active', limit: 100 }, signal),
    enabled: canInvite,
    staleTime: 30_000,
  });
  const linesRinging = (m: PortalMember) => (lines.data?.data ?? []).filter((l) => lineRings(l, m.id)).map((l) => `${l.name} (${l.number})`);
  const [inviteOpen, setInviteOpen] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: MEMBERS_KEY });

  const changeRole = useMutation({
    mutationFn: ({ userId, role }: { userId: string; role: CustomerRole }) => api.patch<PortalMember>(`/api/v1/portal/members/${userId}`, { role }),
    onSuccess: async (m) => {
      notifications.show({ color: 'teal', message: `${m.name} is now ${titleCase(m.role)}.` });
      await refresh();
    },
    onError: (e) => notifications.show({ color: 'red', title: 'Role not changed', message: errorMessage(e) }),
  });
  const remove = async (m: PortalMember) => {
    await api.post(`/api/v1/portal/members/${m.id}/remove`);
    notifications.show({ color: 'teal', message: `${m.name} was removed.` });
    await refresh();
  };
  const transfer = async (m: PortalMember) => {
    await api.post('/api/v1/portal/ownership-transfer', { userId: m.id });
    notifications.show({ color: 'teal', title: 'Ownership transferred', message: `${m.name} is now the owner. You are an admin.` });
    await queryClient.invalidateQueries({ queryKey: SESSION_KEY });
    await refresh();
  };
  const canRemove = (m: PortalMember) =>
    m.id !== session.user.id && m.role !== 'owner' && m.status !== 'disabled' && (me === 'owner' || (me === 'admin' && m.role !== 'admin'));
  /** Make owner and Remove, as far as the signed-in member may: in their own column, or under the name on a phone. */
  const memberActions = (m: PortalMember, under = false) => (
    <Group gap={6} justify={under ? 'flex-start' : 'flex-end'} wrap={under ? 'wrap' : 'nowrap'}>
      {me === 'owner' && m.role !== 'owner' && m.status === 'active' ? (
        <ConfirmButton
          label="Make owner"
          ariaLabel={`Make ${m.name} the owner`}
          title={`Transfer ownership to ${m.name}?`}
          message={`${m.name} becomes the owner with all rights. You become an admin and can no longer change roles.`}
          confirmLabel="Transfer ownership"
          color="orange"
          onConfirm={() => transfer(m)}
        />
      ) : null}
      {canRemove(m) ? (
        <ConfirmButton
          label="Remove"
          ariaLabel={`Remove ${m.name}`}
          title={`Remove ${m.name}?`}
          message={
            linesRinging(m).length > 0
              ? `${m.name} can no longer sign in to this portal. Calls to ${linesRinging(m).join(', ')} will no longer reach them: `
                + 'change those lines in Services to send calls to someone else.'
              : `${m.name} can no longer sign in to this portal.`
          }
          color="red"
          onConfirm={() => remove(m)}
        />
      ) : null}
    </Group>
  );

  return (
    <Stack>
      <PageHeader
        title="Members"
        description={`People who can sign in to ${session.customer?.name ?? 'your organisation'}'s portal.`}
        actions={
          canInvite ? (
            <Button leftSection={<IconUserPlus size={16} />} onClick={() => setInviteOpen(true)}>
              Invite member
            </Button>
          ) : null
        }
      />
      <Paper withBorder radius="md" p="md">
        <DataTable
          label="Members"
          rows={members.data?.data}
          loading={members.isPending}
          error={members.error}
          onRetry={() => void members.refetch()}
          rowKey={(m) => m.id}
          emptyTitle="No members"
          columns={[
            {
              key: 'name',
              header: 'Name',
              render: (m) => (
                <div>
                  <Text size="sm" fw={500}>
                    {m.name}{' '}
                    {m.id === session.user.id ? (
                      <Badge size="xs" variant="light" ml={4}>
                        You
                      </Badge>
                    ) : null}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {m.email}
                    {/* On a phone the Email column is left out: whether the address is verified comes after it. */}
                    <Box component="span" hiddenFrom="sm">
                      {m.emailVerified ? ' · verified' : ' · unverified'}
                    </Box>
                  </Text>
                  {/* On a phone the status and the actions sit under the name (their columns are left out). */}
                  <Group hiddenFrom="sm" gap={6} mt={6}>
                    <StatusBadge status={m.status === 'disabled' ? 'removed' : m.status} />
                    {memberActions(m, true)}
                  </Group>
                </div>
              ),
            },
            {
              key: 'role',
              header: 'Role',
              render: (m) =>
                me === 'owner' && m.role !== 'owner' && m.status !== 'disabled' ? (
                  <Select
                    aria-label={`Role for ${m.name}`}
                    size="xs"
                    w={130}
                    data={[
                      { value: 'admin', label: 'Admin' },
                      { value: 'member', label: 'Member' },
                      { value: 'guest', label: 'Guest' },
                    ]}
                    value={m.role}
                    allowDeselect={false}
                    disabled={changeRole.isPending && changeRole.variables?.userId === m.id}
                    onChange={(v) => v && v !== m.role && changeRole.mutate({ userId: m.id, role: v })}
                  />
                ) : (
                  <Text size="sm" title={ROLE_HELP[m.role]}>
                    {titleCase(m.role)}
                  </Text>
                ),
            },
            { key: 'status', header: 'Status', visibleFrom: 'sm', render: (m) => <StatusBadge status={m.status === 'disabled' ? 'removed' : m.status} /> },
            { key: 'email', header: 'Email', visibleFrom: 'sm', render: (m) => (m.emailVerified ? 'Verified' : 'Unverified') },
            {
              key: 'actions',
              header: <VisuallyHidden>Actions</VisuallyHidden>,
              align: 'right',
              visibleFrom: 'sm',
              render: (m) => memberActions(m),
            },
          ]}
        />
      </Paper>
      {canInvite ? <InviteMemberModal opened={inviteOpen} onClose={() => setInviteOpen(false)} myRole={me} onInvited={refresh} /> : null}
    </Stack>
  );
}

function InviteMemberModal({ opened, onClose, myRole, onInvited }: { opened: boolean; onClose: () => void; myRole: CustomerRole; onInvited: () => Promise<void> }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<string | null>('member');
  const roles = (myRole === 'owner' ? (['admin', 'member', 'guest'] as const) : (['member', 'guest'] as const)).map((r) => ({ value: r, label: `${titleCase(r)} — ${ROLE_HELP[r]}` }));
  const invite = useMutation({
    mutationFn: () => api.post('/api/v1/portal/members/invitations', { email: email.trim(), name: name.trim(), role }),
    onSuccess: async () => {
      notifications.show({ color: 'teal', title: 'Invitation sent', message: `We emailed an invitation to ${email.trim()}.` });
      setEmail('');
      setName('');
      setRole('member');
      invite.reset();
      onClose();
      await onInvited();
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate();
  };
  return (
    <Modal opened={opened} onClose={onClose} title="Invite member" centered size="lg">
      <form onSubmit={onSubmit} noValidate aria-label="Invite member">
        <Stack>
          <FormError error={invite.error} fields={['email', 'name', 'role']} />
          <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(invite.error, 'name')} required data-autofocus />
          <TextInput label="Email" type="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={fieldError(invite.error, 'email')} required />
          <Select label="Role" data={roles} value={role} onChange={setRole} allowDeselect={false} error={fieldError(invite.error, 'role')} required />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={invite.isPending}>
              Send invitation
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
