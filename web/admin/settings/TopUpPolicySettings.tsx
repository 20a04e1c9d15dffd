import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Badge, Button, Group, Paper, Select, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { api } from '../../shared/api.ts';
import { ConfirmButton } from '../../shared/ConfirmButton.tsx';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatDate } from '../../shared/format.ts';
import { formatMoney, toMicros } from '../../shared/money.ts';
import { usePagedList } from '../../shared/queries.ts';
import { DataTable, LoadMore } from '../../shared/ui.tsx';

const KEY = ['settings', 'top-up-policies'] as const;
const PATH = '/api/v1/settings/top-up-policies';
const CURRENCIES = ['SGD', 'MYR', 'HKD', 'AUD', 'USD', 'VND'];
/** Days before a change that customers are told (the server's NOTICE_DAYS, src/topup/top-up-policy-notices.ts). */
const NOTICE_DAYS = 14;

interface PolicyVersion {
  id: string;
  currency: string;
  effectiveFrom: string;
  minimum: string;
  feeThreshold: string;
  fee: string;
  inForce: boolean;
  status: 'in_force' | 'upcoming' | 'superseded' | 'withdrawn';
  customersNotified: number;
  createdAt: string;
  withdrawnAt: string | null;
}

const STATUS: Record<PolicyVersion['status'], { label: string; color: string }> = {
  in_force: { label: 'In force', color: 'teal' },
  upcoming: { label: 'Upcoming', color: 'blue' },
  superseded: { label: 'Superseded', color: 'gray' },
  withdrawn: { label: 'Withdrawn', color: 'gray' },
};

const todayUtc = () => new Date().toISOString().slice(0, 10);

function describe(v: Pick<PolicyVersion, 'currency' | 'minimum' | 'fee' | 'feeThreshold'>): string {
  const min = (toMicros(v.minimum) ?? 0n) > 0n ? `Minimum ${formatMoney(v.minimum, v.currency)}` : 'No minimum';
  const fee = (toMicros(v.fee) ?? 0n) > 0n ? `fee ${formatMoney(v.fee, v.currency)} below ${formatMoney(v.feeThreshold, v.currency)}` : 'no admin fee';
  return `${min}; ${fee}`;
}

interface Form {
  currency: string;
  effectiveFrom: string;
  minimum: string;
  feeThreshold: string;
  fee: string;
}

const EMPTY: Form = { currency: 'SGD', effectiveFrom: '', minimum: '0', feeThreshold: '0', fee: '0' };

/**
 * Portal Settings > Minimum top-up policy: the dated versions per currency (in force, upcoming, superseded, withdrawn)
 * and a form to add one. A version takes effect on its date (today or later, UTC); customers are told beforehand; an
 * upcoming version can be withdrawn.
 */
export function TopUpPolicySettings() {
  const queryClient = useQueryClient();
  const list = usePagedList<PolicyVersion>(KEY, PATH, { limit: 50 });
  const [form, setForm] = useState<Form>(EMPTY);
  const set = (patch: Partial<Form>) => setForm((f) => ({ ...f, ...patch }));

  const add = useMutation({
    mutationFn: () => api.put<PolicyVersion>(PATH, { ...form, minimum: form.minimum.trim(), feeThreshold: form.feeThreshold.trim(), fee: form.fee.trim() }),
    onSuccess: async (v) => {
      await queryClient.invalidateQueries({ queryKey: KEY });
      setForm({ ...EMPTY, currency: form.currency });
      notifications.show({
        color: 'teal', title: 'Top-up policy version added',
        message: `${v.currency} from ${formatDate(v.effectiveFrom)}: ${describe(v)}. Customers are told ${NOTICE_DAYS} days before, or now if the date is closer.`,
      });
    },
  });
  const withdraw = async (v: PolicyVersion) => {
    await api.post<PolicyVersion>(`${PATH}/${v.id}/withdraw`, {});
    await queryClient.invalidateQueries({ queryKey: KEY });
    notifications.show({ color: 'teal', title: 'Version withdrawn', message: `The ${v.currency} change of ${formatDate(v.effectiveFrom)} will not happen.` });
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };

  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="top-up-policy-title">
      <Title order={3} size="h5" id="top-up-policy-title">
        Minimum top-up policy
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        Per currency: a minimum top-up, and an admin fee added to top-ups below a threshold. A change is a new version that takes effect on its
        date (UTC); customers see it in their portal and get a notice {NOTICE_DAYS} days before. Without a version the provider's default applies.
      </Text>
      <Stack>
        <DataTable
          label="Top-up policy versions"
          rows={list.rows}
          loading={list.isLoading}
          error={list.error}
          onRetry={() => void list.refetch()}
          rowKey={(v) => v.id}
          emptyTitle="No versions yet"
          emptyDescription="The provider's default applies: any amount; below 20 SGD/USD/AUD (60 MYR, 300,000 VND) an admin fee of 1 (3 MYR, 18,000 VND)."
          columns={[
            { key: 'currency', header: 'Currency', render: (v) => v.currency },
            { key: 'from', header: 'Takes effect', minWidth: 110, render: (v) => formatDate(v.effectiveFrom) },
            { key: 'policy', header: 'Policy', render: (v) => describe(v) },
            { key: 'status', header: 'Status', minWidth: 130, render: (v) => <Badge variant="light" color={STATUS[v.status].color} style={{ overflow: 'visible' }}>{STATUS[v.status].label}</Badge> },
            { key: 'notified', header: 'Customers told', align: 'right', render: (v) => v.customersNotified },
            {
              key: 'actions', header: '', align: 'right',
              render: (v) => v.status === 'upcoming' ? (
                <ConfirmButton
                  label="Withdraw"
                  ariaLabel={`Withdraw the ${v.currency} version of ${v.effectiveFrom}`}
                  title="Withdraw this version?"
                  message={`The ${v.currency} change of ${formatDate(v.effectiveFrom)} will not happen.${v.customersNotified > 0 ? ` The ${v.customersNotified} customers already told are told it is off.` : ''}`}
                  confirmLabel="Withdraw"
                  color="red"
                  buttonProps={{ size: 'xs', variant: 'subtle', color: 'red' }}
                  onConfirm={() => withdraw(v)}
                />
              ) : null,
            },
          ]}
          footer={<LoadMore hasNextPage={!!list.hasNextPage} isFetchingNextPage={list.isFetchingNextPage} onLoadMore={() => void list.fetchNextPage()} />}
        />
        <form onSubmit={onSubmit} noValidate aria-label="Add a top-up policy version">
          <Stack gap="sm">
            <Text fw={600} size="sm">
              Add a version
            </Text>
            <FormError error={add.error} fields={['currency', 'effectiveFrom', 'minimum', 'feeThreshold', 'fee']} />
            <SimpleGrid cols={{ base: 1, sm: 5 }}>
              <Select label="Currency" data={CURRENCIES} value={form.currency} onChange={(v) => set({ currency: v ?? 'SGD' })} allowDeselect={false} error={fieldError(add.error, 'currency')} />
              <TextInput
                label="Takes effect on"
                type="date"
                min={todayUtc()}
                value={form.effectiveFrom}
                onChange={(e) => set({ effectiveFrom: e.currentTarget.value })}
                error={fieldError(add.error, 'effectiveFrom')}
                required
              />
              <TextInput label="Minimum top-up" inputMode="decimal" value={form.minimum} onChange={(e) => set({ minimum: e.currentTarget.value })} error={fieldError(add.error, 'minimum')} />
              <TextInput label="Fee threshold" description="Fee below this" inputMode="decimal" value={form.feeThreshold} onChange={(e) => set({ feeThreshold: e.currentTarget.value })} error={fieldError(add.error, 'feeThreshold')} />
              <TextInput label="Admin fee" inputMode="decimal" value={form.fee} onChange={(e) => set({ fee: e.currentTarget.value })} error={fieldError(add.error, 'fee')} />
            </SimpleGrid>
            <Group justify="flex-end">
              <Button type="submit" loading={add.isPending} disabled={form.effectiveFrom === ''}>
                Add version
              </Button>
            </Group>
          </Stack>
        </form>
      </Stack>
    </Paper>
  );
}
