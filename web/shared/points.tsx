import { useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Anchor, Badge, Button, Chip, Group, Paper, SimpleGrid, Stack, Text } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { IconChevronLeft, IconChevronRight, IconDownload } from '@tabler/icons-react';
import { api, withQuery } from './api.ts';
import { formatDate, formatDateTime } from './format.ts';
import { commonDecimals, decimalsOf, formatMoney, isNegative, padDecimals } from './money.ts';
import { DataTable, ErrorState, HeadlineFigure, LoadingState } from './ui.tsx';

/** GET …/wallet: the customer's points, as decimal strings in its currency. */
export interface Wallet {
  currency: string;
  points: string;
  reserved: string;
  creditLimit: string;
  creditLimitExpiresAt: string | null;
  usable: string;
}

export type TransactionType = 'call' | 'subscription' | 'top_up' | 'purchase' | 'credit' | 'other';

export interface Transaction {
  id: string;
  occurredAt: string;
  type: TransactionType;
  kind: string;
  description: string;
  /** Signed: positive adds points, negative spends them. */
  amount: string;
  balanceAfter: string;
  currency: string;
}

export interface TransactionFeed {
  data: Transaction[];
  nextCursor: string | null;
  totals: { type: string; count: number; total: string }[];
}

export const TRANSACTION_TYPE_LABELS: Record<TransactionType, string> = {
  call: 'Call',
  subscription: 'Subscription',
  top_up: 'Top-up',
  purchase: 'Purchase',
  credit: 'Credit',
  other: 'Other',
};

function typeLabel(type: string): string {
  return (TRANSACTION_TYPE_LABELS as Record<string, string>)[type] ?? 'Other';
}

const PHONE_SMALLER = { base: 'lg', sm: 'xl' } as const;

/** Points, reserved, credit limit and usable, side by side. */
export function WalletSummary({ wallet, error, onRetry, uniformAmounts = false }: {
  wallet: Wallet | undefined;
  error?: unknown;
  onRetry?: () => void;
  /** Staff: the four figures with the same decimals, padded with zeros ("SGD 0.0000" beside "SGD 47.0788"). */
  uniformAmounts?: boolean;
}) {
  if (!wallet && error) return <ErrorState error={error} onRetry={onRetry} title="Could not load the points balance" />;
  if (!wallet) return <LoadingState label="Loading points…" />;
  const decimals = uniformAmounts ? commonDecimals([wallet.points, wallet.reserved, wallet.creditLimit, wallet.usable], wallet.currency) : 0;
  const w = uniformAmounts
    ? { ...wallet, points: padDecimals(wallet.points, decimals), reserved: padDecimals(wallet.reserved, decimals), creditLimit: padDecimals(wallet.creditLimit, decimals), usable: padDecimals(wallet.usable, decimals) }
    : wallet;
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-label="Points balance">
      {/* A figure a size smaller on a phone, where two share a row: "SGD 47.0788" then keeps to one line. A point's worth
          names the currency: staff read this too, and "1 unit of your currency" was not theirs. */}
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        <HeadlineFigure framed={false} size={PHONE_SMALLER} label="Points" value={formatMoney(w.points, w.currency)} hint={`1 point = 1 ${w.currency}`} testId="wallet-points" />
        <HeadlineFigure framed={false} size={PHONE_SMALLER} label="Reserved" value={formatMoney(w.reserved, w.currency)} hint="Held for calls in progress" testId="wallet-reserved" />
        <HeadlineFigure
          framed={false}
          size={PHONE_SMALLER}
          label="Credit limit"
          value={formatMoney(w.creditLimit, w.currency)}
          hint={w.creditLimitExpiresAt ? `Until ${formatDate(w.creditLimitExpiresAt)}` : 'Permanent'}
          testId="wallet-credit-limit"
        />
        <HeadlineFigure framed={false} size={PHONE_SMALLER} label="Usable" value={formatMoney(w.usable, w.currency)} hint="Points − reserved + credit limit" testId="wallet-usable" />
      </SimpleGrid>
    </Paper>
  );
}

/** Query keys: `[...base, 'wallet']` and `[...base, 'transactions', …]`, so one invalidation of `base` refreshes both. */
export function useWallet(base: readonly unknown[], path: string, options: { enabled?: boolean } = {}) {
  return useQuery({ queryKey: [...base, 'wallet'], queryFn: ({ signal }) => api.get<Wallet>(path, {}, signal), enabled: options.enabled });
}

const TYPES = Object.keys(TRANSACTION_TYPE_LABELS) as TransactionType[];

/**
 * The points transactions: the latest 100, a type filter, totals by type (over the whole history), an "Older" pager that
 * follows the API's cursor, and a CSV download of every matching transaction. With `showKind` (staff), each description
 * also names its ledger entry's kind (`call_charge`, `points_issued`): a customer reads the type and description alone.
 */
export function TransactionsTable({ base, path, showKind = false, uniformAmounts = false }: {
  base: readonly unknown[];
  path: string;
  showKind?: boolean;
  /**
   * Staff (Customer app): every amount and balance written with the page's most decimals, padded with zeros (`-0.3270`
   * beside `-0.0654`), and none with its currency (the column headers name it), on every screen width. Off: the portal's
   * table as it was.
   */
  uniformAmounts?: boolean;
}) {
  const [type, setType] = useState<TransactionType | ''>('');
  // The cursors of the pages before the one shown ("Newer" goes back one).
  const [cursors, setCursors] = useState<(string | undefined)[]>([]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const feed = useQuery({
    queryKey: [...base, 'transactions', { type, cursor }],
    queryFn: ({ signal }) => api.get<TransactionFeed>(path, { type, cursor, limit: 100 }, signal),
    placeholderData: keepPreviousData,
  });
  const choose = (t: string) => {
    setType(t as TransactionType | '');
    setCursor(undefined);
    setCursors([]);
  };
  const older = () => {
    if (!feed.data?.nextCursor) return;
    setCursors((c) => [...c, cursor]);
    setCursor(feed.data.nextCursor);
  };
  const newer = () => {
    const copy = [...cursors];
    const previous = copy.pop();
    setCursors(copy);
    setCursor(previous);
  };
  const rows = feed.data?.data;
  const currency = rows?.[0]?.currency;
  // Amounts carry as many decimals as they need (a call's sub-cent digits, a top-up's two): each column's decimal points
  // line up, the fractions padded to the longest on the page. Not on a phone, where the columns keep their natural
  // width to fit the screen (Mantine's sm breakpoint, where the date column appears).
  const aligned = useMediaQuery('(min-width: 48em)') ?? false;
  const amountDecimals = aligned && !uniformAmounts ? Math.max(0, ...(rows ?? []).map((t) => decimalsOf(t.amount))) : 0;
  const balanceDecimals = aligned && !uniformAmounts ? Math.max(0, ...(rows ?? []).map((t) => decimalsOf(t.balanceAfter))) : 0;
  const uniform = uniformAmounts
    ? { amount: commonDecimals((rows ?? []).map((t) => t.amount), currency ?? ''), balance: commonDecimals((rows ?? []).map((t) => t.balanceAfter), currency ?? '') }
    : null;
  const amountText = (t: Transaction) => {
    const text = formatMoney(uniform ? padDecimals(t.amount, uniform.amount) : t.amount);
    return `${isNegative(t.amount) ? '' : '+'}${text}`;
  };
  const balanceText = (t: Transaction) =>
    uniform ? formatMoney(padDecimals(t.balanceAfter, uniform.balance)) : formatMoney(t.balanceAfter, aligned ? t.currency : undefined);
  const inCurrency = (header: string) => (uniform && currency ? `${header} (${currency})` : header);

  return (
    <Stack gap="sm">
      <Group justify="space-between" align="center">
        <Chip.Group multiple={false} value={type} onChange={choose}>
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
        <Anchor href={withQuery(path, { format: 'csv', type })} download size="sm">
          <Group gap={4}>
            <IconDownload size={14} /> Download CSV
          </Group>
        </Anchor>
      </Group>
      {feed.data && feed.data.totals.length > 0 ? (
        <Group gap={6} aria-label="Totals by type" role="list">
          <Text size="xs" c="dimmed">
            All time:
          </Text>
          {feed.data.totals.map((t) => (
            <Badge key={t.type} variant="outline" color={isNegative(t.total) ? 'red' : 'teal'} radius="sm" role="listitem" tt="none">
              {typeLabel(t.type)} · {t.count} · {formatMoney(t.total, currency)}
            </Badge>
          ))}
        </Group>
      ) : null}
      <DataTable
        label="Transactions"
        rows={rows}
        loading={feed.isPending}
        error={feed.error}
        onRetry={() => void feed.refetch()}
        rowKey={(t) => t.id}
        emptyTitle={type ? `No ${typeLabel(type).toLowerCase()} transactions` : 'No transactions yet'}
        emptyDescription="Top-ups, calls, subscriptions, purchases paid with points and credits will appear here."
        columns={[
          { key: 'when', header: 'Date', visibleFrom: 'sm', render: (t) => <Text size="sm" style={{ whiteSpace: 'nowrap' }}>{formatDateTime(t.occurredAt)}</Text> },
          {
            key: 'type',
            header: 'Type',
            visibleFrom: 'sm',
            render: (t) => (
              <Badge variant="light" color="gray" radius="sm" tt="none" title={showKind ? t.kind : undefined}>
                {typeLabel(t.type)}
              </Badge>
            ),
          },
          {
            key: 'description',
            header: 'Description',
            render: (t) => (
              <div>
                <Text size="sm">{t.description}</Text>
                {showKind ? (
                  <Text size="xs" c="dimmed" visibleFrom="sm">
                    {t.kind}
                  </Text>
                ) : null}
                {/* On a phone the date sits under the description (its own column is left out). */}
                <Text size="xs" c="dimmed" hiddenFrom="sm">
                  {formatDateTime(t.occurredAt)}
                </Text>
              </div>
            ),
          },
          {
            key: 'amount',
            header: inCurrency('Amount'),
            align: 'right',
            render: (t) => (
              <Text size="sm" fw={600} c={isNegative(t.amount) ? 'red.7' : 'teal.7'} style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>
                <DecimalAligned text={amountText(t)} decimals={amountDecimals} />
              </Text>
            ),
          },
          {
            key: 'balance',
            header: inCurrency('Balance after'),
            align: 'right',
            render: (t) => (
              <Text size="sm" style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>
                {/* On a phone without its currency, as the amounts beside it: the three columns then fit its width. */}
                <DecimalAligned text={balanceText(t)} decimals={balanceDecimals} />
              </Text>
            ),
          },
        ]}
        footer={
          cursors.length > 0 || feed.data?.nextCursor ? (
            <Group justify="center" gap="xs">
              <Button variant="default" size="xs" leftSection={<IconChevronLeft size={14} />} disabled={cursors.length === 0} onClick={newer}>
                Newer
              </Button>
              <Button variant="default" size="xs" rightSection={<IconChevronRight size={14} />} disabled={!feed.data?.nextCursor} loading={feed.isFetching && feed.isPlaceholderData} onClick={older}>
                Older
              </Button>
            </Group>
          ) : null
        }
      />
    </Stack>
  );
}

/**
 * A right-aligned number whose decimal point lines up with the others of its column: a fraction with fewer digits than
 * the column's most (`decimals`) is padded on the right by the digits it lacks (tabular figures: a digit is 1ch wide).
 * `decimals` 0: the text as it is. The text itself is never changed (what is read, copied or tested is the amount as
 * written).
 */
export function DecimalAligned({ text, decimals }: { text: string; decimals: number }) {
  if (decimals === 0) return <>{text}</>;
  const point = text.lastIndexOf('.');
  const missing = point < 0 ? decimals + 0.5 : decimals - (text.length - point - 1);
  return (
    <>
      {point < 0 ? text : text.slice(0, point)}
      <span data-fraction style={{ paddingRight: `${Math.max(0, missing)}ch` }}>
        {point < 0 ? '' : text.slice(point)}
      </span>
    </>
  );
}
