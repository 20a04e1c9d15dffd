import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Group, Modal, Paper, Stack, Text, Textarea, ThemeIcon, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconClock, IconUserCheck } from '@tabler/icons-react';
import { api } from '../shared/api.ts';
import { FormError, fieldError } from '../shared/forms.tsx';
import { formatDateTime } from '../shared/format.ts';
import { DataTable, StatusBadge } from '../shared/ui.tsx';
import type { AccessRequest, AppName } from '../shared/types.ts';
import { appInfo, appLabel } from '../shared/apps.tsx';
import { useSession } from '../shared/session.tsx';

export const MY_REQUESTS_KEY = ['me', 'access-requests'] as const;

export function useMyAccessRequests() {
  return useQuery({
    queryKey: MY_REQUESTS_KEY,
    queryFn: ({ signal }) => api.get<{ data: AccessRequest[] }>('/api/v1/me/access-requests', {}, signal),
  });
}

interface Grantor {
  id: string;
  name: string;
  email: string;
}

/** Colleagues who can grant the app (holding it and Access Control); none for Finance, which only the operator grants. */
function useGrantors(app: AppName) {
  return useQuery({
    queryKey: ['apps', app, 'grantors'],
    queryFn: ({ signal }) => api.get<{ data: Grantor[] }>(`/api/v1/apps/${app}/grantors`, {}, signal),
    enabled: app !== 'finance',
  });
}

/** "Ada Lovelace (ada@x.test)", "A and B", "A, B and C". */
function namesOf(grantors: readonly Grantor[]): string {
  const names = grantors.map((g) => `${g.name} (${g.email})`);
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * "Request access to the <app> app" for an app the viewer does not hold: the platform operator decides (docs/adr/0039,
 * amendment). Finance only the operator grants; any other app a colleague holding it and Access Control may grant
 * instead, and the panel names them, if anyone. Shows the state of the viewer's own requests for this app.
 */
export function AppAccessPanel({ app }: { app: AppName }) {
  const queryClient = useQueryClient();
  const session = useSession();
  const info = appInfo(app);
  const mine = useMyAccessRequests();
  const grantors = useGrantors(app);
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState('');
  const request = useMutation({
    mutationFn: () => api.post<AccessRequest>('/api/v1/access-requests', { app, ...(note.trim() ? { note: note.trim() } : {}) }),
    onSuccess: async () => {
      setOpen(false);
      setNote('');
      notifications.show({ color: 'teal', title: 'Request sent', message: `The platform operator will review your request for the ${info.label} app.` });
      await queryClient.invalidateQueries({ queryKey: MY_REQUESTS_KEY });
    },
  });
  const requests = (mine.data?.data ?? []).filter((r) => r.app === app);
  const pending = requests.find((r) => r.status === 'pending');
  const latestDeclined = requests.filter((r) => r.status === 'declined').sort((a, b) => (b.decidedAt ?? b.createdAt).localeCompare(a.decidedAt ?? a.createdAt))[0];
  const colleagues = grantors.data?.data ?? [];
  const titleId = `${app}-access-title`;
  const Icon = info.icon;

  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby={titleId}>
      <Group align="flex-start" wrap="nowrap" gap="md">
        {/* Not on a phone: beside it, the request button ran past the card and the screen (the Home page was 434 px wide). */}
        <ThemeIcon size={44} radius="md" variant="light" color="grape" visibleFrom="sm">
          <Icon size={24} />
        </ThemeIcon>
        <Stack gap="xs" style={{ flex: 1, minWidth: 0 }}>
          <Title order={3} size="h4" id={titleId}>
            {info.label} app
          </Title>
          {app === 'finance' ? (
            <Text size="sm" c="dimmed">
              Record the payments your customers send you (bank transfer, GIRO, cheque, cash, card) and issue credit notes. Because it moves money, the
              Finance app is granted by the platform operator on request.
            </Text>
          ) : (
            <>
              <Text size="sm" c="dimmed">
                {info.summary}
              </Text>
              {grantors.isSuccess ? (
                colleagues.length > 0 ? (
                  <Alert color="blue" variant="light" icon={<IconUserCheck size={18} />} title="A colleague can grant it" role="note">
                    {namesOf(colleagues)} {colleagues.length === 1 ? 'holds' : 'hold'} the {info.label} app and Access Control, and can grant it to you
                    at once. You can also ask the platform operator.
                  </Alert>
                ) : (
                  <Text size="sm">
                    Nobody at {session.partner?.name ?? 'your company'} can grant the {info.label} app any more: ask the platform operator.
                  </Text>
                )
              ) : null}
            </>
          )}
          {pending ? (
            <Alert color="yellow" variant="light" icon={<IconClock size={18} />} title="Your request is pending" role="status">
              You asked for the {info.label} app on {formatDateTime(pending.createdAt)}. You will get an email when the platform operator decides.
            </Alert>
          ) : latestDeclined ? (
            <Alert color="red" variant="light" title="Your last request was declined" role="status">
              {latestDeclined.decisionNote ? <>Note from the operator: “{latestDeclined.decisionNote}”</> : 'The operator left no note.'} You can ask again.
            </Alert>
          ) : null}
          <Group>
            {/* Its label may wrap: on one line it is wider than the card on a phone. */}
            <Button leftSection={<Icon size={16} />} onClick={() => setOpen(true)} disabled={!!pending || mine.isPending}
              h="auto" mih={36} py={6} styles={{ label: { whiteSpace: 'normal' } }}>
              Request access to the {info.label} app
            </Button>
          </Group>
          {requests.length > 0 ? (
            <DataTable
              label="My access requests"
              rows={requests}
              rowKey={(r) => r.id}
              emptyTitle="No requests yet"
              columns={[
                { key: 'app', header: 'App', render: (r) => appLabel(r.app) },
                { key: 'requested', header: 'Requested', render: (r) => formatDateTime(r.createdAt) },
                { key: 'status', header: 'Status', render: (r) => <StatusBadge status={r.status} /> },
                { key: 'decided', header: 'Decided', render: (r) => formatDateTime(r.decidedAt) },
                { key: 'note', header: 'Operator note', render: (r) => r.decisionNote ?? '—' },
              ]}
            />
          ) : mine.isError ? (
            <Text size="sm" c="red">
              Could not load your requests.
            </Text>
          ) : null}
        </Stack>
      </Group>
      <Modal opened={open} onClose={() => setOpen(false)} title={`Request access to the ${info.label} app`} centered>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            request.mutate();
          }}
        >
          <Stack>
            <FormError error={request.error} fields={['note']} />
            <Text size="sm">The platform operator reviews requests for the {info.label} app. Say why you need it, if you like.</Text>
            <Textarea label="Reason (optional)" value={note} onChange={(e) => setNote(e.currentTarget.value)} error={fieldError(request.error, 'note')} autosize minRows={3} maxRows={8} />
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button type="submit" loading={request.isPending}>
                Send request
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </Paper>
  );
}
