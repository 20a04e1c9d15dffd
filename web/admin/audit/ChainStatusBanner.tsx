import { useMutation, useQuery } from '@tanstack/react-query';
import { Alert, Anchor, Button, Group, Loader, Text } from '@mantine/core';
import { IconAlertTriangle, IconShieldCheck, IconShieldQuestion } from '@tabler/icons-react';
import { api, errorMessage } from '../../shared/api.ts';
import { formatDateTime, formatRelative } from '../../shared/format.ts';
import type { AuditVerification } from '../../shared/types.ts';
import type { ChainStatus } from './types.ts';

const KIND: Record<string, string> = { altered: 'was altered', missing: 'is missing', out_of_order: 'is out of order' };

/**
 * The hash chain's state from the worker's scheduled verification: "verified up to event N at T" with when the whole
 * chain was last verified from its start (the worker's daily full pass; new events are checked every 10 minutes), or a
 * red alert naming the first broken event (with a link that opens it). "Verify now" runs the full check on demand.
 */
export function ChainStatusBanner({ onOpenEvent }: { onOpenEvent: (eventId: string) => void }) {
  const status = useQuery({
    queryKey: ['audit-events', 'chain-status'],
    queryFn: ({ signal }) => api.get<ChainStatus>('/api/v1/audit-events/chain-status', {}, signal),
    refetchInterval: 60_000,
    retry: 1,
  });
  const verify = useMutation({ mutationFn: () => api.get<AuditVerification>('/api/v1/audit-events/verify') });
  const verifyNow = (
    <Button size="compact-xs" variant="default" loading={verify.isPending} onClick={() => verify.mutate()}>
      Verify now
    </Button>
  );
  const onDemand = verify.data ? (
    <Text size="xs" c={verify.data.ok ? 'teal.8' : 'red.8'} data-testid="verify-now-result">
      {verify.data.ok
        ? `Full check just now: ${verify.data.checked.toLocaleString()} events intact.`
        : `Full check just now: broken at #${String(verify.data.firstProblem?.seq ?? '?')} (${(verify.data.firstProblem?.kind ?? 'problem').replaceAll('_', ' ')}).`}
    </Text>
  ) : verify.error ? (
    <Text size="xs" c="red">
      {errorMessage(verify.error)}
    </Text>
  ) : null;

  if (status.isPending)
    return (
      <Alert color="gray" variant="light" icon={<Loader size={16} />} title="Checking the audit chain…">
        {' '}
      </Alert>
    );
  if (status.isError)
    return (
      <Alert color="gray" variant="light" icon={<IconShieldQuestion size={18} />} title="Chain status unavailable">
        <Group gap="sm">
          <Text size="sm">The scheduled verification's result could not be read ({errorMessage(status.error)}).</Text>
          {verifyNow}
        </Group>
        {onDemand}
      </Alert>
    );
  const s = status.data;
  const cut = s.cuts.at(-1);
  const cutLine = cut ? (
    <Text size="xs" c="dimmed">
      Events before #{cut.beforeSeq.toLocaleString()} ({cut.removedCount.toLocaleString()}) were removed on {formatDateTime(cut.cutAt)} by {cut.cutBy} after the
      {` ${s.retentionYears}-year`} retention period; verification starts from that cut.
    </Text>
  ) : (
    <Text size="xs" c="dimmed">
      Events are kept for {s.retentionYears} years.
    </Text>
  );

  if (s.status === 'broken' && s.problem) {
    const p = s.problem;
    return (
      <Alert color="red" variant="filled" role="alert" icon={<IconAlertTriangle size={20} />} title={`Audit chain broken at event #${p.seq.toLocaleString()}`}>
        <Text size="sm">
          Event #{p.seq.toLocaleString()}
          {p.eventId ? ` (${p.eventId})` : ''} {KIND[p.kind] ?? p.kind}: {p.detail}
          {p.detectedAt ? ` Detected ${formatDateTime(p.detectedAt)}.` : ''}
          {s.verifiedUpTo ? ` Events up to #${s.verifiedUpTo.seq.toLocaleString()} are verified.` : ''}
        </Text>
        <Group gap="sm" mt="xs">
          {p.eventId ? (
            <Anchor component="button" type="button" c="white" fw={600} underline="always" onClick={() => onOpenEvent(p.eventId!)}>
              Open event #{p.seq.toLocaleString()}
            </Anchor>
          ) : null}
          {verifyNow}
        </Group>
        {onDemand}
      </Alert>
    );
  }
  if (s.status === 'verified' && s.verifiedUpTo) {
    const pending = s.headSeq - s.verifiedUpTo.seq;
    return (
      <Alert color="teal" variant="light" role="status" icon={<IconShieldCheck size={20} />} title={`Verified up to event #${s.verifiedUpTo.seq.toLocaleString()}${s.verifiedUpTo.occurredAt ? ` at ${formatDateTime(s.verifiedUpTo.occurredAt)}` : ''}`}>
        <Group gap="sm" justify="space-between">
          <Text size="sm">
            No event was altered, removed or reordered. Last checked {formatRelative(s.checkedAt)}
            {pending > 0 ? `; ${pending.toLocaleString()} newer event${pending === 1 ? '' : 's'} will be checked on the next run.` : '.'}
          </Text>
          {verifyNow}
        </Group>
        <Text size="xs" c="dimmed" data-testid="chain-full-pass">
          {s.fullyVerifiedAt
            ? `Whole chain last verified from its ${cut ? 'retention cut' : 'start'} ${formatDateTime(s.fullyVerifiedAt)} (${formatRelative(s.fullyVerifiedAt)}); new events are checked every 10 minutes, the whole chain once a day.`
            : 'The daily check of the whole chain from its start has not run yet; new events are checked every 10 minutes.'}
        </Text>
        {cutLine}
        {onDemand}
      </Alert>
    );
  }
  return (
    <Alert color="gray" variant="light" role="status" icon={<IconShieldQuestion size={20} />} title="Not verified yet">
      <Group gap="sm" justify="space-between">
        <Text size="sm">The worker verifies the chain every few minutes; the first check has not run yet.</Text>
        {verifyNow}
      </Group>
      {cutLine}
      {onDemand}
    </Alert>
  );
}
