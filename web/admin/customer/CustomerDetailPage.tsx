import { Link, useParams, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Anchor, Badge, Group, Stack, Tabs, Text, Title } from '@mantine/core';
import { IconArrowLeft, IconBell, IconCoins, IconHistory, IconId, IconListDetails, IconRepeat, IconUsers } from '@tabler/icons-react';
import { apiRequest, isApiError } from '../../shared/api.ts';
import { formatMoney } from '../../shared/money.ts';
import { useSession } from '../../shared/session.tsx';
import type { AppName } from '../../shared/types.ts';
import { Empty, ErrorState, LoadingState, StatusBadge } from '../../shared/ui.tsx';
import type { CustomerFull } from './customer-types.ts';
import { CustomerProfile } from './CustomerProfile.tsx';
import { CustomerPoints } from './CustomerPoints.tsx';
import { CustomerSubscriptions } from './CustomerSubscriptions.tsx';
import { CustomerTransactions } from './CustomerTransactions.tsx';
import { CustomerNotifications } from './CustomerNotifications.tsx';
import { CustomerMembers } from './CustomerMembers.tsx';
import { CustomerTimeline } from '../audit/CustomerTimeline.tsx';
import { CustomerDiscounts } from '../discounts/CustomerDiscounts.tsx';

export const TABS = [
  { value: 'profile', label: 'Profile', icon: <IconId size={16} /> },
  { value: 'points', label: 'Points', icon: <IconCoins size={16} /> },
  { value: 'subscriptions', label: 'Subscriptions', icon: <IconRepeat size={16} /> },
  { value: 'transactions', label: 'Transactions', icon: <IconListDetails size={16} /> },
  { value: 'notifications', label: 'Notifications', icon: <IconBell size={16} /> },
  { value: 'members', label: 'Members', icon: <IconUsers size={16} /> },
  { value: 'timeline', label: 'Timeline', icon: <IconHistory size={16} /> },
] as const;

/** The tabs a staff member sees: the Timeline is the Audit app's customer timeline, shown only to Audit app holders. */
export function customerTabs(apps: readonly AppName[]) {
  return apps.includes('audit') ? [...TABS] : TABS.filter((t) => t.value !== 'timeline');
}

/** The customer and its ETag (for If-Match on edits). */
export function useCustomer(id: string) {
  return useQuery({
    queryKey: ['customers', id],
    queryFn: async ({ signal }) => {
      const res = await apiRequest<CustomerFull>(`/api/v1/customers/${encodeURIComponent(id)}`, { signal });
      return { customer: res.data, etag: res.headers.get('etag') };
    },
  });
}

export function CustomerDetailPage() {
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const query = useCustomer(id);
  const session = useSession();
  const tabs = customerTabs(session.apps);
  const tab = tabs.some((t) => t.value === params.get('tab')) ? params.get('tab')! : 'profile';

  const back = (
    <Anchor component={Link} to="/admin/customer" size="sm">
      <Group gap={4}>
        <IconArrowLeft size={14} /> All customers
      </Group>
    </Anchor>
  );
  if (query.isError && !query.data) {
    return (
      <Stack>
        {back}
        {isApiError(query.error) && query.error.status === 404 ? (
          <Empty title="Customer not found" description="It may have been removed, or it belongs to another partner." />
        ) : (
          <ErrorState error={query.error} onRetry={() => void query.refetch()} title="Could not load this customer" />
        )}
      </Stack>
    );
  }
  if (!query.data) return <LoadingState label="Loading customer…" />;
  const c = query.data.customer;

  return (
    <Stack gap="lg" maw={1240}>
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
          {c.lowPoints ? (
            <Badge color="orange" variant="light" radius="sm" title="Usable points below the low-points threshold">
              Low points · {formatMoney(c.usable, c.currency)}
            </Badge>
          ) : null}
          <StatusBadge status={c.status} />
        </Group>
      </Group>
      <Tabs value={tab} onChange={(v) => v && setParams({ tab: v }, { replace: true })} keepMounted={false}>
        <Tabs.List mb="md" aria-label="Customer sections">
          {tabs.map((t) => (
            <Tabs.Tab key={t.value} value={t.value} leftSection={t.icon}>
              {t.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value="profile">
          <CustomerProfile customer={c} etag={query.data.etag} />
        </Tabs.Panel>
        <Tabs.Panel value="points">
          <CustomerPoints customerId={c.id} currency={c.currency} />
        </Tabs.Panel>
        <Tabs.Panel value="subscriptions">
          <Stack gap="md">
            <CustomerDiscounts customerId={c.id} />
            <CustomerSubscriptions customer={c} />
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="transactions">
          <CustomerTransactions customerId={c.id} currency={c.currency} />
        </Tabs.Panel>
        <Tabs.Panel value="notifications">
          <CustomerNotifications customerId={c.id} />
        </Tabs.Panel>
        {tabs.some((t) => t.value === 'timeline') ? (
          <Tabs.Panel value="timeline">
            <CustomerTimeline customerId={c.id} />
          </Tabs.Panel>
        ) : null}
        <Tabs.Panel value="members">
          <CustomerMembers customer={c} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
