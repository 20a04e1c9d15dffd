import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Group, Modal, Paper, Stack, Text, Textarea, ThemeIcon, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconCash, IconClock } from '@tabler/icons-react';
import { api } from '../shared/api.ts';
import { FormError, fieldError } from '../shared/forms.tsx';
import { formatDateTime } from '../shared/format.ts';
import { DataTable, StatusBadge } from '../shared/ui.tsx';
import type { AccessRequest } from '../shared/types.ts';
import { appLabel } from '../shared/apps.tsx';

export const MY_REQUESTS_KEY = ['me', 'access-requests'] as const;

export function useMyAccessRequests() {
  return useQuery({
    queryKey: MY_REQUESTS_KEY,
    queryFn: ({ signal }) => api.get<{ data: AccessRequest[] }>('/api/v1/me/access-requests', {}, signal),
  });
}

/** "Request access to the Finance app": the operator grants it; shows the state of the user's own requests. */
export function FinanceAccessPanel() {
  const queryClient = useQueryClient();
  const mine = useMyAccessRequests();
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState('');
  const request = useMutation({
    mutationFn: () => api.post<AccessRequest>('/api/v1/access-requests', { app: 'finance', ...(note.trim() ? { note: note.trim() } : {}) }),
    onSuccess: async () => {
      setOpen(false);
      setNote('');
      notifications.show({ color: 'teal', title: 'Request sent', message: 'The platform operator will review your request for the Finance app.' });
      await queryClient.invalidateQueries({ queryKey: MY_REQUESTS_KEY });
    },
  });
  const finance = (mine.data?.data ?? []).filter((r) => r.app === 'finance');
  const pending = finance.find((r) => r.status === 'pending');
  const latestDeclined = finance.filter((r) => r.status === 'declined').sort((a, b) => (b.decidedAt ?? b.createdAt).localeCompare(a.decidedAt ?? a.createdAt))[0];

  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="finance-access-title">
      <Group align="flex-start" wrap="nowrap" gap="md">
        {/* Not on a phone: beside it, the request button ran past the card and the screen (the Home page was 434 px wide). */}
        <ThemeIcon size={44} radius="md" variant="light" color="grape" visibleFrom="sm">
          <IconCash size={24} />
        </ThemeIcon>
        <Stack gap="xs" style={{ flex: 1, minWidth: 0 }}>
          <Title order={3} size="h4" id="finance-access-title">
            Finance app
          </Title>
          <Text size="sm" c="dimmed">
            Record the payments your customers send you (bank transfer, GIRO, cheque, cash, card) and issue credit notes. Because it moves money, the
            Finance app is granted by the platform operator on request.
          </Text>
          {pending ? (
            <Alert color="yellow" variant="light" icon={<IconClock size={18} />} title="Your request is pending" role="status">
              You asked for the Finance app on {formatDateTime(pending.createdAt)}. You will get an email when the platform operator decides.
            </Alert>
          ) : latestDeclined ? (
            <Alert color="red" variant="light" title="Your last request was declined" role="status">
              {latestDeclined.decisionNote ? <>Note from the operator: “{latestDeclined.decisionNote}”</> : 'The operator left no note.'} You can ask again.
            </Alert>
          ) : null}
          <Group>
            {/* Its label may wrap: on one line it is wider than the card on a phone. */}
            <Button leftSection={<IconCash size={16} />} onClick={() => setOpen(true)} disabled={!!pending || mine.isPending}
              h="auto" mih={36} py={6} styles={{ label: { whiteSpace: 'normal' } }}>
              Request access to the Finance app
            </Button>
          </Group>
          {finance.length > 0 ? (
            <DataTable
              label="My access requests"
              rows={finance}
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
      <Modal opened={open} onClose={() => setOpen(false)} title="Request access to the Finance app" centered>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            request.mutate();
          }}
        >
          <Stack>
            <FormError error={request.error} fields={['note']} />
            <Text size="sm">The platform operator reviews requests for the Finance app. Say why you need it, if you like.</Text>
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
