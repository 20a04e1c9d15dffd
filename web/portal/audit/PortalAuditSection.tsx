import { useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Alert, Badge, Box, Button, Group, Select, SimpleGrid, Stack, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { IconDownload } from '@tabler/icons-react';
import { api, isApiError, withQuery, type QueryValue } from '../../shared/api.ts';
import { ChangesDiff, ChangesSummary } from '../../shared/AuditTable.tsx';
import { formatDate, formatDateTime, formatTime } from '../../shared/format.ts';
import { usePagedList } from '../../shared/queries.ts';
import { useSession } from '../../shared/session.tsx';
import { DataTable, LoadMore } from '../../shared/ui.tsx';
import type { CustomerRole, PortalMember } from '../../shared/types.ts';
import { subscriptionLabel, usePortalSubscriptions } from '../services/queries.ts';

/** The portal's view of an audit event (GET /api/v1/portal/audit-events). */
export interface PortalAuditEvent {
  id: string;
  occurredAt: string;
  type: PortalAuditType;
  actor: { type: 'member' | 'provider' | 'system'; id: string | null; label: string };
  app: string;
  action: string;
  target: { type: string; id: string | null; label: string | null };
  changes: Record<string, { before?: unknown; after?: unknown }>;
}

export type PortalAuditType = 'sign_in' | 'members' | 'account' | 'subscriptions' | 'virtual_lines' | 'wallboards' | 'top_ups' | 'invoice_payments';

export const PORTAL_AUDIT_TYPES: { value: PortalAuditType; label: string; color: string }[] = [
  { value: 'sign_in', label: 'Sign-ins and security', color: 'gray' },
  { value: 'members', label: 'Members and roles', color: 'violet' },
  { value: 'account', label: 'Organisation', color: 'indigo' },
  { value: 'subscriptions', label: 'Subscriptions', color: 'blue' },
  { value: 'virtual_lines', label: 'Virtual lines', color: 'cyan' },
  { value: 'wallboards', label: 'Wallboards', color: 'teal' },
  { value: 'top_ups', label: 'Top-ups and points', color: 'yellow' },
  { value: 'invoice_payments', label: 'Invoice payments', color: 'green' },
];

const ACTION_LABELS: Record<string, string> = {
  'auth.signed_in': 'Signed in',
  'auth.signed_out': 'Signed out',
  'auth.other_sessions_revoked': 'Signed out of other devices',
  'auth.two_factor_code_sent': 'Sign-in code sent',
  'auth.sign_in_failed': 'Sign-in refused',
  'auth.two_factor_failed': 'Wrong sign-in code',
  'auth.password_reset_requested': 'Password reset requested',
  'auth.verification_sent': 'Verification email sent',
  'user.password_reset': 'Password changed',
  'user.password_changed': 'Password changed in Profile',
  'user.email_verified': 'Email verified',
  'user.profile_updated': 'Profile updated',
  'user.created': 'Person added',
  'member.invited': 'Member invited',
  'invitation.accepted': 'Invitation accepted',
  'member.role_changed': 'Role changed',
  'member.removed': 'Member removed',
  'user.sign_in_released': "Removed member's sign-in released",
  'ownership.transferred': 'Ownership transferred',
  'customer.created': 'Account opened',
  'customer.updated': 'Organisation details changed',
  'contact_sales.message_sent': 'Message sent to sales',
  'subscription.purchased': 'Subscription bought',
  'subscription.activated': 'Subscription activated',
  'subscription.updated': 'Subscription settings changed',
  'subscription.renewed': 'Subscription renewed',
  'subscription.renewal_failed': 'Renewal failed',
  'subscription.renewal_recovered': 'Renewal retried',
  'subscription.reactivated': 'Subscription reactivated',
  'subscription.expired': 'Subscription expired',
  'subscription.terminated': 'Subscription terminated',
  'subscription.add_on_added': 'Add-on added',
  'subscription.add_on_changed': 'Add-on changed',
  'virtual_line.created': 'Virtual line created',
  'virtual_line.updated': 'Virtual line changed',
  'virtual_line.removed': 'Virtual line removed',
  'wallboard.created': 'Wallboard created',
  'wallboard.updated': 'Wallboard changed',
  'wallboard.removed': 'Wallboard removed',
  'top_up.pending': 'Top-up pending',
  'top_up.succeeded': 'Top-up succeeded',
  'top_up.failed': 'Top-up failed',
  'auto_top_up.updated': 'Auto top-up changed',
  'points.low_balance_alert_changed': 'Low balance alert changed',
  'saved_card.removed': 'Saved card removed',
  'points.issued': 'Points added by your provider',
  'points.taken_back': 'Points taken back by your provider',
  'invoice.payment_pending': 'Invoice payment pending',
  'invoice.payment_recorded': 'Invoice paid',
  'invoice.payment_failed': 'Invoice payment failed',
  'payment.recorded': 'Payment received',
  'payment.assigned': 'Payment received',
  'payment.allocated': 'Payment applied to invoices',
  'payment.reversed': 'Payment reversed',
};

export function portalActionLabel(action: string): string {
  const known = ACTION_LABELS[action];
  if (known) return known;
  const words = action.replaceAll(/[._]/g, ' ');
  return words.replace(/^\w/, (c) => c.toUpperCase());
}

const TARGET_LABELS: Record<string, string> = {
  session: 'Session', user: 'Person', customer: 'Organisation', subscription: 'Subscription', virtual_line: 'Virtual line',
  wallboard: 'Wallboard', top_up: 'Top-up', saved_card: 'Saved card', invoice: 'Invoice', payment: 'Payment',
};

function textOf(change: { before?: unknown; after?: unknown } | undefined): string | null {
  const v = change?.after ?? change?.before;
  return typeof v === 'string' || typeof v === 'number' ? String(v) : null;
}

/**
 * What the event is about, in words: a person's name, the line's number, the invoice's number; never a raw id. A
 * subscription is named by its product (from the organisation's subscriptions, or the event's own product), never by the
 * invoice an event mentions (an activation names the invoice that paid for it).
 */
export function portalTargetLabel(e: PortalAuditEvent, subscriptionNames?: ReadonlyMap<string, string>): string {
  const kind = TARGET_LABELS[e.target.type] ?? e.target.type.replaceAll('_', ' ');
  if (e.target.label) return e.target.label;
  if (e.target.type === 'subscription') {
    const product = (e.target.id ? subscriptionNames?.get(e.target.id) : undefined) ?? textOf(e.changes.product) ?? textOf(e.changes.name);
    return product ? `${kind} ${product}` : kind;
  }
  const named = textOf(e.changes.invoiceNumber) ?? textOf(e.changes.number) ?? textOf(e.changes.name) ?? textOf(e.changes.product) ?? textOf(e.changes.card);
  return named ? `${kind} ${named}` : kind;
}

const ROLE_LABELS: Record<CustomerRole, string> = { owner: 'Owner', admin: 'Admin', member: 'Member', guest: 'Guest' };

/** Who acted, in a word: the person's role in the organisation when known (the API names the person, not the role). */
function actorKind(e: PortalAuditEvent, roles: ReadonlyMap<string, CustomerRole>): string {
  if (e.actor.type === 'provider') return 'Your provider';
  if (e.actor.type === 'system') return 'Automatic';
  const role = e.actor.id ? roles.get(e.actor.id) : undefined;
  return role ? ROLE_LABELS[role] : 'Portal user';
}

function typeOf(type: PortalAuditType) {
  return PORTAL_AUDIT_TYPES.find((t) => t.value === type);
}

/** Home > Audit: the organisation's own activity with filters (type, person, dates) and a CSV download of the filter. */
export function PortalAuditSection() {
  const session = useSession();
  const role = session.customer?.role ?? 'member';
  const seesAll = role === 'owner' || role === 'admin';
  const [type, setType] = useState<string | null>(null);
  const [personId, setPersonId] = useState<string | null>(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (id: string) =>
    setOpen((o) => {
      const next = new Set(o);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const datesWrong = from !== '' && to !== '' && to < from;
  const filters: Record<string, QueryValue> = { type, personId: seesAll ? personId : null, from, to: datesWrong ? null : to };
  const events = usePagedList<PortalAuditEvent>(['portal', 'audit-events'], '/api/v1/portal/audit-events', filters);
  const members = useQuery({
    queryKey: ['portal', 'members'],
    queryFn: ({ signal }) => api.get<{ data: PortalMember[] }>('/api/v1/portal/members', {}, signal),
    enabled: seesAll,
  });
  const active = type !== null || personId !== null || from !== '' || to !== '';
  // The roles of the people who acted (the members list; a member sees only their own events) and the subscriptions' names.
  const roles = useMemo(() => {
    const m = new Map<string, CustomerRole>((members.data?.data ?? []).map((x) => [x.id, x.role]));
    if (session.customer) m.set(session.user.id, session.customer.role);
    return m;
  }, [members.data, session.user.id, session.customer]);
  const subscriptions = usePortalSubscriptions();
  const subscriptionNames = useMemo(
    () => new Map((subscriptions.data?.data ?? []).map((x) => [x.id, subscriptionLabel(x)])),
    [subscriptions.data],
  );

  if (isApiError(events.error) && events.error.code === 'tab_hidden') {
    return <Alert color="gray">Your provider has hidden the Audit section.</Alert>;
  }
  return (
    <Stack gap="sm">
      <Group justify="space-between" align="flex-end">
        <Text size="sm" c="dimmed">
          {seesAll ? 'Account and service activity across your organisation.' : 'Your own account and service activity.'}
        </Text>
        <Button
          component="a"
          href={withQuery('/api/v1/portal/audit-events', { ...filters, format: 'csv' })}
          download
          variant="default"
          size="xs"
          leftSection={<IconDownload size={14} />}
        >
          Download CSV
        </Button>
      </Group>
      <SimpleGrid cols={{ base: 1, sm: 2, md: seesAll ? 5 : 4 }} spacing="sm" component="section" aria-label="Activity filters">
        <Select label="Type" placeholder="All activity" data={PORTAL_AUDIT_TYPES.map(({ value, label }) => ({ value, label }))} value={type} onChange={setType} clearable />
        {seesAll ? (
          <Select
            label="Person"
            placeholder="Everyone"
            data={(members.data?.data ?? []).map((m) => ({ value: m.id, label: m.name || m.email }))}
            value={personId}
            onChange={setPersonId}
            searchable
            clearable
          />
        ) : null}
        <TextInput label="From" type="date" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
        <TextInput label="To" type="date" value={to} onChange={(e) => setTo(e.currentTarget.value)} error={datesWrong ? 'Before “From”' : undefined} />
        <Group align="flex-end">
          <Button
            variant="subtle"
            disabled={!active}
            onClick={() => {
              setType(null);
              setPersonId(null);
              setFrom('');
              setTo('');
            }}
          >
            Clear filters
          </Button>
        </Group>
      </SimpleGrid>
      <DataTable
        label="Activity"
        rows={events.rows}
        loading={events.isPending}
        error={events.error}
        onRetry={() => void events.refetch()}
        rowKey={(e) => e.id}
        emptyTitle="No activity"
        emptyDescription={active ? 'Nothing matches these filters.' : 'Activity on your account will appear here.'}
        columns={[
          {
            key: 'when',
            header: 'When',
            visibleFrom: 'sm',
            render: (e) => (
              <div title={formatDateTime(e.occurredAt)}>
                <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                  {formatDate(e.occurredAt)}
                </Text>
                <Text size="xs" c="dimmed">
                  {formatTime(e.occurredAt)}
                </Text>
              </div>
            ),
          },
          {
            key: 'who',
            header: 'Who',
            visibleFrom: 'sm',
            render: (e) => (
              <div>
                <Text size="sm">{e.actor.label}</Text>
                <Text size="xs" c="dimmed" data-testid="audit-actor-kind">
                  {actorKind(e, roles)}
                </Text>
              </div>
            ),
          },
          {
            key: 'what',
            header: 'What',
            render: (e) => (
              <div>
                <Text size="sm" fw={500}>
                  {portalActionLabel(e.action)}
                </Text>
                <Badge size="xs" variant="light" radius="sm" color={typeOf(e.type)?.color ?? 'gray'}>
                  {typeOf(e.type)?.label ?? e.type}
                </Badge>
                {/* On a phone what it was done to, who did it and when sit under it (their columns are left out). */}
                <Box hiddenFrom="sm" mt={4}>
                  <Text size="sm">{portalTargetLabel(e, subscriptionNames)}</Text>
                  <Text size="xs" c="dimmed">
                    {e.actor.label} · {formatDateTime(e.occurredAt)}
                  </Text>
                </Box>
              </div>
            ),
          },
          { key: 'on', header: 'On', visibleFrom: 'sm', render: (e) => <Text size="sm">{portalTargetLabel(e, subscriptionNames)}</Text> },
          { key: 'changes', header: 'Changes', minWidth: 160, visibleFrom: 'sm', render: (e) => <ChangesSummary changes={e.changes} /> },
          {
            key: 'details',
            header: <VisuallyHidden>Details</VisuallyHidden>,
            align: 'right',
            render: (e) =>
              Object.keys(e.changes).length > 0 ? (
                <Button
                  size="compact-xs"
                  variant="subtle"
                  aria-expanded={open.has(e.id)}
                  aria-label={`Details of ${portalActionLabel(e.action)} at ${formatDateTime(e.occurredAt)}`}
                  onClick={() => toggle(e.id)}
                >
                  {open.has(e.id) ? 'Hide' : 'Details'}
                </Button>
              ) : null,
          },
        ]}
        renderExpanded={(e) => (open.has(e.id) ? <ChangesDiff changes={e.changes} label={`Changes of ${portalActionLabel(e.action)}`} /> : null)}
        footer={<LoadMore hasNextPage={events.hasNextPage} isFetchingNextPage={events.isFetchingNextPage} onLoadMore={() => void events.fetchNextPage()} />}
      />
    </Stack>
  );
}
