import { Alert, Text } from '@mantine/core';
import { IconLock } from '@tabler/icons-react';
import { useSession } from '../shared/session.tsx';

/**
 * Whether the signed-in user's organisation is closed. The API then refuses top-ups, purchases and new invitations (409),
 * and auto top-up no longer runs; invoices, statements, points and activity can still be read, and invoices still due paid.
 */
export function useAccountClosed(): boolean {
  return useSession().customer?.status === 'closed';
}

/** The one notice a closed organisation's portal shows, above every page: what still works, and whom to ask. */
export function ClosedAccountNotice() {
  const session = useSession();
  if (session.customer?.status !== 'closed') return null;
  const provider = session.partner?.name ?? 'your provider';
  return (
    <Alert color="gray" variant="light" icon={<IconLock size={18} />} title="This account is closed" mb="lg" data-testid="account-closed" role="status">
      <Text size="sm">
        {session.customer.name} is closed. You can still read your invoices, statements, points and activity, and pay invoices that are still due.
        Points can no longer be topped up (automatically or by card), subscriptions can no longer be bought (those you have run to the end of
        the period paid, then expire), and no one new can be invited.
      </Text>
      <Text size="sm" mt={6}>
        To reopen the account or ask about it, contact {provider}
        {session.contactSalesEmail ? (
          <>
            {' '}at <a href={`mailto:${session.contactSalesEmail}`}>{session.contactSalesEmail}</a>
          </>
        ) : null}
        .
      </Text>
    </Alert>
  );
}
