import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Anchor, Badge, Button, Group, Paper, SimpleGrid, Stack, Text, TextInput, Timeline, Title } from '@mantine/core';
import { IconArrowLeft, IconCirclePlus, IconEdit, IconPlayerStop } from '@tabler/icons-react';
import { api, isApiError } from '../../shared/api.ts';
import { ConfirmButton } from '../../shared/ConfirmButton.tsx';
import { fieldError, FormError } from '../../shared/forms.tsx';
import { formatDate, formatDateTime } from '../../shared/format.ts';
import { formatMoney } from '../../shared/money.ts';
import { humanField, summaryValue } from '../../shared/AuditTable.tsx';
import { usePagedList } from '../../shared/queries.ts';
import { Empty, ErrorState, LoadingState, LoadMore } from '../../shared/ui.tsx';
import { DiscountStatusBadge } from './DiscountStatusBadge.tsx';
import { PrecedenceHelp } from './PrecedenceHelp.tsx';
import { DISCOUNTS_KEY, periodOf, rateOf, type DiscountView, type HistoryItem } from './discount-types.ts';

const ACTION_LABEL: Record<HistoryItem['action'], string> = { 'discount.created': 'Created', 'discount.changed': 'Changed', 'discount.ended': 'Ended' };
/** A day field's value as the rest of the page writes a day; no last day is "unlimited", as the form says. */
function historyValue(field: string, v: unknown): string {
  if (field === 'endsOn' && (v === null || v === undefined)) return 'unlimited';
  if ((field === 'startsOn' || field === 'endsOn') && typeof v === 'string') return formatDate(v);
  return summaryValue(v);
}

/**
 * One change of a discount's history in words: `Starts on: 7 Dec 2026`, `Ends on: unlimited → 31 Dec 2026`, where the
 * API's field names and values were shown as they came (`startsOn: 2026-12-07`, `endsOn: null`).
 */
export function historyLine(field: string, c: { before?: unknown; after?: unknown }): string {
  return `${humanField(field)}: ${'before' in c ? `${historyValue(field, c.before)} → ` : ''}${historyValue(field, c.after)}`;
}

/** One discount: what it is, its history from the audit trail (newest first, more on demand), and its actions (rename, move the end, end now). */
export function DiscountDetailPage() {
  const { id = '' } = useParams();
  const queryClient = useQueryClient();
  const key = [...DISCOUNTS_KEY, id];
  const discount = useQuery({ queryKey: key, queryFn: ({ signal }) => api.get<DiscountView>(`/api/v1/discounts/${encodeURIComponent(id)}`, undefined, signal) });
  const history = usePagedList<HistoryItem>([...key, 'history'], `/api/v1/discounts/${encodeURIComponent(id)}/history`);
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: DISCOUNTS_KEY });
  };
  const back = (
    <Anchor component={Link} to="/admin/discount" size="sm">
      <Group gap={4}><IconArrowLeft size={14} /> All discounts</Group>
    </Anchor>
  );
  if (discount.isError) {
    return (
      <Stack>
        {back}
        {isApiError(discount.error) && discount.error.status === 404
          ? <Empty title="Discount not found" description="It may belong to another partner." />
          : <ErrorState error={discount.error} onRetry={() => void discount.refetch()} />}
      </Stack>
    );
  }
  if (!discount.data) return <LoadingState label="Loading discount…" />;
  const d = discount.data;

  return (
    <Stack maw={1000} gap="lg">
      {back}
      <Group justify="space-between" align="flex-start">
        <div>
          <Title order={2}>{d.name}</Title>
          <Text size="sm" c="dimmed">{d.id}</Text>
        </div>
        <Group gap="xs">
          <DiscountStatusBadge status={d.status} />
          {d.status !== 'ended' ? (
            <ConfirmButton
              label="End discount"
              color="red"
              buttonProps={{ variant: 'light', color: 'red', leftSection: <IconPlayerStop size={16} /> }}
              title="End this discount?"
              message={d.status === 'scheduled'
                ? 'It has not started: it is withdrawn and never applies.'
                : 'It stops applying today: its last day becomes yesterday. Invoices already issued keep their discount.'}
              confirmLabel="End discount"
              onConfirm={async () => {
                await api.post(`/api/v1/discounts/${encodeURIComponent(d.id)}/end`);
                await refresh();
              }}
            />
          ) : null}
        </Group>
      </Group>
      <Paper withBorder radius="md" p="md" component="section" aria-label="Discount details">
        <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="md">
          <Detail label="For" value={d.customer ? <Anchor component={Link} to={`/admin/customer/${d.customer.id}`}>{d.customer.name}</Anchor> : 'Every customer'} />
          <Detail label="Scope" value={d.scopeLabel} />
          <Detail label="Discount" value={<span data-testid="discount-rate">{rateOf(d)}{d.price ? ` (price ${formatMoney(d.price.price, d.price.currency)})` : ''}</span>} />
          <Detail label="Period" value={periodOf(d)} />
          <Detail label="Precedence" value={<Badge variant="light" radius="sm" title="0-7: higher wins">{d.specificity} of 7</Badge>} />
          <Detail label="Created" value={formatDateTime(d.createdAt)} />
        </SimpleGrid>
      </Paper>
      {d.status !== 'ended' ? <EditDiscount discount={d} onSaved={refresh} /> : null}
      <Paper withBorder radius="md" p="md" component="section" aria-label="History">
        <Title order={3} size="h4" mb="sm">History</Title>
        {history.isError ? <ErrorState error={history.error} onRetry={() => void history.refetch()} /> : null}
        {history.rows ? (
          <Timeline bulletSize={22} lineWidth={2}>
            {history.rows.map((h) => (
              <Timeline.Item
                key={h.id}
                bullet={h.action === 'discount.created' ? <IconCirclePlus size={12} /> : h.action === 'discount.ended' ? <IconPlayerStop size={12} /> : <IconEdit size={12} />}
                title={`${ACTION_LABEL[h.action]} · ${formatDateTime(h.at)}${h.actor ? ` · ${h.actor}` : ''}`}
              >
                {Object.entries(h.changes).map(([field, c]) => (
                  <Text key={field} size="xs" c="dimmed">
                    {historyLine(field, c)}
                  </Text>
                ))}
              </Timeline.Item>
            ))}
          </Timeline>
        ) : null}
        <LoadMore hasNextPage={history.hasNextPage} isFetchingNextPage={history.isFetchingNextPage} onLoadMore={() => void history.fetchNextPage()} />
      </Paper>
      <PrecedenceHelp compact />
    </Stack>
  );
}

function Detail({ label, value }: { label: string; value: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>{label}</Text>
      <Text size="sm" component="div">{value}</Text>
    </div>
  );
}

/** Rename, or move the end. The rate of a started discount does not change: end it and create a new one. */
function EditDiscount({ discount, onSaved }: { discount: DiscountView; onSaved: () => Promise<void> }) {
  const [name, setName] = useState(discount.name);
  const [endsOn, setEndsOn] = useState(discount.endsOn ?? '');
  const save = useMutation({
    mutationFn: () => api.patch<DiscountView>(`/api/v1/discounts/${encodeURIComponent(discount.id)}`, { name: name.trim(), endsOn: endsOn || null }),
    onSuccess: onSaved,
  });
  return (
    <Paper withBorder radius="md" p="md" component="form" aria-label="Change discount" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <Stack gap="sm">
        <Group align="flex-end">
          <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} w={320} error={fieldError(save.error, 'name')} />
          <TextInput label="Ends on (last day)" type="date" value={endsOn} onChange={(e) => setEndsOn(e.currentTarget.value)} w={190}
            description="Empty: unlimited" error={fieldError(save.error, 'endsOn')} />
          <Button type="submit" variant="default" loading={save.isPending}>Save changes</Button>
        </Group>
        <Text size="xs" c="dimmed">
          {discount.status === 'active'
            ? 'This discount has started: its rate and start stay as they are. To change the rate, end it and create a new one.'
            : 'Scheduled: it has not started yet.'}
        </Text>
        <FormError error={save.error} fields={['name', 'endsOn']} />
      </Stack>
    </Paper>
  );
}
