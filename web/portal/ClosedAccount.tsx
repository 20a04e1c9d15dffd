import { Alert, Text } from '@mantine/core';
import { IconLock, IconPlayerPause } from '@tabler/icons-react';
import { useSession } from '../shared/session.tsx';

/**
 * Whether the signed-in user's organisation is closed. The API then refuses top-ups, purchases, new invitations and
 * changes to the low balance alert and to auto top-up but turning it off (409), and auto top-up and low balance alerts
 * no longer run; invoices, statements, points and activity can still be read, and invoices still due paid.
 */
export function useAccountClosed(): boolean {
  return useSession().customer?.status === 'closed';
}

/**
 * Whether the organisation may buy subscriptions: not when closed, nor when suspended by its provider (the API answers
 * 409 to either: nothing is sold to a customer that is not active).
 */
export function useAccountCanBuy(): boolean {
  return useSession().customer?.status === 'active';
}

/**
 * The one notice a closed or suspended organisation's portal shows, above every page: what still works, and whom to ask.
 * Suspended: calls and purchases are paused by the provider; top-ups, payments and invitations still work.
 */
export function ClosedAccountNotice() {
  const session = useSession();
  const status = session.customer?.status;
  if (status !== 'closed' && status !== 'suspended') return null;
  const provider = session.partner?.name ?? 'your provider';
  const contact = (
    <>
      contact {provider}
      {session.contactSalesEmail ? (
        <>
          {' '}at <a href={`mailto:${session.contactSalesEmail}`}>{session.contactSalesEmail}</a>
        </>
      ) : null}
      .
    </>
  );
  if (status === 'suspended') {
    return (
      <Alert color="yellow" variant="light" icon={<IconPlayerPause size={18} />} title="This account is suspended" mb="lg" data-testid="account-suspended" role="status">
        <Text size="sm">
          {session.customer!.name} is suspended by {provider}: calls are refused and no subscription can be bought until it is active again.
          You can still top up points, pay invoices, invite members, and read your invoices, statements, points and activity.
        </Text>
        <Text size="sm" mt={6}>To ask about it, {contact}</Text>
      </Alert>
    );
  }
  return (
    <Alert color="gray" variant="light" icon={<IconLock size={18} />} title="This account is closed" mb="lg" data-testid="account-closed" role="status">
      <Text size="sm">
        {session.customer!.name} is closed. You can still read your invoices, statements, points and activity, and pay invoices that are still due.
        Points can no longer be topped up (automatically or by card), subscriptions can no longer be bought (those you have run to the end of
        the period paid, then expire), and no one new can be invited.
      </Text>
      <Text size="sm" mt={6}>To reopen the account or ask about it, {contact}</Text>
    </Alert>
  );
}
