import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Badge, Button, Group, Paper, Stack, Text, Title, Tooltip, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconLock, IconSend } from '@tabler/icons-react';
import { api, errorMessage } from '../../shared/api.ts';
import { formatDateTime, titleCase } from '../../shared/format.ts';
import { StatusHistory } from '../../shared/MessageCard.tsx';
import { usePagedList } from '../../shared/queries.ts';
import { DataTable, LoadMore, StatusBadge } from '../../shared/ui.tsx';
import type { NotificationItem } from '../../shared/types.ts';

/** Kinds the server never sends again (a copy would hand out a still-valid secret). */
const NOT_RESENDABLE = new Set(['two_factor_code', 'password_reset']);
/** Kinds whose code or link is hidden from staff. */
const SECRET_KINDS = new Set(['two_factor_code', 'password_reset', 'email_verification', 'invitation']);

/** Customer detail > Notifications: everything sent to the customer's people, secrets hidden, with Resend. */
export function CustomerNotifications({ customerId }: { customerId: string }) {
  const key = ['customers', customerId, 'notifications'] as const;
  const list = usePagedList<NotificationItem>(key, `/api/v1/customers/${encodeURIComponent(customerId)}/notifications`, { limit: 50 });
  const queryClient = useQueryClient();
  const [open, setOpen] = useState<Set<string>>(new Set());
  const toggle = (nid: string) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(nid)) n.delete(nid);
      else n.add(nid);
      return n;
    });
  const resend = useMutation({
    mutationFn: (n: NotificationItem) => api.post<NotificationItem>(`/api/v1/notifications/${encodeURIComponent(n.id)}/resend`),
    onSuccess: async (copy) => {
      notifications.show({ color: 'teal', title: 'Sent again', message: `A copy of “${copy.subject}” is on its way to ${copy.toEmail}.` });
      await queryClient.invalidateQueries({ queryKey: key });
    },
    onError: (e) => notifications.show({ color: 'red', title: 'Not sent', message: errorMessage(e) }),
  });

  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="notifications-title">
      <Group justify="space-between" align="flex-start" wrap="nowrap">
        <div>
          <Title order={3} size="h4" id="notifications-title">
            Notifications
          </Title>
          <Text size="sm" c="dimmed" mb="md">
            Everything the system sent to this customer’s people: invoices, sign-in codes, verification emails, subscription notices, receipts.
            Codes and links stay hidden. Sign-in codes and password-reset links are never sent again.
          </Text>
        </div>
        {/* Its own width: beside the long description, a button that shrank cut its label to "Refr". */}
        <Button size="xs" variant="default" onClick={() => void list.refetch()} loading={list.isRefetching} style={{ flex: 'none' }}>
          Refresh
        </Button>
      </Group>
      <DataTable
        label="Notifications"
        rows={list.rows}
        footer={<LoadMore hasNextPage={list.hasNextPage} isFetchingNextPage={list.isFetchingNextPage} onLoadMore={() => void list.fetchNextPage()} />}
        loading={list.isPending}
        error={list.error}
        onRetry={() => void list.refetch()}
        rowKey={(n) => n.id}
        emptyTitle="Nothing sent yet"
        emptyDescription="Notifications to this customer’s users will be listed here."
        renderExpanded={(n) =>
          open.has(n.id) ? (
            <Stack gap="xs" p="xs">
              {n.bodyText ? (
                <Text component="pre" size="sm" p="sm" bg="white" bdrs="sm" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere', fontFamily: 'inherit', margin: 0, border: '1px solid var(--mantine-color-gray-3)' }}>
                  {n.bodyText}
                </Text>
              ) : null}
              <Text size="sm" fw={500}>
                Status history
              </Text>
              <StatusHistory history={n.history} />
              {n.lastError ? (
                <Text size="xs" c="red">
                  Last error: {n.lastError}
                </Text>
              ) : null}
              <Text size="xs" c="dimmed">
                Transport: {n.transport ?? '—'} · Attempts: {n.attempts} · Sent: {formatDateTime(n.sentAt)}
              </Text>
            </Stack>
          ) : null
        }
        columns={[
          { key: 'created', header: 'Time', render: (n) => <Text size="sm" style={{ whiteSpace: 'nowrap' }}>{formatDateTime(n.createdAt)}</Text> },
          {
            key: 'kind',
            header: 'Kind',
            render: (n) => (
              <Group gap={4} wrap="nowrap">
                <Text size="sm">{titleCase(n.kind)}</Text>
                {SECRET_KINDS.has(n.kind) ? (
                  <Tooltip label={n.kind === 'two_factor_code' ? 'The code is hidden' : 'The link is hidden'}>
                    <IconLock size={14} aria-label={n.kind === 'two_factor_code' ? 'code hidden' : 'link hidden'} color="var(--mantine-color-dimmed)" />
                  </Tooltip>
                ) : null}
              </Group>
            ),
          },
          { key: 'to', header: 'To', render: (n) => n.toEmail },
          { key: 'subject', header: 'Subject', render: (n) => n.subject },
          { key: 'status', header: 'Status', render: (n) => <StatusBadge status={n.status} /> },
          {
            key: 'actions',
            header: <VisuallyHidden>Actions</VisuallyHidden>,
            align: 'right',
            render: (n) => (
              <Group gap={4} justify="flex-end" wrap="nowrap">
                {NOT_RESENDABLE.has(n.kind) ? (
                  <Tooltip label={n.kind === 'two_factor_code' ? 'Sign-in codes are never sent again' : 'Password-reset links are never sent again'}>
                    <Badge variant="outline" color="gray" radius="sm" tt="none">
                      Not resendable
                    </Badge>
                  </Tooltip>
                ) : (
                  <Button
                    size="compact-xs"
                    variant="light"
                    leftSection={<IconSend size={12} />}
                    loading={resend.isPending && resend.variables?.id === n.id}
                    onClick={() => resend.mutate(n)}
                    aria-label={`Resend ${n.subject}`}
                  >
                    Resend
                  </Button>
                )}
                <Button size="compact-xs" variant="subtle" onClick={() => toggle(n.id)} aria-expanded={open.has(n.id)} aria-label={`Status history of ${n.subject}`}>
                  {open.has(n.id) ? 'Hide' : 'Details'}
                </Button>
              </Group>
            ),
          },
        ]}
      />
    </Paper>
  );
}
