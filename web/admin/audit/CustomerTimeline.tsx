import { useState } from 'react';
import { Link } from 'react-router';
import { Anchor, Badge, Button, Group, Paper, Select, Stack, Text, TextInput, Timeline, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconSearch } from '@tabler/icons-react';
import { ChangesDiff } from '../../shared/AuditTable.tsx';
import { auditValueLabel } from './value-labels.ts';
import { formatDate, formatDateTime, formatTime } from '../../shared/format.ts';
import { usePagedList } from '../../shared/queries.ts';
import { Empty, ErrorState, LoadMore, LoadingState } from '../../shared/ui.tsx';
import { actorTypeLabel, authMethodLabel, catalogActionLabel, catalogAppLabel, useAuditCatalog } from './catalog.ts';
import type { AuditEventView } from './types.ts';

/**
 * Customer detail > Timeline (shown to Audit app holders only, as its API answers no one else): every audit event about
 * one customer (staff changes, the customer's own portal activity, sign-ins, payments, renewals), newest first, grouped
 * by day; each opens to its field-by-field diff and to the event in the Audit app.
 */
export function CustomerTimeline({ customerId }: { customerId: string }) {
  const catalog = useAuditCatalog();
  const [app, setApp] = useState<string | null>(null);
  const [q, setQ] = useState('');
  const [debouncedQ] = useDebouncedValue(q.trim(), 300);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const events = usePagedList<AuditEventView>(
    ['customers', customerId, 'audit-events'],
    `/api/v1/customers/${encodeURIComponent(customerId)}/audit-events`,
    { app, q: debouncedQ },
  );
  const toggle = (id: string) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const days = new Map<string, AuditEventView[]>();
  for (const e of events.rows ?? []) {
    const day = formatDate(e.occurredAt);
    days.set(day, [...(days.get(day) ?? []), e]);
  }

  let body;
  if (events.error && !events.rows) body = <ErrorState error={events.error} onRetry={() => void events.refetch()} title="Could not load the timeline" />;
  else if (events.isPending) body = <LoadingState label="Loading timeline…" />;
  else if (days.size === 0) body = <Empty title="No events" description={app || debouncedQ ? 'Nothing matches these filters.' : 'Nothing has happened on this customer yet.'} />;
  else
    body = (
      <Stack gap="lg" aria-label="Customer timeline" component="section">
        {[...days.entries()].map(([day, list]) => (
          <div key={day}>
            <Text size="sm" fw={700} mb="xs">
              {day}
            </Text>
            <Timeline bulletSize={14} lineWidth={2}>
              {list.map((e) => (
                <Timeline.Item
                  key={e.id}
                  data-testid="timeline-event"
                  title={
                    <Group gap="xs" wrap="nowrap" justify="space-between">
                      <Text size="sm" fw={600}>
                        {catalogActionLabel(catalog, e.action)}
                      </Text>
                      <Badge size="xs" variant="light" radius="sm">
                        {catalogAppLabel(catalog, e.app)}
                      </Badge>
                    </Group>
                  }
                >
                  <Text size="xs" c="dimmed" title={formatDateTime(e.occurredAt)}>
                    {formatTime(e.occurredAt)} · {e.actor.label ?? e.actor.id ?? 'System'} ({authMethodLabel(catalog, e.authMethod) ?? actorTypeLabel(e.actor.type)})
                    {e.target.id ? ` · ${e.target.type.replaceAll('_', ' ')} ${e.target.id}` : ''}
                  </Text>
                  <Group gap="xs" mt={4}>
                    {Object.keys(e.changes).length > 0 ? (
                      <Button size="compact-xs" variant="subtle" aria-expanded={open.has(e.id)} onClick={() => toggle(e.id)}>
                        {open.has(e.id) ? 'Hide changes' : 'Show changes'}
                      </Button>
                    ) : null}
                    <Anchor component={Link} to={`/admin/audit?customerId=${encodeURIComponent(customerId)}&event=${encodeURIComponent(e.id)}`} size="xs">
                      Open in Audit
                    </Anchor>
                  </Group>
                  {open.has(e.id) ? (
                    <Paper mt={6} p="xs" withBorder radius="sm">
                      <ChangesDiff changes={e.changes} label={`Changes of ${catalogActionLabel(catalog, e.action)}`} valueLabel={auditValueLabel(e.action)} />
                    </Paper>
                  ) : null}
                </Timeline.Item>
              ))}
            </Timeline>
          </div>
        ))}
        <LoadMore hasNextPage={events.hasNextPage} isFetchingNextPage={events.isFetchingNextPage} onLoadMore={() => void events.fetchNextPage()} />
      </Stack>
    );

  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="timeline-title">
      <Group justify="space-between" align="flex-end" mb="md">
        <div>
          <Title order={3} size="h4" id="timeline-title">
            Timeline
          </Title>
          <Text size="sm" c="dimmed">
            Everything that happened on this customer: your team’s changes, their own portal activity, sign-ins, payments and renewals.
          </Text>
        </div>
        <Group gap="xs" align="flex-end">
          <Select size="xs" label="App" placeholder="All apps" data={catalog.apps.map((a) => ({ value: a.app, label: a.label }))} value={app} onChange={setApp} clearable w={170} />
          <TextInput size="xs" label="Search" placeholder="Search events" leftSection={<IconSearch size={12} />} value={q} maxLength={200} onChange={(e) => setQ(e.currentTarget.value)} w={200} />
        </Group>
      </Group>
      {body}
    </Paper>
  );
}
