import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Badge, Button, Checkbox, Group, Modal, Paper, Select, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconFileUpload, IconPlus, IconSearch } from '@tabler/icons-react';
import { api } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatDateTime } from '../../shared/format.ts';
import { formatMoney } from '../../shared/money.ts';
import { usePagedList } from '../../shared/queries.ts';
import { DataTable, LoadMore } from '../../shared/ui.tsx';
import { CATALOG_CURRENCIES, RATE_PLANS_KEY, type Rate, type RatePlan } from './product-types.ts';
import { RateImportPanel } from './RateImportPanel.tsx';

/** Call rate plans: the partner's per-currency price lists for calls (prefix, price and cost per minute, tax category), and their CSV import. */
export function RatePlansTab() {
  const plans = usePagedList<RatePlan>(RATE_PLANS_KEY, '/api/v1/rate-plans');
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const selected = plans.rows?.find((p) => p.id === selectedId) ?? null;

  return (
    <Stack>
      <Paper withBorder radius="md" p="md">
        <Stack>
          <Group justify="space-between">
            <Title order={4}>Rate plans</Title>
            <Button size="xs" leftSection={<IconPlus size={14} />} onClick={() => setCreating(true)}>
              New rate plan
            </Button>
          </Group>
          <DataTable
            label="Rate plans"
            rows={plans.rows}
            loading={plans.isPending}
            error={plans.error}
            onRetry={() => void plans.refetch()}
            rowKey={(p) => p.id}
            onRowClick={(p) => setSelectedId(p.id)}
            emptyTitle="No rate plans yet"
            emptyDescription="Create a plan per currency; the default plan of a currency rates its customers' calls."
            footer={<LoadMore hasNextPage={plans.hasNextPage} isFetchingNextPage={plans.isFetchingNextPage} onLoadMore={() => void plans.fetchNextPage()} />}
            columns={[
              {
                key: 'name',
                header: 'Name',
                render: (p) => (
                  <Group gap={6}>
                    <Text size="sm" fw={p.id === selectedId ? 700 : 500}>
                      {p.name}
                    </Text>
                    {p.isDefault ? <Badge size="xs" variant="light" radius="sm">Default</Badge> : null}
                  </Group>
                ),
              },
              { key: 'currency', header: 'Currency', render: (p) => p.currency },
              { key: 'increment', header: 'Billing increment', render: (p) => `${p.increment} s` },
              { key: 'minimum', header: 'Minimum charge', align: 'right', render: (p) => formatMoney(p.minimumCharge) },
              { key: 'rates', header: 'Rates', align: 'right', render: (p) => p.rateCount.toLocaleString('en-GB') },
              { key: 'updated', header: 'Rates updated', render: (p) => formatDateTime(p.ratesUpdatedAt) },
              {
                key: 'open',
                header: '',
                align: 'right',
                render: (p) => (
                  <Button size="xs" variant="subtle" onClick={(e) => { e.stopPropagation(); setSelectedId(p.id); }} aria-label={`Open ${p.name}`}>
                    Rates
                  </Button>
                ),
              },
            ]}
          />
        </Stack>
      </Paper>
      {selected ? <PlanRates key={selected.id} plan={selected} /> : null}
      <NewPlanModal opened={creating} onClose={() => setCreating(false)} onCreated={(id) => setSelectedId(id)} />
    </Stack>
  );
}

function PlanRates({ plan }: { plan: RatePlan }) {
  const queryClient = useQueryClient();
  const [prefix, setPrefix] = useState('');
  const [debounced] = useDebouncedValue(prefix.trim(), 250);
  const validPrefix = /^[0-9]{0,15}$/.test(debounced);
  const rates = usePagedList<Rate>([...RATE_PLANS_KEY, plan.id, 'rates', plan.ratesVersion], `/api/v1/rate-plans/${plan.id}/rates`, { prefix: validPrefix ? debounced : undefined, limit: 50 });
  const [importing, setImporting] = useState(false);
  const onImported = () => queryClient.invalidateQueries({ queryKey: RATE_PLANS_KEY });

  return (
    <Paper withBorder radius="md" p="md">
      <Stack>
        <Group justify="space-between" align="flex-start">
          <div>
            <Title order={4}>{plan.name}</Title>
            <Text size="sm" c="dimmed">
              {plan.currency} · {plan.increment} s increments · minimum {formatMoney(plan.minimumCharge, plan.currency)} · {plan.whenInsufficient === 'reject' ? 'calls refused when points run out' : 'credit limit covers calls'}
            </Text>
          </div>
          <Button size="xs" variant="light" leftSection={<IconFileUpload size={14} />} onClick={() => setImporting(true)}>
            Import CSV
          </Button>
        </Group>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <TextInput
            label="Find a prefix"
            placeholder="e.g. 65"
            leftSection={<IconSearch size={16} />}
            value={prefix}
            onChange={(e) => setPrefix(e.currentTarget.value)}
            error={validPrefix ? undefined : 'Digits only'}
            inputMode="numeric"
          />
        </SimpleGrid>
        <DataTable
          label="Rates"
          rows={rates.rows}
          loading={rates.isPending}
          error={rates.error}
          onRetry={() => void rates.refetch()}
          rowKey={(r) => r.prefix}
          emptyTitle={debounced ? 'No rates with this prefix' : 'No rates yet'}
          emptyDescription={debounced ? `No prefix starts with ${debounced}.` : 'Import a CSV rate table to fill this plan.'}
          footer={<LoadMore hasNextPage={rates.hasNextPage} isFetchingNextPage={rates.isFetchingNextPage} onLoadMore={() => void rates.fetchNextPage()} />}
          columns={[
            { key: 'prefix', header: 'Prefix', render: (r) => <Text ff="monospace" size="sm">{r.prefix}</Text> },
            { key: 'description', header: 'Destination', render: (r) => r.description ?? '—' },
            { key: 'price', header: `Price / min (${plan.currency})`, align: 'right', render: (r) => r.pricePerMinute },
            { key: 'cost', header: `Cost / min (${plan.currency})`, align: 'right', render: (r) => r.costPerMinute },
            {
              key: 'tax',
              header: 'Tax',
              render: (r) =>
                r.taxCategory === 'zero_rated' ? (
                  <Badge size="sm" color="gray" variant="light" radius="sm">Zero-rated</Badge>
                ) : (
                  'Standard'
                ),
            },
          ]}
        />
      </Stack>
      <Modal opened={importing} onClose={() => setImporting(false)} title={`Import rates into ${plan.name}`} size="xl" centered closeOnClickOutside={false}>
        <RateImportPanel plan={plan} onImported={onImported} onClose={() => setImporting(false)} />
      </Modal>
    </Paper>
  );
}

function NewPlanModal({ opened, onClose, onCreated }: { opened: boolean; onClose: () => void; onCreated: (id: string) => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [currency, setCurrency] = useState('SGD');
  const [increment, setIncrement] = useState('60/60');
  const [minimumCharge, setMinimumCharge] = useState('0');
  const [whenInsufficient, setWhenInsufficient] = useState<'reject' | 'use_credit_limit'>('reject');
  const [isDefault, setIsDefault] = useState(false);
  const create = useMutation({
    mutationFn: () => api.post<RatePlan>('/api/v1/rate-plans', { name: name.trim(), currency, increment: increment.trim(), minimumCharge: minimumCharge.trim() || '0', whenInsufficient, isDefault }),
    onSuccess: async (p) => {
      notifications.show({ color: 'teal', title: 'Rate plan created', message: `${p.name}: now import its rates.` });
      await queryClient.invalidateQueries({ queryKey: RATE_PLANS_KEY });
      onCreated(p.id);
      onClose();
      setName('');
      create.reset();
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <Modal opened={opened} onClose={onClose} title="New rate plan" centered size="lg">
      <form onSubmit={onSubmit} noValidate aria-label="New rate plan">
        <Stack>
          <FormError error={create.error} fields={['name', 'currency', 'increment', 'minimumCharge', 'whenInsufficient']} />
          <Group grow align="flex-start">
            <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(create.error, 'name')} required data-autofocus />
            <Select label="Currency" data={CATALOG_CURRENCIES} value={currency} onChange={(v) => v && setCurrency(v)} allowDeselect={false} searchable error={fieldError(create.error, 'currency')} />
          </Group>
          <Group grow align="flex-start">
            <TextInput label="Billing increment" description="first/next seconds: 60/60, 30/6, 1/1" value={increment} onChange={(e) => setIncrement(e.currentTarget.value)} error={fieldError(create.error, 'increment')} />
            <TextInput label="Minimum charge" description="Per answered call, up to 6 decimals" value={minimumCharge} onChange={(e) => setMinimumCharge(e.currentTarget.value)} error={fieldError(create.error, 'minimumCharge')} inputMode="decimal" />
          </Group>
          <Select
            label="When points do not cover a call"
            data={[{ value: 'reject', label: 'Refuse the call' }, { value: 'use_credit_limit', label: 'Let the credit limit cover it' }]}
            value={whenInsufficient}
            onChange={(v) => v && setWhenInsufficient(v)}
            allowDeselect={false}
          />
          <Checkbox label={`Default plan for ${currency} (calls in ${currency} are rated on it)`} checked={isDefault} onChange={(e) => setIsDefault(e.currentTarget.checked)} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Create plan
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
