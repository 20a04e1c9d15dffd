import { Paper, SimpleGrid, Table, Text, Title } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { lazy, Suspense } from 'react';
import type { StatementView } from '../../src/invoices/invoice-view-types.ts';
import { formatBilledTime } from '../../src/usage/billed-time.ts';
import { formatPeriod } from './format.ts';
import { currencyDecimals, formatMicros, formatMoney, toMicros } from './money.ts';
import { Empty } from './ui.tsx';

/** The chart library is a chunk of its own, loaded when a statement with usage is shown (most invoices have none). */
const UsageChart = lazy(() => import('./UsageChart.tsx'));

/** The usage chart's height: a row per category, tall enough for its name beside its bar. */
function usageChartHeightPx(categories: number): number {
  return Math.max(120, 40 + 30 * categories);
}

/** The card's width from which the chart and the table each have half of it: the table's five columns need ~430 px. */
const SIDE_BY_SIDE_PX = 900;
/** The table's narrowest with its calls and duration columns: below it, it scrolls in the card. */
const TABLE_MIN_PX = 420;

function Fact({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text fw={600} data-testid={testId} style={{ fontVariantNumeric: 'tabular-nums' }}>
        {value}
      </Text>
    </div>
  );
}

function callsText(calls: number): string {
  return `${calls.toLocaleString('en')} ${calls === 1 ? 'call' : 'calls'}`;
}

/**
 * A Monthly statement: opening and closing points, usage by category (chart and table), renewals, purchases, top-ups, credits.
 * A category's amount is what the points paid, tax included; when any category carried tax, a column says how much.
 * On a phone a category's calls and duration sit under its name, so the table fits the card (with five columns it ran
 * past the card's edge and the screen's, "Of which tax" cut off). The chart and the table sit side by side only when the
 * card itself is wide enough (a container query: the portal's invoice dialog at 1280 px is not, and the table, at half
 * of it, ran past the card); else the table has the card's width under the chart, and scrolls sideways in the card
 * rather than run past it should it still not fit.
 */
export function InvoiceStatement({ statement: s, currency }: { statement: StatementView; currency: string }) {
  const withTax = s.usage.some((u) => (toMicros(u.tax) ?? 0n) !== 0n);
  // The calls of every category together, beside the other movements: opening, these, closing add up.
  const callCount = s.usage.reduce((n, u) => n + u.calls, 0);
  const callsAmount = formatMicros(s.usage.reduce((sum, u) => sum + (toMicros(u.amount) ?? 0n), 0n), currencyDecimals(currency));
  // Mantine's sm breakpoint, from which the calls and duration have columns of their own.
  const wide = useMediaQuery('(min-width: 48em)', undefined, { getInitialValueInEffect: false });
  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="statement-title">
      <Title order={3} size="h5" id="statement-title">
        Statement {formatPeriod(s.periodStart, s.periodEnd)}
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        What happened on the customer’s points in the period.
      </Text>
      <SimpleGrid cols={{ base: 2, sm: 3, md: 6 }} spacing="md" mb="lg">
        <Fact label="Opening points" value={formatMoney(s.openingPoints, currency)} testId="statement-opening" />
        <Fact label={`Calls (${callCount.toLocaleString('en')})`} value={formatMoney(callsAmount, currency)} testId="statement-calls" />
        <Fact label={`Renewals (${s.renewals.count})`} value={formatMoney(s.renewals.amount, currency)} />
        <Fact label={`Purchases (${s.purchases.count})`} value={formatMoney(s.purchases.amount, currency)} />
        <Fact label={`Top-ups (${s.topUps.count})`} value={formatMoney(s.topUps.amount, currency)} />
        <Fact label={`Credits (${s.credits.count})`} value={formatMoney(s.credits.amount, currency)} />
        {s.other.count > 0 ? <Fact label={`Other (${s.other.count})`} value={formatMoney(s.other.amount, currency)} /> : null}
        <Fact label="Closing points" value={formatMoney(s.closingPoints, currency)} testId="statement-closing" />
      </SimpleGrid>
      <Title order={4} size="h6" mb="xs">
        Usage by category
      </Title>
      {s.usage.length === 0 ? (
        <Empty title="No usage in this period" />
      ) : (
        <SimpleGrid type="container" cols={{ base: 1, [`${SIDE_BY_SIDE_PX}px`]: 2 }} spacing="lg">
          <div role="figure" aria-label="Usage by category" style={{ width: '100%', height: usageChartHeightPx(s.usage.length) }}>
            <Suspense fallback={null}>
              <UsageChart usage={s.usage} currency={currency} />
            </Suspense>
          </div>
          <Table.ScrollContainer minWidth={wide ? TABLE_MIN_PX : 0} type="native">
            <Table aria-label="Usage by category" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Category</Table.Th>
                  <Table.Th visibleFrom="sm" style={{ textAlign: 'right' }}>Calls</Table.Th>
                  <Table.Th visibleFrom="sm" style={{ textAlign: 'right' }}>Duration</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Amount</Table.Th>
                  {withTax ? <Table.Th style={{ textAlign: 'right' }}>Of which tax</Table.Th> : null}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {s.usage.map((u) => (
                  <Table.Tr key={u.category}>
                    <Table.Td>
                      {u.label}
                      {wide ? null : (
                        <Text size="xs" c="dimmed">
                          {callsText(u.calls)}, {formatBilledTime(u.seconds)}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td visibleFrom="sm" style={{ textAlign: 'right' }}>{u.calls.toLocaleString('en')}</Table.Td>
                    <Table.Td visibleFrom="sm" style={{ textAlign: 'right', whiteSpace: 'nowrap' }}>{formatBilledTime(u.seconds)}</Table.Td>
                    <Table.Td style={{ textAlign: 'right' }}>
                      <Text size="sm" span style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>{formatMoney(u.amount)}</Text>
                    </Table.Td>
                    {withTax ? (
                      <Table.Td style={{ textAlign: 'right' }}>
                        <Text size="sm" c="dimmed" span style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>{formatMoney(u.tax)}</Text>
                      </Table.Td>
                    ) : null}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </SimpleGrid>
      )}
    </Paper>
  );
}
