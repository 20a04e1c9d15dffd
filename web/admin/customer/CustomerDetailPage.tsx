import { useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Anchor, Badge, Button, Group, Paper, SimpleGrid, Stack, Text, Title, VisuallyHidden } from '@mantine/core';
import { IconArrowLeft } from '@tabler/icons-react';
import { api, isApiError } from '../../shared/api.ts';
import { formatDate, formatDateTime, formatRelative, titleCase } from '../../shared/format.ts';
import { StatusHistory } from '../../shared/MessageCard.tsx';
import { usePagedList } from '../../shared/queries.ts';
import { DataTable, Empty, ErrorState, LoadMore, LoadingState, StatusBadge } from '../../shared/ui.tsx';
import type { CustomerDetail, NotificationItem } from '../../shared/types.ts';
import { CustomerPoints } from './CustomerPoints.tsx';

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" mt={2}>
        {children}
      </Text>
    </div>
  );
}

export function CustomerDetailPage() {
  const { id = '' } = useParams();
  const customer = useQuery({ queryKey: ['customers', id], queryFn: ({ signal }) => api.get<CustomerDetail>(`/api/v1/customers/${encodeURIComponent(id)}`, {}, signal) });
  const notificationsQ = usePagedList<NotificationItem>(['customers', id, 'notifications'], `/api/v1/customers/${encodeURIComponent(id)}/notifications`);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const toggle = (nid: string) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(nid)) n.delete(nid);
      else n.add(nid);
      return n;
    });

  const back = (
    <Anchor component={Link} to="/admin/customer" size="sm">
      <Group gap={4}>
        <IconArrowLeft size={14} /> All customers
      </Group>
    </Anchor>
  );
  if (customer.isError && !customer.data) {
    return (
      <Stack>
        {back}
        {isApiError(customer.error) && customer.error.status === 404 ? (
          <Empty title="Customer not found" description="It may have been removed, or it belongs to another partner." />
        ) : (
          <ErrorState error={customer.error} onRetry={() => void customer.refetch()} title="Could not load this customer" />
        )}
      </Stack>
    );
  }
  if (!customer.data) return <LoadingState label="Loading customer…" />;
  const c = customer.data;

  return (
    <Stack gap="lg" maw={1200}>
      {back}
      <Group justify="space-between" align="flex-start">
        <div>
          <Title order={2}>{c.name}</Title>
          <Text size="sm" c="dimmed">
            {c.id}
          </Text>
        </div>
        <Group gap={6}>
          <Badge variant="light" radius="sm">
            {c.currency}
          </Badge>
          <StatusBadge status={c.status} />
        </Group>
      </Group>
      <Paper withBorder radius="md" p="lg">
        <SimpleGrid cols={{ base: 2, sm: 4 }}>
          <Field label="Currency">{c.currency}</Field>
          <Field label="Status">{titleCase(c.status)}</Field>
          <Field label="Users">{c.users.length}</Field>
          <Field label="Created">{formatDate(c.createdAt)}</Field>
        </SimpleGrid>
      </Paper>
      <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="users-title">
        <Title order={3} size="h4" mb="md" id="users-title">
          Users
        </Title>
        <DataTable
          label="Customer users"
          rows={c.users}
          rowKey={(u) => u.id}
          emptyTitle="No users"
          columns={[
            {
              key: 'name',
              header: 'Name',
              render: (u) => (
                <div>
                  <Text size="sm" fw={500}>
                    {u.name}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {u.email}
                  </Text>
                </div>
              ),
            },
            { key: 'role', header: 'Role', render: (u) => titleCase(u.role) },
            { key: 'status', header: 'Status', render: (u) => <StatusBadge status={u.status} /> },
            { key: 'verified', header: 'Email', render: (u) => (u.emailVerified ? 'Verified' : 'Unverified') },
            { key: 'login', header: 'Last sign-in', render: (u) => formatRelative(u.lastLoginAt) },
          ]}
        />
      </Paper>
      <CustomerPoints customerId={c.id} currency={c.currency} />
      <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="notifications-title">
        <Title order={3} size="h4" id="notifications-title">
          Notifications
        </Title>
        <Text size="sm" c="dimmed" mb="md">
          Everything the system sent to this customer’s users: invoices, sign-in codes, verification emails, subscription notices. Codes and links are masked.
        </Text>
        <DataTable
          label="Notifications"
          rows={notificationsQ.rows}
          footer={<LoadMore hasNextPage={notificationsQ.hasNextPage} isFetchingNextPage={notificationsQ.isFetchingNextPage} onLoadMore={() => void notificationsQ.fetchNextPage()} />}
          loading={notificationsQ.isPending}
          error={notificationsQ.error}
          onRetry={() => void notificationsQ.refetch()}
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
            { key: 'created', header: 'Created', render: (n) => <Text size="sm" style={{ whiteSpace: 'nowrap' }}>{formatDateTime(n.createdAt)}</Text> },
            { key: 'kind', header: 'Kind', render: (n) => titleCase(n.kind) },
            { key: 'to', header: 'To', render: (n) => n.toEmail },
            { key: 'subject', header: 'Subject', render: (n) => n.subject },
            { key: 'status', header: 'Status', render: (n) => <StatusBadge status={n.status} /> },
            { key: 'attempts', header: 'Attempts', align: 'right', render: (n) => n.attempts },
            {
              key: 'history',
              header: <VisuallyHidden>Details</VisuallyHidden>,
              align: 'right',
              render: (n) => (
                <Button size="compact-xs" variant="subtle" onClick={() => toggle(n.id)} aria-expanded={open.has(n.id)} aria-label={`Status history of ${n.subject}`}>
                  {open.has(n.id) ? 'Hide' : 'Details'}
                </Button>
              ),
            },
          ]}
        />
      </Paper>
    </Stack>
  );
}
