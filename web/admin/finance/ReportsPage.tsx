import type { ReactNode } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Badge, Button, Group, Paper, Select, Stack, Switch, Table, Tabs, Text, TextInput, Title } from '@mantine/core';
import { IconDownload, IconScale, IconClockHour4 } from '@tabler/icons-react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api, withQuery } from '../../shared/api.ts';
import { useUrlFilters } from '../../shared/url-filters.ts';
import { formatDate } from '../../shared/format.ts';
import { formatMoney } from '../../shared/money.ts';
import { Empty, ErrorState, LoadingState, PageHeader } from '../../shared/ui.tsx';
import { Amount } from '../invoices/invoice-ui.tsx';
import { PAYMENT_CURRENCIES, REPORTS_KEY, todayIso, type ArAging, type TrialBalance } from './finance-types.ts';
import { LedgerCheckBanner } from './LedgerCheckBanner.tsx';

const BUCKETS = [
  { key: 'current', label: 'Current', color: 'var(--mantine-color-teal-5)' },
  { key: 'days1To30', label: '1-30 days', color: 'var(--mantine-color-yellow-5)' },
  { key: 'days31To60', label: '31-60 days', color: 'var(--mantine-color-orange-5)' },
  { key: 'days61To90', label: '61-90 days', color: 'var(--mantine-color-red-5)' },
  { key: 'over90', label: 'Over 90 days', color: 'var(--mantine-color-red-9)' },
] as const;

/** Customers drawn in the chart: the largest amounts due (the table lists every one). */
const CHART_CUSTOMERS = 15;

/** The two controls both reports share, kept in the address: the day and the currency. */
function useReportParams() {
  const { params, filter, setFilters } = useUrlFilters();
  return { params, asOf: filter('asOf'), currency: filter('currency'), set: setFilters };
}

function ReportControls({ asOf, currency, onChange, children, days = 'past' }: {
  asOf: string; currency: string; onChange: (e: Record<string, string>) => void; children?: ReactNode;
  /** `past`: today or before (balances at a day's end); `coming`: today or after (today's amounts aged at that day). */
  days?: 'past' | 'coming';
}) {
  return (
    <Group align="flex-end" gap="sm" role="search" aria-label="Report options">
      <TextInput
        label="As of" type="date" value={asOf} {...(days === 'past' ? { max: todayIso() } : { min: todayIso() })} onChange={(e) => onChange({ asOf: e.currentTarget.value })} w={170}
        description={days === 'past' ? 'End of this day (UTC)' : 'Today, or a day to come (UTC)'}
      />
      <Select
        label="Currency"
        data={[{ value: '', label: 'Default currency' }, ...PAYMENT_CURRENCIES.map((c) => ({ value: c, label: c }))]}
        value={currency}
        onChange={(v) => onChange({ currency: v ?? '' })}
        allowDeselect={false}
        w={170}
        description="One currency per report"
      />
      {children}
    </Group>
  );
}

/** Accounts receivable aging and the trial balance, each as of a chosen day, with CSV. */
export function ReportsPage() {
  const { params, set } = useReportParams();
  const tab = params.get('report') === 'trial-balance' ? 'trial-balance' : 'ar-aging';
  return (
    <Stack maw={1400}>
      <PageHeader title="Reports" description="What customers owe and for how long, and the trial balance of your ledger." />
      <LedgerCheckBanner />
      <Tabs value={tab} onChange={(v) => v && set({ report: v === 'ar-aging' ? '' : v })} keepMounted={false}>
        <Tabs.List mb="md" aria-label="Reports">
          <Tabs.Tab value="ar-aging" leftSection={<IconClockHour4 size={16} />}>
            AR aging
          </Tabs.Tab>
          <Tabs.Tab value="trial-balance" leftSection={<IconScale size={16} />}>
            Trial balance
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="ar-aging">
          <ArAgingReport />
        </Tabs.Panel>
        <Tabs.Panel value="trial-balance">
          <TrialBalanceReport />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function ArAgingReport() {
  const { asOf: asked, currency, set } = useReportParams();
  // AR aging ages what is owed now: at today, or a day to come. A past day (kept from the trial balance) reads as today.
  const asOf = asked && asked >= todayIso() ? asked : '';
  const query = { asOf: asOf || undefined, currency: currency || undefined };
  const report = useQuery({
    queryKey: [...REPORTS_KEY, 'ar-aging', query],
    queryFn: ({ signal }) => api.get<ArAging>('/api/v1/finance/reports/ar-aging', query, signal),
    placeholderData: keepPreviousData,
  });
  const r = report.data;
  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <ReportControls asOf={asOf} currency={currency} onChange={set} days="coming" />
        <Button component="a" href={withQuery('/api/v1/finance/reports/ar-aging', { ...query, format: 'csv' })} download variant="default" leftSection={<IconDownload size={16} />}>
          Download CSV
        </Button>
      </Group>
      {report.isError && !r ? (
        <ErrorState error={report.error} onRetry={() => void report.refetch()} title="Could not draw up the aging report" />
      ) : !r ? (
        <LoadingState label="Drawing up the aging report…" />
      ) : r.rows.length === 0 ? (
        <Empty title="Nothing owed" description={`No customer has an open invoice in ${r.currency} as of ${formatDate(r.asOf)}.`} />
      ) : (
        <>
          <Paper withBorder radius="md" p="md" role="figure" aria-label="Amount due by age, per customer">
            <Title order={3} size="h5" mb="xs">
              Amount due by age ({r.currency}, as of {formatDate(r.asOf)})
            </Title>
            <div style={{ width: '100%', height: Math.max(220, Math.min(r.rows.length, CHART_CUSTOMERS) * 34 + 70) }}>
              <ResponsiveContainer>
                <BarChart
                  layout="vertical"
                  data={r.rows.slice(0, CHART_CUSTOMERS).map((row) => ({ name: row.customer.name, ...Object.fromEntries(BUCKETS.map((b) => [b.key, Number(row[b.key])])) }))}
                  margin={{ top: 4, right: 16, left: 8, bottom: 0 }}
                >
                  <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                  <XAxis type="number" fontSize={12} />
                  <YAxis type="category" dataKey="name" width={160} fontSize={12} />
                  <Tooltip formatter={(value, name) => [formatMoney(String(value), r.currency), name]} />
                  <Legend itemSorter={null} />
                  {BUCKETS.map((b) => (
                    <Bar key={b.key} dataKey={b.key} name={b.label} stackId="due" fill={b.color} />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </div>
            {r.rows.length > CHART_CUSTOMERS ? (
              <Text size="xs" c="dimmed">
                The {CHART_CUSTOMERS} customers owing most; the table lists all {r.rows.length}.
              </Text>
            ) : null}
          </Paper>
          <Paper withBorder radius="md" p="md">
            <Table.ScrollContainer minWidth={900}>
              <Table aria-label="AR aging" verticalSpacing="xs" striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Customer</Table.Th>
                    <Table.Th style={{ textAlign: 'right' }}>Open invoices</Table.Th>
                    {BUCKETS.map((b) => (
                      <Table.Th key={b.key} style={{ textAlign: 'right' }}>
                        {b.label}
                      </Table.Th>
                    ))}
                    <Table.Th style={{ textAlign: 'right' }}>Total due</Table.Th>
                    <Table.Th style={{ textAlign: 'right' }}>Unapplied credit</Table.Th>
                    <Table.Th style={{ textAlign: 'right' }}>Top-ups asked, unpaid</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {r.rows.map((row) => (
                    <Table.Tr key={row.customer.id}>
                      <Table.Td>{row.customer.name}</Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>{row.openInvoices}</Table.Td>
                      {BUCKETS.map((b) => (
                        <Table.Td key={b.key} style={{ textAlign: 'right' }}>
                          <Amount amount={row[b.key]} dimZero />
                        </Table.Td>
                      ))}
                      <Table.Td style={{ textAlign: 'right' }}>
                        <Amount amount={row.totalDue} strong />
                      </Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>
                        <Amount amount={row.unappliedCredit} dimZero />
                      </Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>
                        <Amount amount={row.topUpDueNotReceivable} dimZero />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
                <Table.Tfoot>
                  <Table.Tr data-testid="aging-totals" style={{ fontWeight: 700 }}>
                    <Table.Th>
                      Total ({r.totals.customers} customer{r.totals.customers === 1 ? '' : 's'}, {r.currency})
                    </Table.Th>
                    <Table.Th style={{ textAlign: 'right' }}>{r.totals.openInvoices}</Table.Th>
                    {BUCKETS.map((b) => (
                      <Table.Th key={b.key} style={{ textAlign: 'right' }}>
                        <Amount amount={r.totals[b.key]} strong />
                      </Table.Th>
                    ))}
                    <Table.Th style={{ textAlign: 'right' }}>
                      <Amount amount={r.totals.totalDue} strong testId="aging-total-due" />
                    </Table.Th>
                    <Table.Th style={{ textAlign: 'right' }}>
                      <Amount amount={r.totals.unappliedCredit} strong />
                    </Table.Th>
                    <Table.Th style={{ textAlign: 'right' }}>
                      <Amount amount={r.totals.topUpDueNotReceivable} strong />
                    </Table.Th>
                  </Table.Tr>
                </Table.Tfoot>
              </Table>
            </Table.ScrollContainer>
            <Text size="xs" c="dimmed" mt="xs">
              Days past the due date at the end of {formatDate(r.asOf)}. Unapplied credit is money received and not yet allocated; it is shown apart, not deducted.
              Unpaid Top-up invoices ask for a deposit of points: nothing is owed on them until they are paid, so they are shown apart, not in the total due.
            </Text>
          </Paper>
        </>
      )}
    </Stack>
  );
}

function TrialBalanceReport() {
  const { params, asOf, currency, set } = useReportParams();
  const byCustomer = params.get('byCustomer') === 'true';
  const query = { asOf: asOf || undefined, currency: currency || undefined, byCustomer: byCustomer ? 'true' : undefined };
  const report = useQuery({
    queryKey: [...REPORTS_KEY, 'trial-balance', query],
    queryFn: ({ signal }) => api.get<TrialBalance>('/api/v1/finance/reports/trial-balance', query, signal),
    placeholderData: keepPreviousData,
  });
  const r = report.data;
  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <ReportControls asOf={asOf} currency={currency} onChange={set}>
          <Switch label="One row per customer account" checked={byCustomer} onChange={(e) => set({ byCustomer: e.currentTarget.checked ? 'true' : '' })} mb={8} />
        </ReportControls>
        <Button component="a" href={withQuery('/api/v1/finance/reports/trial-balance', { ...query, format: 'csv' })} download variant="default" leftSection={<IconDownload size={16} />}>
          Download CSV
        </Button>
      </Group>
      {report.isError && !r ? (
        <ErrorState error={report.error} onRetry={() => void report.refetch()} title="Could not draw up the trial balance" />
      ) : !r ? (
        <LoadingState label="Drawing up the trial balance…" />
      ) : (
        <Paper withBorder radius="md" p="md">
          <Group justify="space-between" mb="xs">
            <Title order={3} size="h5">
              Trial balance ({r.currency}, end of {formatDate(r.asOf)})
            </Title>
            <Badge color={r.balanced ? 'teal' : 'red'} variant="light" data-testid="trial-balance-balanced">
              {r.balanced ? 'Debits equal credits' : 'Out of balance'}
            </Badge>
          </Group>
          {r.rows.length === 0 ? (
            <Empty title="No postings" description={`Nothing was posted in ${r.currency} up to this day.`} />
          ) : (
            <Table.ScrollContainer minWidth={700}>
              <Table aria-label="Trial balance" verticalSpacing="xs" striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Account</Table.Th>
                    <Table.Th>Kind</Table.Th>
                    <Table.Th>{r.byCustomer ? 'Customer' : 'Customer accounts'}</Table.Th>
                    <Table.Th style={{ textAlign: 'right' }}>Debit</Table.Th>
                    <Table.Th style={{ textAlign: 'right' }}>Credit</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {r.rows.map((row) => (
                    <Table.Tr key={`${row.code}:${row.customer?.id ?? ''}`}>
                      <Table.Td>
                        <Text size="sm" ff="monospace">
                          {row.code}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{row.kind.replaceAll('_', ' ')}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" c={row.customer || row.customers ? undefined : 'dimmed'}>
                          {row.customer ? row.customer.name : row.customers !== null ? `${row.customers} summed` : '—'}
                        </Text>
                      </Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>
                        <Amount amount={row.debit} dimZero />
                      </Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>
                        <Amount amount={row.credit} dimZero />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
                <Table.Tfoot>
                  <Table.Tr>
                    <Table.Th colSpan={3}>Total</Table.Th>
                    <Table.Th style={{ textAlign: 'right' }}>
                      <Amount amount={r.totals.debit} strong testId="trial-balance-debit" />
                    </Table.Th>
                    <Table.Th style={{ textAlign: 'right' }}>
                      <Amount amount={r.totals.credit} strong testId="trial-balance-credit" />
                    </Table.Th>
                  </Table.Tr>
                </Table.Tfoot>
              </Table>
            </Table.ScrollContainer>
          )}
        </Paper>
      )}
    </Stack>
  );
}
