import { useState } from 'react';
import { Badge, Box, Group, Text, Title, type TitleOrder } from '@mantine/core';
import { formatDate, formatDateTime } from './format.ts';
import { formatMoney } from './money.ts';
import { cardFailureText } from './card-failure.ts';
import { usePagedList } from './queries.ts';
import { DataTable, LoadMore, StatusBadge, type Column } from './ui.tsx';

/** GET …/top-ups: a card top-up. Staff also get where it was charged and which policy applied. */
export interface TopUpRow {
  id: string;
  status: string;
  auto: boolean;
  currency: string;
  amount: string;
  fee: string;
  total: string;
  invoice: { id: string; number: string } | null;
  failure: { code: string; reason: string } | null;
  createdAt: string;
  gateway?: string;
  gatewayChargeRef?: string | null;
  /** The top-up policy version that applied (null: the provider's default). */
  policyVersion?: { id: string; effectiveFrom: string } | null;
}

/** What the card was charged: nothing for a failed top-up (its total is what it would have charged). */
function chargedText(t: TopUpRow): string {
  return t.status === 'failed' ? 'Not charged' : formatMoney(t.total, t.currency);
}

/** Why a failed top-up failed, in words (the gateway's code never raw); staff also see the code recorded, on hover. */
function FailureNote({ t, staff }: { t: TopUpRow; staff: boolean }) {
  if (!t.failure) return null;
  return (
    <Text size="xs" c="red.7" title={staff ? `${t.failure.code}: ${t.failure.reason}` : undefined}>
      {cardFailureText(t.failure.code, t.failure.reason)}
    </Text>
  );
}

function TopUpStatus({ t }: { t: TopUpRow }) {
  return (
    <Group gap={4} wrap="nowrap">
      <StatusBadge status={t.status} />
      {t.auto ? (
        <Badge variant="outline" color="gray" radius="sm" tt="none">
          Auto
        </Badge>
      ) : null}
    </Group>
  );
}

/**
 * A customer's card top-ups (their own and automatic ones), newest first, and why a failed one failed: the portal's
 * Points tab and the Customer app's Points. `staff` adds the policy version and the gateway's reference. While one is
 * pending the list refreshes itself until it settles.
 */
export function TopUpsTable({ base, path, staff = false, titleOrder, limit }: {
  base: readonly unknown[];
  path: string;
  staff?: boolean;
  titleOrder: TitleOrder;
  limit?: number;
}) {
  const [poll, setPoll] = useState(false);
  const topUps = usePagedList<TopUpRow>([...base, 'top-ups'], path, limit ? { limit } : {}, { refetchInterval: poll ? 3_000 : false });
  const anyPending = topUps.rows?.some((t) => t.status === 'pending') ?? false;
  if (anyPending !== poll) setPoll(anyPending);
  const titleId = staff ? 'staff-top-ups-title' : 'top-ups-title';
  const columns: Column<TopUpRow>[] = [
    {
      key: 'when',
      header: 'Date',
      render: (t) => (
        <div>
          <Text size="sm" style={{ whiteSpace: 'nowrap' }}>{formatDateTime(t.createdAt)}</Text>
          {/* On a phone its status, what the card was charged, its invoice and why it failed sit under the date (their columns are left out). */}
          <Box hiddenFrom="sm" mt={4}>
            <TopUpStatus t={t} />
            <Text size="xs" c="dimmed">{t.status === 'failed' ? 'Not charged' : `Charged ${chargedText(t)}`}</Text>
            {t.invoice ? <Text size="xs" c="dimmed">{t.invoice.number}</Text> : null}
            <FailureNote t={t} staff={staff} />
          </Box>
        </div>
      ),
    },
    { key: 'status', header: 'Status', visibleFrom: 'sm', render: (t) => <TopUpStatus t={t} /> },
    { key: 'amount', header: 'Points', align: 'right', render: (t) => <Text size="sm" style={{ whiteSpace: 'nowrap' }}>{formatMoney(t.amount, t.currency)}</Text> },
    { key: 'fee', header: 'Fee', align: 'right', visibleFrom: 'sm', render: (t) => formatMoney(t.fee, staff ? t.currency : undefined) /* staff: with its currency, as Points and Charged beside it */ },
    ...(staff
      ? [{
          key: 'policy', header: 'Policy', visibleFrom: 'sm' as const,
          render: (t: TopUpRow) => <Text size="xs" c="dimmed" title={t.policyVersion?.id}>{t.policyVersion ? `Version of ${formatDate(t.policyVersion.effectiveFrom)}` : 'Default'}</Text>,
        }]
      : []),
    { key: 'total', header: 'Charged', align: 'right', visibleFrom: 'sm', render: (t) => <Text size="sm" c={t.status === 'failed' ? 'dimmed' : undefined} style={{ whiteSpace: 'nowrap' }}>{chargedText(t)}</Text> },
    { key: 'invoice', header: 'Invoice', visibleFrom: 'sm', render: (t) => t.invoice?.number ?? '—' },
    ...(staff
      ? [{ key: 'ref', header: 'Gateway', visibleFrom: 'sm' as const, render: (t: TopUpRow) => <Text size="xs" c="dimmed">{t.gateway}{t.gatewayChargeRef ? ` · ${t.gatewayChargeRef}` : ''}</Text> }]
      : []),
    { key: 'failure', header: 'Note', visibleFrom: 'sm', render: (t) => <FailureNote t={t} staff={staff} /> },
  ];
  return (
    <section aria-labelledby={titleId}>
      <Title order={titleOrder} size={`h${(titleOrder + 1) as 2 | 3 | 4 | 5 | 6}`} mb="xs" id={titleId}>
        Top-ups
      </Title>
      <DataTable
        label="Top-ups"
        rows={topUps.rows}
        loading={topUps.isPending}
        error={topUps.error}
        onRetry={() => void topUps.refetch()}
        rowKey={(t) => t.id}
        emptyTitle="No top-ups yet"
        emptyDescription={staff ? "Card top-ups, the customer's and automatic ones, will be listed here." : 'Top-ups by card, yours and automatic ones, will be listed here.'}
        footer={<LoadMore hasNextPage={topUps.hasNextPage} isFetchingNextPage={topUps.isFetchingNextPage} onLoadMore={() => void topUps.fetchNextPage()} />}
        columns={columns}
      />
    </section>
  );
}
