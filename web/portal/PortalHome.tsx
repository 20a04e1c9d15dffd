import { Link, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Anchor, Badge, Box, Button, Group, Paper, SimpleGrid, Stack, Tabs, Text, Title, VisuallyHidden } from '@mantine/core';
import { IconArrowRight, IconCoins, IconFileInvoice, IconHistory, IconServer } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { api, isApiError } from '../shared/api.ts';
import { PortalAuditSection, portalActionLabel, type PortalAuditEvent } from './audit/PortalAuditSection.tsx';
import { formatDate, formatRelative, titleCase } from '../shared/format.ts';
import { formatMoney } from '../shared/money.ts';
import { useWallet } from '../shared/points.tsx';
import { PointsTab } from './PointsTab.tsx';
import { ContactSalesButton } from './ContactSales.tsx';
import { useAccountClosed } from './ClosedAccount.tsx';
import { INVOICE_FILTER_PARAMS, InvoicesTab } from './invoices/InvoicesTab.tsx';
import { useSession } from '../shared/session.tsx';
import { DataTable, ErrorState, LoadingState, StatusBadge } from '../shared/ui.tsx';
import type { Page, PortalTabs } from '../shared/types.ts';
import { isUnavailable, subscriptionLabel, usePortalSubscriptions } from './services/queries.ts';
import { homeSubscriptions } from './services/home-subscriptions.ts';
import { BuySubscriptionButton } from './services/BuySubscription.tsx';
import { useSubscriptionManagement } from './services/SubscriptionActions.tsx';
import { SERVICES_KEY, type PortalSubscription, type VirtualLine, type Wallboard } from './services/types.ts';

const TABS: { key: keyof PortalTabs; label: string; icon: ReactNode }[] = [
  { key: 'invoices', label: 'Invoices', icon: <IconFileInvoice size={16} /> },
  { key: 'points', label: 'Points', icon: <IconCoins size={16} /> },
  { key: 'services', label: 'Services', icon: <IconServer size={16} /> },
  { key: 'audit', label: 'Audit', icon: <IconHistory size={16} /> },
];

const LATEST_EVENTS = 5;
const SHOWN_RENEWALS = 4;

function Card({ title, label, action, children }: { title: string; label: string; action?: ReactNode; children: ReactNode }) {
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-label={label}>
      <Group justify="space-between" mb="sm" wrap="nowrap">
        <Title order={2} size="h5">
          {title}
        </Title>
        {action}
      </Group>
      {children}
    </Paper>
  );
}

function Figure({ label, value, testId, strong }: { label: string; value: string; testId: string; strong?: boolean }) {
  return (
    <Group justify="space-between" wrap="nowrap">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text size={strong ? 'lg' : 'sm'} fw={strong ? 700 : 500} data-testid={testId} style={{ fontVariantNumeric: 'tabular-nums' }}>
        {value}
      </Text>
    </Group>
  );
}

/**
 * Usable points, balance and credit limit (owners and admins: the points are theirs to see). A member is told so in the
 * words of the card's own title: "Company credits" named the same points with another word.
 */
function PointsCard({ canSee }: { canSee: boolean }) {
  const closed = useAccountClosed(); // a closed account tops up no more
  const wallet = useWallet(['portal', 'points'], '/api/v1/portal/wallet', { enabled: canSee });
  const w = wallet.data;
  return (
    <Card title="Points" label="Points summary" action={canSee && !closed ? <Anchor component={Link} to="/portal?tab=points" size="sm">Top up</Anchor> : undefined}>
      {!canSee ? (
        <Text size="sm" c="dimmed">
          Your organisation’s points are visible to its owners and admins.
        </Text>
      ) : w ? (
        <Stack gap={6}>
          <Figure label="Usable" value={formatMoney(w.usable, w.currency)} testId="home-usable" strong />
          <Figure label="Balance" value={formatMoney(w.points, w.currency)} testId="home-balance" />
          <Figure label="Credit limit" value={formatMoney(w.creditLimit, w.currency)} testId="home-credit-limit" />
          {w.creditLimitExpiresAt ? (
            <Text size="xs" c="dimmed">
              Credit limit until {formatDate(w.creditLimitExpiresAt)}
            </Text>
          ) : null}
        </Stack>
      ) : wallet.error && isApiError(wallet.error) && wallet.error.code === 'tab_hidden' ? (
        <Text size="sm" c="dimmed">
          Your provider has hidden points.
        </Text>
      ) : wallet.error ? (
        <ErrorState error={wallet.error} onRetry={() => void wallet.refetch()} title="Could not load points" />
      ) : (
        <LoadingState label="Loading points…" />
      )}
    </Card>
  );
}

function renewalText(s: PortalSubscription): string {
  if (s.status === 'terminated') return 'Terminated';
  if (s.status === 'expired') return `Expired ${formatDate(s.currentPeriodEnd)}`;
  if (s.status === 'pending_payment') return 'Waiting for payment';
  return s.autoRenew ? `Renews ${formatDate(s.currentPeriodEnd)}` : `Ends ${formatDate(s.currentPeriodEnd)}`;
}

/** Whether a subscription can still renew: a terminated or expired one never does (its renewal date and auto-renew are moot). */
function renews(s: PortalSubscription): boolean {
  return s.status === 'active' || s.status === 'pending_payment';
}

/** The day an active, auto-renewing subscription renews; "—" for the others, with why under it (ends, expired, terminated). */
function RenewalDate({ s }: { s: PortalSubscription }) {
  if (s.status === 'active' && s.autoRenew) return <Text size="sm" style={{ whiteSpace: 'nowrap' }}>{formatDate(s.currentPeriodEnd)}</Text>;
  return (
    <div>
      <Text size="sm">—</Text>
      <Text size="xs" c="dimmed">{renewalText(s)}</Text>
    </div>
  );
}

/**
 * On a phone, an owner's auto-renew and renewal-by-card switches (the latter captioned by itself) and actions under the
 * subscription's name (their columns are left out there).
 */
function PhoneControls({ switchControl, byCardControl, buttons }: { switchControl: ReactNode; byCardControl: ReactNode; buttons: ReactNode }) {
  if (!switchControl && !byCardControl && !buttons) return null;
  return (
    <Group gap="xs" mt={6} wrap="wrap" align="flex-start">
      {switchControl ? (
        <Group gap={6} wrap="nowrap">
          {switchControl}
          <Text size="xs" c="dimmed" aria-hidden>
            Auto-renew
          </Text>
        </Group>
      ) : null}
      {byCardControl}
      {buttons}
    </Group>
  );
}

function AutoRenewBadge({ s }: { s: PortalSubscription }) {
  if (!renews(s)) return <Text size="sm" c="dimmed">—</Text>;
  return s.autoRenew ? <Badge variant="light" color="teal">On</Badge> : <Badge variant="light" color="gray">Off</Badge>;
}

/**
 * The Auto-renew column: auto-renew, and under it renewal by card (how a renewal is paid when points fall short), as
 * switches for owners and admins where they can change them, else as read. One column for both keeps the table within a
 * tablet's width.
 */
function RenewalSettings({ s, autoRenewSwitch, byCardSwitch }: { s: PortalSubscription; autoRenewSwitch: ReactNode; byCardSwitch: ReactNode }) {
  return (
    <Stack gap={6}>
      {autoRenewSwitch ?? <div><AutoRenewBadge s={s} /></div>}
      {byCardSwitch ?? (renews(s) && s.renewByCard ? <Text size="xs" c="dimmed" maw={120}>Renewal by card: on</Text> : null)}
    </Stack>
  );
}

/**
 * The subscriptions that have not ended, soonest renewal first; with none, whether there never was one or all ended
 * (`homeSubscriptions`); an empty state while the subscriptions API is not there.
 */
function SubscriptionsCard({ linkToServices }: { linkToServices: boolean }) {
  const subs = usePortalSubscriptions();
  const summary = homeSubscriptions(subs.data?.data ?? [], Boolean(subs.data?.nextCursor), SHOWN_RENEWALS);
  return (
    <Card title="Subscriptions" label="Subscriptions summary" action={linkToServices ? <Anchor component={Link} to="/portal?tab=services" size="sm">All services</Anchor> : undefined}>
      {subs.isPending ? (
        <LoadingState label="Loading subscriptions…" />
      ) : subs.error && isUnavailable(subs.error) ? (
        <Text size="sm" c="dimmed" data-testid="subscriptions-unavailable">
          Your subscriptions and their renewal dates will appear here.
        </Text>
      ) : subs.error ? (
        <ErrorState error={subs.error} onRetry={() => void subs.refetch()} title="Could not load subscriptions" />
      ) : summary.kind === 'never' ? (
        <Text size="sm" c="dimmed" data-testid="home-subscriptions-empty">
          No subscriptions yet.
        </Text>
      ) : summary.kind === 'allEnded' ? (
        <Stack gap={2} data-testid="home-subscriptions-empty">
          <Text size="sm" c="dimmed">
            {summary.title}.
          </Text>
          <Text size="xs" c="dimmed">
            {summary.ended}{' '}
            {linkToServices ? (
              <Anchor component={Link} to="/portal?tab=services" size="xs">
                See them in Services
              </Anchor>
            ) : null}
          </Text>
        </Stack>
      ) : (
        <Stack gap={8}>
          {summary.shown.map((s) => (
            <Group key={s.id} justify="space-between" wrap="nowrap" gap="xs">
              <div style={{ minWidth: 0 }}>
                <Text size="sm" fw={500} truncate="end">
                  {subscriptionLabel(s)}
                </Text>
                <Text size="xs" c="dimmed">
                  {renewalText(s)}
                </Text>
              </div>
              <Text size="sm" style={{ whiteSpace: 'nowrap', fontVariantNumeric: 'tabular-nums' }}>
                {formatMoney(s.renewalPrice, s.currency)}
              </Text>
            </Group>
          ))}
        </Stack>
      )}
    </Card>
  );
}

/** The organisation's latest few audit events (a member sees their own), with a link to the Audit section. */
function RecentActivityCard() {
  const events = useQuery({
    queryKey: ['portal', 'audit-events', 'latest'],
    queryFn: ({ signal }) => api.get<Page<PortalAuditEvent>>('/api/v1/portal/audit-events', { limit: LATEST_EVENTS }, signal),
  });
  return (
    <Card title="Recent activity" label="Recent activity" action={<Anchor component={Link} to="/portal?tab=audit" size="sm">See all</Anchor>}>
      {events.isPending ? (
        <LoadingState label="Loading activity…" />
      ) : events.error ? (
        <ErrorState error={events.error} onRetry={() => void events.refetch()} title="Could not load activity" />
      ) : events.data.data.length === 0 ? (
        <Text size="sm" c="dimmed">
          Nothing yet.
        </Text>
      ) : (
        <Stack gap={8} component="ul" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
          {events.data.data.map((e) => (
            <li key={e.id}>
              <Text size="sm" fw={500}>
                {portalActionLabel(e.action)}
              </Text>
              <Text size="xs" c="dimmed" title={e.occurredAt}>
                {e.actor.label ?? 'Someone'} · {formatRelative(e.occurredAt)}
              </Text>
            </li>
          ))}
        </Stack>
      )}
    </Card>
  );
}

/**
 * The Services section of Home: subscriptions with their add-ons and renewal dates, and how many lines and wallboards
 * there are. Owners and admins turn auto-renew and renewal by card on or off, add add-ons and change their quantities,
 * terminate and reactivate (members and guests read the list: the API's changes are for owners and admins); on a phone
 * those controls sit under the subscription's name.
 */
function ServicesTab() {
  const session = useSession();
  const role = session.customer?.role ?? 'guest';
  const canManage = role === 'owner' || role === 'admin';
  const subs = usePortalSubscriptions();
  const manage = useSubscriptionManagement();
  const lines = useQuery({
    queryKey: [...SERVICES_KEY, 'home', 'virtual-lines'],
    queryFn: ({ signal }) => api.get<Page<VirtualLine>>('/api/v1/portal/virtual-lines', { limit: 200 }, signal),
  });
  const boards = useQuery({
    queryKey: [...SERVICES_KEY, 'home', 'wallboards'],
    queryFn: ({ signal }) => api.get<Page<Wallboard>>('/api/v1/portal/wallboards', { limit: 200 }, signal),
  });
  // "1 wallboard", "2 virtual lines", "200+ virtual lines" (a page of 200 with more after it), "… wallboards" while loading.
  const count = (q: { data?: Page<unknown> }, one: string, many: string) =>
    q.data ? `${q.data.data.length}${q.data.nextCursor ? '+' : ''} ${q.data.data.length === 1 && !q.data.nextCursor ? one : many}` : `… ${many}`;
  return (
    <Stack gap="md">
      <section aria-labelledby="home-subscriptions-title">
        <Group justify="space-between" mb="xs">
          <Title order={3} size="h4" id="home-subscriptions-title">
            Subscriptions
          </Title>
          <BuySubscriptionButton />
        </Group>
        {canManage ? manage.notice : null}
        {subs.error && isUnavailable(subs.error) ? (
          <Text size="sm" c="dimmed" py="sm">
            Your subscriptions and their renewal dates will appear here.
          </Text>
        ) : (
          <DataTable
            label="Subscriptions"
            rows={subs.data?.data}
            loading={subs.isPending}
            error={subs.error}
            onRetry={() => void subs.refetch()}
            rowKey={(s) => s.id}
            emptyTitle="No subscriptions"
            emptyDescription="Subscriptions you buy from your provider appear here."
            columns={[
              {
                key: 'product',
                header: 'Product',
                render: (s) => (
                  <div>
                    <Text size="sm" fw={500}>{subscriptionLabel(s)}</Text>
                    {manage.addOnList(s)}
                    {/* On a phone its status, billing and renewal sit under it (their columns are left out). */}
                    <Box hiddenFrom="sm" mt={4}>
                      <StatusBadge status={s.status} />
                      <Text size="xs" c="dimmed">
                        {titleCase(s.cycle)}{s.quantity > 1 ? ` × ${s.quantity}` : ''} · {renewalText(s)}
                        {renews(s) && s.renewByCard && !canManage ? ' · renewal by card' : ''}
                      </Text>
                      {canManage ? <PhoneControls switchControl={manage.autoRenewSwitch(s)} byCardControl={manage.renewByCardSwitch(s, 'phone')} buttons={manage.buttons(s)} /> : null}
                    </Box>
                  </div>
                ),
              },
              { key: 'status', header: 'Status', visibleFrom: 'sm', render: (s) => <StatusBadge status={s.status} /> },
              { key: 'cycle', header: 'Billing', visibleFrom: 'sm', render: (s) => `${titleCase(s.cycle)}${s.quantity > 1 ? ` × ${s.quantity}` : ''}` },
              { key: 'renewal', header: 'Renewal date', visibleFrom: 'sm', render: (s) => <RenewalDate s={s} /> },
              { key: 'price', header: 'Renewal price', align: 'right', render: (s) => <Text size="sm" style={{ whiteSpace: 'nowrap' }}>{renews(s) ? formatMoney(s.renewalPrice, s.currency) : '—'}</Text> },
              {
                key: 'auto', header: 'Auto-renew', visibleFrom: 'sm',
                render: (s) => <RenewalSettings s={s} autoRenewSwitch={canManage ? manage.autoRenewSwitch(s) : null} byCardSwitch={canManage ? manage.renewByCardSwitch(s) : null} />,
              },
              ...(canManage
                ? [{ key: 'actions', header: <VisuallyHidden>Actions</VisuallyHidden>, align: 'right' as const, visibleFrom: 'sm' as const, render: (s: PortalSubscription) => manage.buttons(s) }]
                : []),
            ]}
          />
        )}
        {canManage ? manage.dialogs : null}
      </section>
      <Paper withBorder radius="md" p="md" bg="var(--mantine-color-gray-0)">
        <Group justify="space-between">
          <div>
            <Text fw={600}>Virtual lines and wallboards</Text>
            <Text size="sm" c="dimmed" data-testid="home-services-counts">
              {count(lines, 'virtual line', 'virtual lines')} · {count(boards, 'wallboard', 'wallboards')}
            </Text>
          </div>
          <Button component={Link} to="/portal/services" variant="light" rightSection={<IconArrowRight size={16} />}>
            Open Services
          </Button>
        </Group>
      </Paper>
    </Stack>
  );
}

/**
 * The address of another Home section: its tab, and the invoice filters (so Invoices shows them again on coming back);
 * what belongs to one visit (an open invoice, a pay dialog, a top-up's return) is left behind.
 */
function sectionParams(tab: string, current: URLSearchParams): URLSearchParams {
  const next = new URLSearchParams({ tab });
  for (const name of INVOICE_FILTER_PARAMS) {
    const value = current.get(name);
    if (value) next.set(name, value);
  }
  return next;
}

export function PortalHome() {
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const tabs = session.portalTabs ?? { invoices: true, audit: true, services: true, points: true };
  const visible = TABS.filter((t) => tabs[t.key]);
  const requested = params.get('tab');
  const current = visible.find((t) => t.key === requested)?.key ?? visible[0]?.key ?? null;
  const role = session.customer?.role ?? 'member';
  const seesCredits = role === 'owner' || role === 'admin';
  const cards = [
    tabs.points ? <PointsCard key="points" canSee={seesCredits} /> : null,
    <SubscriptionsCard key="subscriptions" linkToServices={tabs.services} />,
    tabs.audit ? <RecentActivityCard key="activity" /> : null,
  ].filter(Boolean);

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-start">
        <div>
          <Title order={1} size="h2">
            {session.customer?.name}
          </Title>
          <Text c="dimmed" size="sm">
            Signed in as {session.user.name} · {titleCase(role)}
            {session.partner ? ` · Services by ${session.partner.name}` : ''}
          </Text>
        </div>
        <ContactSalesButton />
      </Group>
      {cards.length > 0 ? <SimpleGrid cols={{ base: 1, md: cards.length }}>{cards}</SimpleGrid> : null}
      <Paper withBorder radius="md" p="md">
        {visible.length === 0 || current === null ? (
          <Text c="dimmed" size="sm" py="lg" ta="center">
            Your provider has not turned on any sections yet. See <Anchor component={Link} to="/portal/members">Members</Anchor> to manage your team.
          </Text>
        ) : (
          <Tabs value={current} onChange={(v) => v && setParams(sectionParams(v, params), { replace: true })} keepMounted={false}>
            <Tabs.List mb="md" aria-label="Home sections">
              {visible.map((t) => (
                <Tabs.Tab key={t.key} value={t.key} leftSection={t.icon}>
                  {t.label}
                </Tabs.Tab>
              ))}
            </Tabs.List>
            <Tabs.Panel value="invoices">
              <InvoicesTab />
            </Tabs.Panel>
            <Tabs.Panel value="points">
              <PointsTab />
            </Tabs.Panel>
            <Tabs.Panel value="services">
              <ServicesTab />
            </Tabs.Panel>
            <Tabs.Panel value="audit">
              <PortalAuditSection />
            </Tabs.Panel>
          </Tabs>
        )}
      </Paper>
    </Stack>
  );
}
