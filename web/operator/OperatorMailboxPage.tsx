import { useState } from 'react';
import { Paper, Select, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconSearch } from '@tabler/icons-react';
import { MessageCard, StatusHistory } from '../shared/MessageCard.tsx';
import { usePagedList } from '../shared/queries.ts';
import { Empty, ErrorState, LoadMore, LoadingState, PageHeader } from '../shared/ui.tsx';
import type { NotificationItem } from '../shared/types.ts';
import { usePartners } from './PartnersPage.tsx';

export function OperatorMailboxPage() {
  const [to, setTo] = useState('');
  const [partnerId, setPartnerId] = useState<string | null>(null);
  const [debounced] = useDebouncedValue(to.trim(), 300);
  const partners = usePartners();
  const mail = usePagedList<NotificationItem>(['operator', 'mailbox'], '/api/v1/operator/mailbox', { to: debounced, partnerId }, { refetchInterval: 10_000 });
  const partnerName = new Map((partners.rows ?? []).map((p) => [p.id, p.name]));

  return (
    <Stack maw={1000}>
      <PageHeader title="Mailbox" description="Every email the platform sent, for every partner, with its delivery history." />
      <Paper withBorder radius="md" p="md" component="section" aria-label="Filters">
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="To" placeholder="someone@example.test" leftSection={<IconSearch size={16} />} value={to} onChange={(e) => setTo(e.currentTarget.value)} />
          <Select
            label="Partner"
            placeholder="All partners"
            data={(partners.rows ?? []).map((p) => ({ value: p.id, label: p.name }))}
            value={partnerId}
            onChange={setPartnerId}
            clearable
          />
        </SimpleGrid>
      </Paper>
      {mail.isError && !mail.rows ? (
        <ErrorState error={mail.error} onRetry={() => void mail.refetch()} title="Could not load the mailbox" />
      ) : mail.isPending ? (
        <LoadingState label="Loading messages…" />
      ) : !mail.rows || mail.rows.length === 0 ? (
        <Empty title="No messages" description="Nothing matches these filters." />
      ) : (
        <Stack gap="sm" aria-label="Messages">
          {mail.rows.map((m) => (
            <MessageCard
              key={m.id}
              subject={m.subject}
              toEmail={m.toEmail}
              kind={m.kind}
              status={m.status}
              createdAt={m.createdAt}
              bodyText={m.bodyText}
              extra={
                <>
                  <Text size="xs" c="dimmed">
                    {m.partnerId !== undefined ? `${m.partnerId ? (partnerName.get(m.partnerId) ?? m.partnerId) : 'Platform'} · ` : ''}
                    {m.customerId ? `Customer ${m.customerId} · ` : ''}
                    {m.attempts} attempt{m.attempts === 1 ? '' : 's'}
                    {m.transport ? ` · via ${m.transport}` : ''}
                    {m.lastError ? ` · last error: ${m.lastError}` : ''}
                  </Text>
                  <StatusHistory history={m.history} />
                </>
              }
            />
          ))}
          <LoadMore hasNextPage={mail.hasNextPage} isFetchingNextPage={mail.isFetchingNextPage} onLoadMore={() => void mail.fetchNextPage()} />
        </Stack>
      )}
    </Stack>
  );
}
