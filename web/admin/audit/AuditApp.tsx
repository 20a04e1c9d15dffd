import { useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Button, Group, Paper, Select, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconSearch } from '@tabler/icons-react';
import { api, type QueryValue } from '../../shared/api.ts';
import { customerOptions } from '../../shared/customer-options.ts';
import { usePagedList } from '../../shared/queries.ts';
import { useSession } from '../../shared/session.tsx';
import { PageHeader } from '../../shared/ui.tsx';
import type { Customer, Page } from '../../shared/types.ts';
import { actorTypeLabel, catalogActionLabel, useAuditCatalog } from './catalog.ts';
import { AuditEventDrawer } from './AuditEventDrawer.tsx';
import { AuditEventsTable } from './AuditEventsTable.tsx';
import { ChainStatusBanner } from './ChainStatusBanner.tsx';
import { ExportCsvButton } from './ExportCsvButton.tsx';
import { FILTER_KEYS, type AuditEventView, type FilterKey } from './types.ts';

const TEXT_KEYS = ['actorId', 'targetId', 'q'] as const satisfies readonly FilterKey[];
type TextKey = (typeof TEXT_KEYS)[number];

/** The customers of this partner for the Customer filter and names in the table (Customer app holders only). */
export function useCustomerNames(enabled: boolean) {
  const customers = useQuery({
    queryKey: ['customers', 'all-for-filter'],
    queryFn: ({ signal }) => api.get<Page<Customer>>('/api/v1/customers', { limit: 200 }, signal),
    enabled,
  });
  const byId = useMemo(() => new Map((customers.data?.data ?? []).map((c) => [c.id, c.name])), [customers.data]);
  return { list: customers.data?.data ?? [], nameOf: (id: string) => byId.get(id) };
}

/**
 * The Audit app (/admin/audit): search the partner's trail by app, action, actor, customer, target, dates and free
 * text (the filters live in the URL, so a view can be shared), newest first with "Load more"; an event opens in a
 * drawer (`?event=`); chain status on top; CSV export of the current filter with progress.
 */
export function AuditApp() {
  const session = useSession();
  const catalog = useAuditCatalog();
  const [params, setParams] = useSearchParams();
  const filters = Object.fromEntries(FILTER_KEYS.map((k) => [k, params.get(k) ?? ''])) as Record<FilterKey, string>;
  const eventId = params.get('event');

  const setParam = (changes: Partial<Record<FilterKey | 'event', string | null>>) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        for (const [k, v] of Object.entries(changes)) {
          if (v === null || v === undefined || v === '') next.delete(k);
          else next.set(k, v);
        }
        return next;
      },
      { replace: true },
    );

  // Free-text inputs type into local state; the URL (and the query) follow 300 ms later.
  const [text, setText] = useState<Record<TextKey, string>>({ actorId: filters.actorId, targetId: filters.targetId, q: filters.q });
  const [debounced] = useDebouncedValue(text, 300);
  useEffect(() => {
    const changed = TEXT_KEYS.filter((k) => debounced[k].trim() !== (params.get(k) ?? ''));
    if (changed.length > 0) setParam(Object.fromEntries(changed.map((k) => [k, debounced[k].trim()])));
  }, [debounced]);
  // Filters set from elsewhere (a link, back and forward) show in the inputs; our own debounced writes are skipped.
  useEffect(() => {
    const fromUrl = { actorId: params.get('actorId') ?? '', targetId: params.get('targetId') ?? '', q: params.get('q') ?? '' };
    if (TEXT_KEYS.some((k) => debounced[k].trim() !== fromUrl[k])) setText(fromUrl);
  }, [params]);

  const datesWrong = filters.from !== '' && filters.to !== '' && filters.to < filters.from;
  const query: Record<string, QueryValue> = { ...filters, to: datesWrong ? '' : filters.to };
  const events = usePagedList<AuditEventView>(['audit-events', 'list'], '/api/v1/audit-events', query);
  const canListCustomers = session.apps.includes('customer');
  const customers = useCustomerNames(canListCustomers);
  const active = FILTER_KEYS.some((k) => filters[k] !== '');

  const appOptions = catalog.apps.map((a) => ({ value: a.app, label: a.label }));
  // An action can be written by several apps: without an app chosen, each action is offered once (options must be unique).
  const actionOptions = new Map<string, string>();
  for (const a of catalog.apps) {
    if (filters.app && a.app !== filters.app) continue;
    for (const x of a.actions) if (!actionOptions.has(x.action)) actionOptions.set(x.action, `${x.label} (${x.action})`);
  }
  if (filters.action && !actionOptions.has(filters.action)) actionOptions.set(filters.action, catalogActionLabel(catalog, filters.action));
  const actionData = [...actionOptions.entries()].map(([value, label]) => ({ value, label })).sort((x, y) => x.label.localeCompare(y.label));
  const rowOf = eventId ? events.rows?.find((r) => r.id === eventId) : undefined;

  return (
    <Stack maw={1400}>
      <PageHeader
        title="Audit"
        description="Every change in the admin apps and the portal: who, when, from where, what before and after, on which customer."
        actions={<ExportCsvButton filters={query} />}
      />
      <ChainStatusBanner onOpenEvent={(id) => setParam({ event: id })} />
      <Paper withBorder radius="md" p="md" component="section" aria-label="Filters">
        <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }} spacing="sm">
          <TextInput
            label="Search"
            placeholder="Text in actions, people, targets, IPs, values…"
            leftSection={<IconSearch size={14} />}
            value={text.q}
            maxLength={200}
            onChange={(e) => setText((t) => ({ ...t, q: e.currentTarget.value }))}
          />
          <Select label="App" placeholder="All apps" data={appOptions} value={filters.app || null} onChange={(v) => setParam({ app: v, action: null })} clearable />
          <Select
            label="Action"
            placeholder="All actions"
            data={actionData}
            value={filters.action || null}
            onChange={(v) => setParam({ action: v })}
            searchable
            clearable
            nothingFoundMessage="No such action"
          />
          {canListCustomers ? (
            <Select
              label="Customer"
              placeholder="All customers"
              data={customerOptions(customers.list)}
              value={filters.customerId || null}
              onChange={(v) => setParam({ customerId: v })}
              searchable
              clearable
            />
          ) : (
            <TextInput label="Customer ID" placeholder="cus_…" value={filters.customerId} onChange={(e) => setParam({ customerId: e.currentTarget.value.trim() })} />
          )}
          <Select
            label="Actor type"
            placeholder="Anyone"
            data={catalog.actorTypes.map((t) => ({ value: t, label: actorTypeLabel(t) }))}
            value={filters.actorType || null}
            onChange={(v) => setParam({ actorType: v })}
            clearable
          />
          <TextInput label="Actor ID" placeholder="usr_…, key_… or system" value={text.actorId} onChange={(e) => setText((t) => ({ ...t, actorId: e.currentTarget.value }))} />
          <TextInput label="Target ID" placeholder="inv_…, pay_…, sub_…" value={text.targetId} onChange={(e) => setText((t) => ({ ...t, targetId: e.currentTarget.value }))} />
          <Group grow gap="xs" align="flex-start">
            <TextInput label="From" type="date" value={filters.from} onChange={(e) => setParam({ from: e.currentTarget.value })} />
            <TextInput label="To" type="date" value={filters.to} onChange={(e) => setParam({ to: e.currentTarget.value })} error={datesWrong ? 'Before “From”' : undefined} />
          </Group>
        </SimpleGrid>
        <Group justify="space-between" mt="sm">
          <Text size="xs" c="dimmed">
            Newest first. Dates are whole days (UTC), both included.
          </Text>
          <Button
            variant="subtle"
            size="xs"
            disabled={!active}
            onClick={() => {
              setText({ actorId: '', targetId: '', q: '' });
              setParam(Object.fromEntries(FILTER_KEYS.map((k) => [k, null])));
            }}
          >
            Clear filters
          </Button>
        </Group>
      </Paper>
      <Paper withBorder radius="md" p="md">
        <AuditEventsTable
          rows={events.rows}
          catalog={catalog}
          loading={events.isPending}
          error={events.error}
          onRetry={() => void events.refetch()}
          hasNextPage={events.hasNextPage}
          isFetchingNextPage={events.isFetchingNextPage}
          onLoadMore={() => void events.fetchNextPage()}
          onOpen={(e) => setParam({ event: e.id })}
          showCustomer
          customerName={customers.nameOf}
          onCustomer={(id) => setParam({ customerId: id })}
        />
      </Paper>
      <AuditEventDrawer
        eventId={eventId}
        row={rowOf}
        catalog={catalog}
        customerName={customers.nameOf}
        onClose={() => setParam({ event: null })}
        onFilter={(key, value) => {
          if (key === 'actorId' || key === 'targetId') setText((t) => ({ ...t, [key]: value }));
          setParam({ [key]: value, event: null });
        }}
      />
    </Stack>
  );
}
