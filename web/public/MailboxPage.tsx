import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Alert, Box, Container, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconMailOff, IconSearch } from '@tabler/icons-react';
import { api, isApiError } from '../shared/api.ts';
import { MessageCard } from '../shared/MessageCard.tsx';
import { Brand, Empty, ErrorState, LoadingState } from '../shared/ui.tsx';
import type { DevMail } from '../shared/types.ts';

/** The local dev mailbox: every email the server "sent", newest first (only when the server runs without real email). */
export function MailboxPage() {
  const [params, setParams] = useSearchParams();
  const [to, setTo] = useState(params.get('to') ?? '');
  const [debounced] = useDebouncedValue(to.trim(), 300);
  useEffect(() => {
    setParams(debounced ? { to: debounced } : {}, { replace: true });
  }, [debounced, setParams]);
  const mail = useQuery({
    queryKey: ['dev-mailbox', debounced],
    queryFn: ({ signal }) => api.get<{ data: DevMail[] }>('/api/v1/dev/mailbox', { to: debounced }, signal),
    refetchInterval: (q) => (q.state.error ? false : 3000),
    retry: (count, e) => !(isApiError(e) && e.status < 500) && count < 2,
  });
  const off = isApiError(mail.error) && mail.error.status === 404;

  return (
    <Box mih="100vh" bg="var(--mantine-color-gray-0)">
      <Container size="md" py="xl" component="main">
        <Group justify="space-between" mb="lg">
          <Brand suffix="Dev mailbox" />
        </Group>
        <Title order={1} size="h2" mb={4}>
          Dev mailbox
        </Title>
        <Text c="dimmed" size="sm" mb="lg">
          Emails the local server would have sent: sign-in codes, invitations, reset and verification links. Refreshes every few seconds.
        </Text>
        <TextInput
          label="To"
          placeholder="someone@example.test"
          leftSection={<IconSearch size={16} />}
          value={to}
          onChange={(e) => setTo(e.currentTarget.value)}
          description="Show only messages sent to this address"
          mb="lg"
          maw={420}
        />
        {off ? (
          <Alert color="gray" variant="light" icon={<IconMailOff size={18} />} title="The dev mailbox is off" role="alert">
            This server sends real email (or runs against an external database), so there is no local mailbox to show. Check the recipient's inbox instead.
          </Alert>
        ) : mail.isError && !mail.data ? (
          isApiError(mail.error) && mail.error.status === 400 && !debounced ? (
            <Alert color="blue" variant="light" role="status">
              Enter an email address to see its messages.
            </Alert>
          ) : (
            <ErrorState error={mail.error} onRetry={() => void mail.refetch()} title="Could not load the mailbox" />
          )
        ) : mail.isPending ? (
          <LoadingState label="Loading messages…" />
        ) : mail.data.data.length === 0 ? (
          <Empty title="No messages" description={debounced ? `Nothing has been sent to ${debounced} yet.` : 'Nothing has been sent yet.'} />
        ) : (
          <Stack gap="sm" aria-label="Messages">
            {mail.data.data.map((m) => (
              <MessageCard key={m.id} subject={m.subject} toEmail={m.toEmail} replyTo={m.replyTo} kind={m.kind} status={m.status} createdAt={m.createdAt} bodyText={m.bodyText} />
            ))}
          </Stack>
        )}
      </Container>
    </Box>
  );
}
