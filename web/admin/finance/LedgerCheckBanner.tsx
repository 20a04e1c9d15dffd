import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Group, List, Stack, Text } from '@mantine/core';
import { IconAlertTriangle, IconShieldCheck, IconShieldQuestion } from '@tabler/icons-react';
import { api, errorMessage } from '../../shared/api.ts';
import { formatDateTime } from '../../shared/format.ts';
import type { LedgerCheck } from './finance-types.ts';

/** "03:20 UTC" from the check's cron line ("20 3 * * *"). */
function nightlyAt(schedule: string): string {
  const [minute, hour] = schedule.split(' ');
  return `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')} UTC`;
}

/**
 * The nightly proof of the books (the worker's ledger check): "sound as of T", or a red alert listing what was found.
 * Read-only: a correction is a reversing entry, made where the money moved.
 */
export function LedgerCheckBanner() {
  const queryClient = useQueryClient();
  const check = useQuery({
    queryKey: ['finance', 'ledger-check'],
    queryFn: ({ signal }) => api.get<LedgerCheck>('/api/v1/finance/ledger-check', {}, signal),
    refetchInterval: 300_000,
    retry: 1,
  });
  // The same check now (POST): at most once a minute per partner; the answer replaces the result shown.
  const runNow = useMutation({
    mutationFn: () => api.post<LedgerCheck>('/api/v1/finance/ledger-check'),
    onSuccess: (result) => queryClient.setQueryData(['finance', 'ledger-check'], result),
  });
  if (check.isPending) return null;
  return (
    <Stack gap={6}>
      <LedgerCheckResult check={check} />
      <Group justify="flex-end" gap="sm">
        {runNow.isError ? (
          <Text size="sm" c="red" role="alert">
            {errorMessage(runNow.error)}
          </Text>
        ) : null}
        <Button size="xs" variant="light" loading={runNow.isPending} onClick={() => runNow.mutate()}>
          Check the books now
        </Button>
      </Group>
    </Stack>
  );
}

function LedgerCheckResult({ check }: { check: ReturnType<typeof useQuery<LedgerCheck>> }) {
  if (check.isPending) return null;
  if (check.isError)
    return (
      <Alert color="gray" variant="light" icon={<IconShieldQuestion size={18} />} title="Ledger check unavailable" data-testid="ledger-check">
        The nightly check's result could not be read ({errorMessage(check.error)}).
      </Alert>
    );
  const c = check.data;
  if (c.status === 'not_checked_yet')
    return (
      <Alert color="gray" variant="light" icon={<IconShieldQuestion size={18} />} title="Books not checked yet" data-testid="ledger-check">
        The ledger is proven every night at {nightlyAt(c.schedule)}: every entry balances, every balance equals its postings, points and
        receivables match what they should.
      </Alert>
    );
  const staleLine = c.stale ? (
    <Text size="sm" fw={600} mt={4} data-testid="ledger-check-stale">
      This result is out of date: the nightly check has not run since{c.checkedAt ? ` ${formatDateTime(c.checkedAt)}` : ''}. Ask your platform
      operator to look at the worker.
    </Text>
  ) : null;
  if (c.status === 'sound' && c.stale)
    return (
      <Alert color="yellow" variant="light" icon={<IconShieldQuestion size={18} />} title="Books last found sound over a day ago" data-testid="ledger-check">
        Every ledger invariant held at the last check.
        {staleLine}
      </Alert>
    );
  if (c.status === 'sound')
    return (
      <Alert color="teal" variant="light" icon={<IconShieldCheck size={18} />} title="Books sound" data-testid="ledger-check">
        Checked {c.checkedAt ? formatDateTime(c.checkedAt) : ''}: every entry balances, every balance equals its postings, every ledger invariant
        holds. Next check at {nightlyAt(c.schedule)}.
      </Alert>
    );
  return (
    <Alert color="red" variant="filled" role="alert" icon={<IconAlertTriangle size={20} />} data-testid="ledger-check"
      title={`Ledger check: ${c.problemCount.toLocaleString()} problem${c.problemCount === 1 ? '' : 's'} in your books`}>
      <Text size="sm">
        Found by the check of {c.checkedAt ? formatDateTime(c.checkedAt) : '?'}
        {c.detectedAt && c.detectedAt !== c.checkedAt ? `, first seen ${formatDateTime(c.detectedAt)}` : ''}
        {c.alertedAt ? `; the Finance app's holders were emailed ${formatDateTime(c.alertedAt)}` : ''}. Nothing was changed; a correction is a
        reversing entry.
      </Text>
      {staleLine}
      <List size="sm" mt="xs" spacing={2}>
        {c.problems.map((p) => (
          <List.Item key={`${p.invariant} ${p.subject} ${p.detail}`}>
            <Text span size="sm" fw={600}>
              {p.invariant.replaceAll('_', ' ')}
            </Text>
            : {p.detail}
          </List.Item>
        ))}
      </List>
      {c.problemCount > c.problems.length ? (
        <Text size="xs" mt="xs">
          and {(c.problemCount - c.problems.length).toLocaleString()} more, not listed here.
        </Text>
      ) : null}
    </Alert>
  );
}
