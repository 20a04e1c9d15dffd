import { useState } from 'react';
import { Link } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Anchor, Badge, Group, Paper, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api } from '../../shared/api.ts';
import { formatDate } from '../../shared/format.ts';
import { commonDecimals, formatMoney, isNegative, padDecimals } from '../../shared/money.ts';
import { ErrorState, HeadlineFigure, LoadingState } from '../../shared/ui.tsx';
import type { DashboardData, RenewalItem } from './customer-types.ts';
import { CURRENCIES } from './CustomersPage.tsx';

type Period = '30d' | '90d' | '12m';
const PERIODS: { value: Period; label: string }[] = [
  { value: '30d', label: '30 days' },
  { value: '90d', label: '90 days' },
  { value: '12m', label: '12 months' },
];

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function rangeOf(period: Period): { from: string; to: string; granularity: 'day' | 'month' } {
  const to = new Date();
  const from = new Date(to);
  if (period === '12m') {
    from.setUTCMonth(from.getUTCMonth() - 11, 1);
    return { from: isoDay(from), to: isoDay(to), granularity: 'month' };
  }
  from.setUTCDate(from.getUTCDate() - (period === '30d' ? 29 : 89));
  return { from: isoDay(from), to: isoDay(to), granularity: 'day' };
}

const monthLabel = new Intl.DateTimeFormat('en-GB', { month: 'short', year: '2-digit', timeZone: 'UTC' });
const dayLabel = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });

/**
 * The partner dashboard (admin home, Customer app): revenue, cost and margin over time from the ledger, customers whose
 * points are low, renewals due this week and failed renewals.
 */
export function PartnerDashboard() {
  const [period, setPeriod] = useState<Period>('30d');
  const [currency, setCurrency] = useState<string | null>(null);
  const range = rangeOf(period);
  const query = useQuery({
    queryKey: ['dashboard', range, currency],
    queryFn: ({ signal }) => api.get<DashboardData>('/api/v1/dashboard', { ...range, currency: currency ?? undefined }, signal),
    placeholderData: keepPreviousData,
    refetchInterval: 60_000,
  });
  const d = query.data;
  const totalDecimals = d ? commonDecimals([d.totals.revenue, d.totals.cost, d.totals.margin], d.currency) : 2;
  const totalMoney = (amount: string) => formatMoney(padDecimals(amount, totalDecimals), d?.currency);

  return (
    <Stack gap="md" component="section" aria-labelledby="dashboard-title">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={3} id="dashboard-title">
            Dashboard
          </Title>
          <Text size="sm" c="dimmed">
            From the ledger, as it happens. Revenue and cost are pre-tax; days are UTC.
          </Text>
        </div>
        <Group gap="sm" align="flex-end">
          <SegmentedControl size="xs" data={PERIODS} value={period} onChange={(v) => setPeriod(v)} aria-label="Period" />
          <Select
            size="xs"
            aria-label="Currency"
            data={CURRENCIES}
            value={currency ?? d?.currency ?? null}
            onChange={setCurrency}
            allowDeselect={false}
            w={100}
          />
        </Group>
      </Group>
      {query.error && !d ? (
        <ErrorState error={query.error} onRetry={() => void query.refetch()} title="Could not load the dashboard" />
      ) : !d ? (
        <LoadingState label="Loading the dashboard…" />
      ) : (
        <>
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            {/* The three figures with as many decimals as the one that needs most (a cost of call charges has sub-cent
                digits): "SGD 202.070" beside "SGD 0.791", not "SGD 202.07". Padded, never cut. */}
            <HeadlineFigure size="xl" label="Revenue" value={totalMoney(d.totals.revenue)} testId="dashboard-revenue" hint={`${formatDate(d.from)} – ${formatDate(d.to)}`} />
            <HeadlineFigure size="xl" label="Cost" value={totalMoney(d.totals.cost)} testId="dashboard-cost" hint="What the platform charges you" />
            <HeadlineFigure
              size="xl"
              label="Margin"
              value={totalMoney(d.totals.margin)}
              testId="dashboard-margin"
              color={isNegative(d.totals.margin) ? 'red.7' : 'teal.7'}
              hint={d.totals.marginPercent === null ? 'No revenue yet' : `${d.totals.marginPercent}% of revenue`}
            />
          </SimpleGrid>
          <Paper withBorder radius="md" p="md" aria-label="Revenue, cost and margin over time" role="figure">
            {/* The axis's unit: its bare figures (0, 45, 90...) said neither the currency nor whether a bar is a day or a month. */}
            <Text size="xs" c="dimmed" mb={4} data-testid="dashboard-chart-unit">
              {d.currency} per {d.granularity}, pre-tax
            </Text>
            <div style={{ width: '100%', height: 280 }}>
              <ResponsiveContainer>
                <ComposedChart data={d.series.map((p) => ({ ...p, r: Number(p.revenue), c: Number(p.cost), m: Number(p.margin) }))} margin={{ top: 8, right: 16, left: 0, bottom: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" vertical={false} />
                  <XAxis
                    dataKey="period"
                    tickFormatter={(v: string) => (d.granularity === 'month' ? monthLabel : dayLabel).format(new Date(`${v}T00:00:00Z`))}
                    fontSize={12}
                    minTickGap={16}
                  />
                  <YAxis fontSize={12} width={64} />
                  <Tooltip
                    formatter={(_value, name, item) => {
                      const p = item.payload as { revenue: string; cost: string; margin: string };
                      const text = name === 'Revenue' ? p.revenue : name === 'Cost' ? p.cost : p.margin;
                      return [formatMoney(padDecimals(text, commonDecimals([p.revenue, p.cost, p.margin], d.currency)), d.currency), name];
                    }}
                    labelFormatter={(v) => (typeof v === 'string' ? formatDate(v) : '')}
                  />
                  <Legend />
                  <Bar dataKey="r" name="Revenue" fill="var(--mantine-color-indigo-5)" radius={[3, 3, 0, 0]} />
                  <Bar dataKey="c" name="Cost" fill="var(--mantine-color-gray-5)" radius={[3, 3, 0, 0]} />
                  <Line dataKey="m" name="Margin" stroke="var(--mantine-color-teal-6)" strokeWidth={2} dot={false} type="monotone" />
                </ComposedChart>
              </ResponsiveContainer>
            </div>
          </Paper>
          <SimpleGrid cols={{ base: 1, lg: 3 }}>
            <LowPoints data={d} />
            <Renewals
              title="Renewals due this week"
              testId="renewals-due"
              unavailable={d.renewals === null}
              count={d.renewals?.dueThisWeek.count ?? 0}
              items={d.renewals?.dueThisWeek.items ?? []}
              empty="No renewal in the next 7 days."
              detail={(r) => `Renews ${formatDate(r.renewalAt)}${r.autoRenew ? '' : ' · auto-renew off'}`}
            />
            <Renewals
              title="Failed renewals"
              testId="renewals-failed"
              unavailable={d.renewals === null}
              count={d.renewals?.failed.count ?? 0}
              items={d.renewals?.failed.items ?? []}
              empty="No failed renewal."
              detail={(r) => `${r.failureReason ?? 'Failed'} · ${formatDate(r.failedAt)}`}
              danger
            />
          </SimpleGrid>
        </>
      )}
    </Stack>
  );
}

function LowPoints({ data: d }: { data: DashboardData }) {
  // One column, one number of decimals (a call's sub-cent digits padded onto the others).
  const usableDecimals = commonDecimals(d.lowPoints.customers.map((c) => c.usable), d.currency);
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-labelledby="low-points-title">
      <Group justify="space-between" mb="xs">
        <Title order={4} size="h5" id="low-points-title">
          Low points
        </Title>
        <Badge color={d.lowPoints.count > 0 ? 'orange' : 'gray'} variant="light" data-testid="low-points-count">
          {d.lowPoints.count}
        </Badge>
      </Group>
      <Text size="xs" c="dimmed" mb="xs">
        {d.currency} customers with usable points below {formatMoney(d.lowPoints.threshold, d.currency)}.
      </Text>
      {d.lowPoints.customers.length === 0 ? (
        <Text size="sm" c="dimmed">
          Nobody is low on points.
        </Text>
      ) : (
        <Table verticalSpacing={4} aria-label="Customers with low points">
          <Table.Tbody>
            {d.lowPoints.customers.map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>
                  <Anchor component={Link} to={`/admin/customer/${c.id}?tab=points`} size="sm">
                    {c.name}
                  </Anchor>
                </Table.Td>
                <Table.Td style={{ textAlign: 'right', fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>
                  <Text size="sm" c={isNegative(c.usable) ? 'red.7' : undefined}>
                    {formatMoney(padDecimals(c.usable, usableDecimals), d.currency)}
                  </Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {d.lowPoints.count > d.lowPoints.customers.length ? (
        <Anchor component={Link} to={`/admin/customer?low=1&currency=${d.currency}`} size="xs" mt="xs" display="block">
          All {d.lowPoints.count} customers
        </Anchor>
      ) : null}
    </Paper>
  );
}

function Renewals(props: {
  title: string; testId: string; unavailable: boolean; count: number; items: RenewalItem[]; empty: string; detail: (r: RenewalItem) => string; danger?: boolean;
}) {
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-label={props.title}>
      <Group justify="space-between" mb="xs">
        <Title order={4} size="h5">
          {props.title}
        </Title>
        <Badge color={props.count > 0 ? (props.danger ? 'red' : 'blue') : 'gray'} variant="light" data-testid={`${props.testId}-count`}>
          {props.count}
        </Badge>
      </Group>
      {props.unavailable ? (
        <Text size="sm" c="dimmed">
          Subscriptions are not available yet.
        </Text>
      ) : props.items.length === 0 ? (
        <Text size="sm" c="dimmed">
          {props.empty}
        </Text>
      ) : (
        <Stack gap={6}>
          {props.items.map((r) => (
            <div key={r.subscriptionId}>
              <Anchor component={Link} to={`/admin/customer/${r.customerId}?tab=subscriptions`} size="sm" fw={500}>
                {r.customerName}
              </Anchor>
              <Text size="xs" c="dimmed">
                {r.productName} · {r.variantName} — {props.detail(r)}
              </Text>
            </div>
          ))}
          {props.count > props.items.length ? (
            <Text size="xs" c="dimmed">
              and {props.count - props.items.length} more
            </Text>
          ) : null}
        </Stack>
      )}
    </Paper>
  );
}
