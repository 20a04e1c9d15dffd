import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Anchor, Badge, Button, Code, Divider, Drawer, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { IconExternalLink, IconFilter } from '@tabler/icons-react';
import { api, isApiError } from '../../shared/api.ts';
import { ChangesDiff } from '../../shared/AuditTable.tsx';
import { auditValueLabel } from './value-labels.ts';
import { formatDateTime, formatRelative } from '../../shared/format.ts';
import { ErrorState, LoadingState } from '../../shared/ui.tsx';
import { actorTypeLabel, authMethodLabel, catalogActionLabel, catalogAppLabel } from './catalog.ts';
import type { AuditCatalog, AuditEventDetail, AuditEventView, FilterKey } from './types.ts';

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <div style={{ overflowWrap: 'anywhere' }}>{children}</div>
    </div>
  );
}

/** Where a target has a page of its own in the admin apps (used when the detail endpoint gives no links). */
function fallbackPath(type: string, id: string | null, customerId: string | null): string | null {
  if (!id) return null;
  if (type === 'customer') return `/admin/customer/${id}`;
  if (type === 'invoice') return `/admin/invoice/${id}`;
  if (type === 'product') return `/admin/product/${id}`;
  if (type === 'payment') return `/admin/finance/payments/${id}`;
  if (type === 'credit_note') return `/admin/finance/credit-notes/${id}`;
  if (type === 'bank_statement') return `/admin/finance/bank-import/${id}`;
  if (type === 'discount') return `/admin/discount/${id}`;
  if (customerId && ['subscription', 'virtual_line', 'wallboard', 'top_up', 'user'].includes(type)) return `/admin/customer/${customerId}`;
  return null;
}

export interface AuditEventDrawerProps {
  eventId: string | null;
  /** The row already on screen, shown while (or if) the detail cannot be read. */
  row: AuditEventView | undefined;
  catalog: AuditCatalog;
  customerName: (id: string) => string | undefined;
  onClose: () => void;
  onFilter: (key: FilterKey, value: string) => void;
}

/** One event in full: who (and how they signed in), when, from where, what changed field by field, and links to the target. */
export function AuditEventDrawer({ eventId, row, catalog, customerName, onClose, onFilter }: AuditEventDrawerProps) {
  const detail = useQuery({
    queryKey: ['audit-events', 'detail', eventId],
    queryFn: ({ signal }) => api.get<AuditEventDetail>(`/api/v1/audit-events/${encodeURIComponent(eventId!)}`, {}, signal),
    enabled: eventId !== null,
    retry: false,
  });
  const notFound = isApiError(detail.error) && detail.error.status === 404 && !row;
  const e: AuditEventDetail | undefined = detail.data ?? row;
  const title = e ? (e.actionLabel ?? catalogActionLabel(catalog, e.action)) : 'Audit event';

  let body: ReactNode;
  if (eventId === null) body = null;
  else if (!e && detail.isPending) body = <LoadingState label="Loading event…" />;
  else if (notFound) body = <Text c="dimmed">No such event in your audit trail.</Text>;
  else if (!e) body = <ErrorState error={detail.error} onRetry={() => void detail.refetch()} title="Could not load this event" />;
  else {
    const method = e.authMethodLabel ?? authMethodLabel(catalog, e.authMethod);
    const customer = e.customer
      ? { ...e.customer, name: e.customer.name ?? customerName(e.customer.id) ?? e.customer.id }
      : e.customerId ? { id: e.customerId, name: customerName(e.customerId) ?? e.customerId, path: `/admin/customer/${e.customerId}` } : null;
    const links = e.links ?? (e.target.id ? [{ type: e.target.type, id: e.target.id, label: `${e.target.type.replaceAll('_', ' ')} ${e.target.id}`, path: fallbackPath(e.target.type, e.target.id, e.customerId) }] : []);
    body = (
      <Stack gap="md" data-testid="audit-event-detail">
        <Group gap="xs">
          <Badge variant="light" radius="sm">
            {e.appLabel ?? catalogAppLabel(catalog, e.app)}
          </Badge>
          <Code>{e.action}</Code>
          <Text size="sm" c="dimmed">
            #{e.seq.toLocaleString()}
          </Text>
        </Group>
        <SimpleGrid cols={2} spacing="md">
          <Fact label="Who">
            <Text size="sm" fw={500}>
              {e.actor.name ?? e.actor.label ?? e.actor.id ?? '—'}
            </Text>
            {e.actor.name && e.actor.label && e.actor.label !== e.actor.name ? (
              <Text size="xs" c="dimmed">
                {e.actor.label}
              </Text>
            ) : null}
            <Text size="xs" c="dimmed">
              {e.actor.kind ? e.actor.kind.replaceAll('_', ' ') : actorTypeLabel(e.actor.type)}
              {e.actor.id ? ` · ${e.actor.id}` : ''}
            </Text>
            {e.actor.id ? (
              <Anchor component="button" type="button" size="xs" onClick={() => onFilter('actorId', e.actor.id!)}>
                Everything by this actor
              </Anchor>
            ) : null}
          </Fact>
          <Fact label="Signed in with">
            <Text size="sm">{method ?? 'Not recorded'}</Text>
          </Fact>
          <Fact label="When">
            <Text size="sm">{formatDateTime(e.occurredAt)}</Text>
            <Text size="xs" c="dimmed" title={e.occurredAt}>
              {e.occurredAt} · {formatRelative(e.occurredAt)}
            </Text>
          </Fact>
          <Fact label="From where">
            <Text size="sm">IP {e.ip ?? '—'}</Text>
            <Text size="xs" c="dimmed">
              Request {e.requestId ?? '—'}
            </Text>
          </Fact>
        </SimpleGrid>
        {e.userAgent ? (
          <Fact label="User agent">
            <Text size="xs" ff="monospace">
              {e.userAgent}
            </Text>
          </Fact>
        ) : null}
        <Divider />
        <Title order={3} size="h5">
          What changed
        </Title>
        <ChangesDiff changes={e.diff ?? e.changes} label="Field changes" valueLabel={auditValueLabel(e.action)} />
        <Divider />
        <Title order={3} size="h5">
          On
        </Title>
        <Stack gap={6}>
          {customer ? (
            <Group gap="xs">
              <Text size="sm">Customer:</Text>
              {customer.path ? (
                <Anchor component={Link} to={customer.path} size="sm">
                  {customer.name}
                </Anchor>
              ) : (
                <Text size="sm">{customer.name}</Text>
              )}
              <Button size="compact-xs" variant="subtle" leftSection={<IconFilter size={12} />} onClick={() => onFilter('customerId', customer.id)}>
                Customer’s events
              </Button>
            </Group>
          ) : null}
          {links.map((l) => (
            <Group gap="xs" key={`${l.type}:${l.id}`}>
              {l.path ? (
                <Anchor component={Link} to={l.path} size="sm">
                  <Group gap={4}>
                    {l.label} <IconExternalLink size={12} />
                  </Group>
                </Anchor>
              ) : (
                <Text size="sm">{l.label}</Text>
              )}
              <Button size="compact-xs" variant="subtle" leftSection={<IconFilter size={12} />} onClick={() => onFilter('targetId', l.id)}>
                Its history
              </Button>
            </Group>
          ))}
          {!customer && links.length === 0 ? (
            <Text size="sm" c="dimmed">
              {e.target.type.replaceAll('_', ' ')}
            </Text>
          ) : null}
        </Stack>
        {e.chain ? (
          <>
            <Divider />
            <Fact label="Hash chain">
              <Text size="xs" ff="monospace">
                #{e.chain.seq} · {e.chain.hash}
              </Text>
              <Text size="xs" ff="monospace" c="dimmed">
                previous {e.chain.prevHash ?? '—'}
              </Text>
            </Fact>
          </>
        ) : null}
        <Text size="xs" c="dimmed">
          Event {e.id}
        </Text>
      </Stack>
    );
  }
  return (
    <Drawer opened={eventId !== null} onClose={onClose} position="right" size="xl" title={<Title order={2} size="h4">{title}</Title>}>
      {body}
    </Drawer>
  );
}
