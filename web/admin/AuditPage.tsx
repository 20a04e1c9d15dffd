import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Badge, Button, Group, Loader, Paper, Select, SimpleGrid, Stack, TextInput, Tooltip } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconDownload, IconShieldCheck, IconShieldX } from '@tabler/icons-react';
import { api, withQuery, type QueryValue } from '../shared/api.ts';
import { APPS } from '../shared/apps.tsx';
import { AuditTable } from '../shared/AuditTable.tsx';
import { usePagedList } from '../shared/queries.ts';
import { useSession } from '../shared/session.tsx';
import { PageHeader } from '../shared/ui.tsx';
import type { AuditEvent, AuditVerification, Customer, Page } from '../shared/types.ts';

const AUDIT_APPS = [...APPS.map((a) => ({ value: a.name, label: a.label })), { value: 'auth', label: 'Sign-in' }, { value: 'portal', label: 'User portal' }, { value: 'operator', label: 'Operator' }];

function VerifyBadge() {
  const verify = useQuery({ queryKey: ['audit-verify'], queryFn: ({ signal }) => api.get<AuditVerification>('/api/v1/audit-events/verify', {}, signal) });
  if (verify.isPending)
    return (
      <Badge size="lg" variant="light" color="gray" leftSection={<Loader size={12} />} radius="sm">
        Verifying chain…
      </Badge>
    );
  if (verify.isError)
    return (
      <Tooltip label="The verification could not run">
        <Badge size="lg" variant="light" color="gray" radius="sm">
          Chain not verified
        </Badge>
      </Tooltip>
    );
  const v = verify.data;
  if (v.ok)
    return (
      <Tooltip label="Every event is linked to the one before it by a hash; none was altered, removed or reordered.">
        <Badge size="lg" variant="light" color="teal" leftSection={<IconShieldCheck size={14} />} radius="sm" role="status">
          Chain verified · {v.checked.toLocaleString()} events
        </Badge>
      </Tooltip>
    );
  const p = v.firstProblem;
  return (
    <Badge size="lg" variant="filled" color="red" leftSection={<IconShieldX size={14} />} radius="sm" role="alert">
      Chain broken{p ? ` at #${String(p.seq)} (${p.kind.replaceAll('_', ' ')})` : ''}
    </Badge>
  );
}

function toIso(date: string, endOfDay: boolean): string | undefined {
  if (!date) return undefined;
  return `${date}T${endOfDay ? '23:59:59.999' : '00:00:00.000'}Z`;
}

export function AuditPage() {
  const session = useSession();
  const [app, setApp] = useState<string | null>(null);
  const [customerId, setCustomerId] = useState<string | null>(null);
  const [action, setAction] = useState('');
  const [actorId, setActorId] = useState('');
  const [targetId, setTargetId] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [text] = useDebouncedValue({ action: action.trim(), actorId: actorId.trim(), targetId: targetId.trim() }, 300);
  const filters: Record<string, QueryValue> = { app, customerId, ...text, from: toIso(from, false), to: toIso(to, true) };
  const events = usePagedList<AuditEvent>(['audit-events'], '/api/v1/audit-events', filters);
  const canListCustomers = session.apps.includes('customer');
  const customers = useQuery({
    queryKey: ['customers', 'all-for-filter'],
    queryFn: ({ signal }) => api.get<Page<Customer>>('/api/v1/customers', { limit: 200 }, signal),
    enabled: canListCustomers,
  });
  const customerName = new Map((customers.data?.data ?? []).map((c) => [c.id, c.name]));
  const active = Object.values(filters).some((v) => v !== undefined && v !== null && v !== '');
  const clear = () => {
    setApp(null);
    setCustomerId(null);
    setAction('');
    setActorId('');
    setTargetId('');
    setFrom('');
    setTo('');
  };

  return (
    <Stack maw={1300}>
      <PageHeader
        title="Audit"
        description="Every change made in the admin apps and the portal: who, when, what, on which customer, before and after."
        actions={
          <>
            <VerifyBadge />
            <Button component="a" href={withQuery('/api/v1/audit-events', { ...filters, format: 'csv' })} download="audit-events.csv" variant="default" leftSection={<IconDownload size={16} />}>
              Download CSV
            </Button>
          </>
        }
      />
      <Paper withBorder radius="md" p="md" component="section" aria-label="Filters">
        <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }} spacing="sm">
          <Select label="App" placeholder="All apps" data={AUDIT_APPS} value={app} onChange={setApp} clearable />
          {canListCustomers ? (
            <Select
              label="Customer"
              placeholder="All customers"
              data={(customers.data?.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
              value={customerId}
              onChange={setCustomerId}
              searchable
              clearable
            />
          ) : (
            <TextInput label="Customer ID" placeholder="cus_…" value={customerId ?? ''} onChange={(e) => setCustomerId(e.currentTarget.value.trim() || null)} />
          )}
          <TextInput label="Action" placeholder="e.g. customer.created" value={action} onChange={(e) => setAction(e.currentTarget.value)} />
          <TextInput label="Actor ID" placeholder="usr_…" value={actorId} onChange={(e) => setActorId(e.currentTarget.value)} />
          <TextInput label="Target ID" placeholder="Any id" value={targetId} onChange={(e) => setTargetId(e.currentTarget.value)} />
          <TextInput label="From" type="date" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
          <TextInput label="To" type="date" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
          <Group align="flex-end">
            <Button variant="subtle" onClick={clear} disabled={!active}>
              Clear filters
            </Button>
          </Group>
        </SimpleGrid>
      </Paper>
      <Paper withBorder radius="md" p="md">
        <AuditTable
          rows={events.rows}
          customerName={(id) => customerName.get(id)}
          loading={events.isPending}
          error={events.error}
          onRetry={() => void events.refetch()}
          hasNextPage={events.hasNextPage}
          isFetchingNextPage={events.isFetchingNextPage}
          onLoadMore={() => void events.fetchNextPage()}
          showCustomer
        />
      </Paper>
    </Stack>
  );
}
