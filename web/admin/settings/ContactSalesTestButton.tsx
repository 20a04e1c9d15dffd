import { useMutation } from '@tanstack/react-query';
import { Alert, Button, Group, Text } from '@mantine/core';
import { IconMailForward } from '@tabler/icons-react';
import { api } from '../../shared/api.ts';
import { FormError } from '../../shared/forms.tsx';

interface Sent {
  notificationId: string;
  toEmail: string;
  status: 'queued';
}

/** "Send test email": a test message to the saved contact-sales address, through the outbox (at most 5 an hour). */
export function ContactSalesTestButton({ saved, unsaved }: { saved: string | null; unsaved: boolean }) {
  const send = useMutation({ mutationFn: () => api.post<Sent>('/api/v1/settings/portal/contact-sales-test', {}) });
  return (
    <Group mt="md" gap="sm" align="center">
      <Button
        variant="light"
        leftSection={<IconMailForward size={16} />}
        disabled={!saved || unsaved}
        loading={send.isPending}
        onClick={() => send.mutate()}
      >
        Send test email
      </Button>
      {!saved ? <Text size="sm" c="dimmed">Save an address first.</Text> : unsaved ? <Text size="sm" c="dimmed">Save your changes first: the test goes to the saved address.</Text> : null}
      {send.data ? (
        <Alert color="teal" variant="light" role="status" py={6}>
          A test email to {send.data.toEmail} is on its way (notification {send.data.notificationId}).
        </Alert>
      ) : null}
      {send.error ? <FormError error={send.error} /> : null}
    </Group>
  );
}
