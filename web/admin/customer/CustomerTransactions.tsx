import { useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Anchor, Badge, Chip, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { IconDownload } from '@tabler/icons-react';
import { api, withQuery } from '../../shared/api.ts';
import { formatDateTime } from '../../shared/format.ts';
import { decimalsOf, formatMicros, formatMoney, isNegative, padDecimals, toMicros } from '../../shared/money.ts';
import { TRANSACTION_TYPE_LABELS, type Transaction, type TransactionFeed, type TransactionType } from '../../shared/points.tsx';
import { Empty, ErrorState, LoadingState } from '../../shared/ui.tsx';

const TYPES = Object.keys(TRANSACTION_TYPE_LABELS) as TransactionType[];
const GROUP_ORDER: (TransactionType | 'other')[] = ['call', 'subscription', 'top_up', 'purchase', 'credit', 'other'];
const GROUP_LABELS: Record<string, string> = { call: 'Calls', subscription: 'Subscriptions', top_up: 'Top-ups', purchase: 'Purchases', credit: 'Credits', other: 'Other' };

interface Group {
  type: string;
  rows: Transaction[];
  total: string;
  /** The most decimals among the group's amounts, and among its balances: each column's amounts are padded with zeros to them, so they read alike and line up. */
  amountDecimals: number;
  balanceDecimals: number;
}

/** The latest transactions grouped by type, zero amounts left out, each group with its count and total (exact, in micros). */
export function groupTransactions(rows: readonly Transaction[]): Group[] {
  const byType = new Map<string, Transaction[]>();
  for (const t of rows) {
    if (toMicros(t.amount) === 0n) continue;
    const list = byType.get(t.type) ?? [];
    list.push(t);
    byType.set(t.type, list);
  }
  return GROUP_ORDER.filter((type) => byType.has(type)).map((type) => {
    const list = byType.get(type)!;
    const sum = list.reduce((s, t) => s + (toMicros(t.amount) ?? 0n), 0n);
    // The currency's minor unit, as the API writes amounts (trailing zeros trimmed down to it): the fewest decimals of
    // the group's amounts and balances (balances alone may all carry a call's sub-cent digits). Never drops a digit.
    const decimals = Math.min(...list.flatMap((t) => [decimalsOf(t.amount), decimalsOf(t.balanceAfter)]));
    return {
      type, rows: list, total: formatMicros(sum, Number.isFinite(decimals) ? decimals : 2),
      amountDecimals: Math.max(...list.map((t) => decimalsOf(t.amount))), balanceDecimals: Math.max(...list.map((t) => decimalsOf(t.balanceAfter))),
    };
  });
}

/** `SGD -21.80`, `SGD +5.00`, `SGD 0.00`. */
function signedMoney(amount: string, currency: string): string {
  const m = toMicros(amount);
  return m !== null && m > 0n ? `${currency} +${formatMoney(amount)}` : formatMoney(amount, currency);
}

/**
 * Customer detail > Transactions: the latest 100 points transactions (calls, subscriptions, top-ups, purchases, credits),
 * grouped by type with totals per group, zero amounts left out; a type filter and a CSV export of every matching one.
 */
export function CustomerTransactions({ customerId, currency }: { customerId: string; currency: string }) {
  const [type, setType] = useState<TransactionType | ''>('');
  const path = `/api/v1/customers/${encodeURIComponent(customerId)}/transactions`;
  const feed = useQuery({
    // Under the points key, so a points change (issue, take back) refreshes it too.
    queryKey: ['customers', customerId, 'points', 'transactions', { type, cursor: undefined, grouped: true }],
    queryFn: ({ signal }) => api.get<TransactionFeed>(path, { type, limit: 100 }, signal),
    placeholderData: keepPreviousData,
  });
  const groups = feed.data ? groupTransactions(feed.data.data) : [];

  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="transactions-title">
      <Stack gap="md">
        <Group justify="space-between" align="flex-start" wrap="nowrap">
          <div>
            <Title order={3} size="h4" id="transactions-title">
              Transactions
            </Title>
            <Text size="sm" c="dimmed">
              The latest 100 changes to the points, straight from the ledger (no lag), grouped by type. Amounts in {currency}.
            </Text>
          </div>
          <Anchor href={withQuery(path, { format: 'csv', type })} download size="sm">
            <Group gap={4}>
              <IconDownload size={14} /> Download CSV
            </Group>
          </Anchor>
        </Group>
        <Chip.Group multiple={false} value={type} onChange={(v) => setType(v)}>
          <Group gap={6} role="radiogroup" aria-label="Transaction type">
            <Chip value="" size="sm" variant="light">
              All
            </Chip>
            {TYPES.map((t) => (
              <Chip key={t} value={t} size="sm" variant="light">
                {TRANSACTION_TYPE_LABELS[t]}
              </Chip>
            ))}
          </Group>
        </Chip.Group>
        {feed.error && !feed.data ? (
          <ErrorState error={feed.error} onRetry={() => void feed.refetch()} title="Could not load the transactions" />
        ) : !feed.data ? (
          <LoadingState label="Loading transactions…" />
        ) : groups.length === 0 ? (
          <Empty title={type ? `No ${TRANSACTION_TYPE_LABELS[type].toLowerCase()} transactions` : 'No transactions yet'} description="Top-ups, calls, subscriptions, purchases paid with points and credits will appear here." />
        ) : (
          <Stack gap="lg">
            {groups.map((g) => (
              <section key={g.type} aria-label={`${GROUP_LABELS[g.type] ?? g.type} transactions`} data-testid={`transactions-group-${g.type}`}>
                <Group justify="space-between" mb={4}>
                  <Group gap="xs">
                    <Title order={4} size="h5">
                      {GROUP_LABELS[g.type] ?? g.type}
                    </Title>
                    <Badge variant="light" color="gray" radius="sm">
                      {g.rows.length}
                    </Badge>
                  </Group>
                  <Text size="sm" fw={600} c={isNegative(g.total) ? 'red.7' : 'teal.7'} data-testid={`transactions-total-${g.type}`} style={{ fontVariantNumeric: 'tabular-nums' }}>
                    Total {signedMoney(padDecimals(g.total, g.amountDecimals), currency)}
                  </Text>
                </Group>
                <Table.ScrollContainer minWidth={600}>
                  <Table aria-label={`${GROUP_LABELS[g.type] ?? g.type}`} verticalSpacing="xs">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th w={180}>Date</Table.Th>
                        <Table.Th>Description</Table.Th>
                        <Table.Th style={{ textAlign: 'right' }} w={140}>
                          Amount ({currency})
                        </Table.Th>
                        <Table.Th style={{ textAlign: 'right' }} w={160}>
                          Balance after ({currency})
                        </Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {g.rows.map((t) => (
                        <Table.Tr key={t.id}>
                          <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(t.occurredAt)}</Table.Td>
                          <Table.Td>
                            <Text size="sm">{t.description}</Text>
                            <Text size="xs" c="dimmed">
                              {t.kind}
                            </Text>
                          </Table.Td>
                          <Table.Td style={{ textAlign: 'right', fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>
                            <Text size="sm" fw={600} c={isNegative(t.amount) ? 'red.7' : 'teal.7'}>
                              {`${isNegative(t.amount) ? '' : '+'}${formatMoney(padDecimals(t.amount, g.amountDecimals))}`}
                            </Text>
                          </Table.Td>
                          <Table.Td style={{ textAlign: 'right', fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>
                            {formatMoney(padDecimals(t.balanceAfter, g.balanceDecimals))}
                          </Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              </section>
            ))}
            {feed.data.nextCursor ? (
              <Text size="xs" c="dimmed">
                Older transactions are in the CSV export.
              </Text>
            ) : null}
          </Stack>
        )}
      </Stack>
    </Paper>
  );
}
