import { Link, useSearchParams } from 'react-router';
import { Alert, Anchor, List, Paper, Stack, Tabs, Text, ThemeIcon, Title } from '@mantine/core';
import { IconCoins, IconFileInvoice, IconHistory, IconServer } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { isApiError } from '../shared/api.ts';
import { AuditTable } from '../shared/AuditTable.tsx';
import { titleCase } from '../shared/format.ts';
import { usePagedList } from '../shared/queries.ts';
import { PointsTab } from './PointsTab.tsx';
import { useSession } from '../shared/session.tsx';
import type { AuditEvent, PortalTabs } from '../shared/types.ts';

const TABS: { key: keyof PortalTabs; label: string; icon: ReactNode }[] = [
  { key: 'invoices', label: 'Invoices', icon: <IconFileInvoice size={16} /> },
  { key: 'points', label: 'Points', icon: <IconCoins size={16} /> },
  { key: 'services', label: 'Services', icon: <IconServer size={16} /> },
  { key: 'audit', label: 'Audit', icon: <IconHistory size={16} /> },
];

function ComingSoon({ icon, title, intro, points }: { icon: ReactNode; title: string; intro: string; points: string[] }) {
  return (
    <Stack gap="sm" py="md">
      <ThemeIcon size={44} radius="md" variant="light">
        {icon}
      </ThemeIcon>
      <Title order={3} size="h4">
        {title}
      </Title>
      <Text size="sm" c="dimmed">
        {intro}
      </Text>
      <List size="sm" spacing={4}>
        {points.map((p) => (
          <List.Item key={p}>{p}</List.Item>
        ))}
      </List>
    </Stack>
  );
}

function AuditTab() {
  const session = useSession();
  const events = usePagedList<AuditEvent>(['portal', 'audit-events'], '/api/v1/portal/audit-events');
  const own = session.customer?.role === 'member' || session.customer?.role === 'guest';
  if (isApiError(events.error) && events.error.code === 'tab_hidden') {
    return <Alert color="gray">Your provider has hidden the Audit section.</Alert>;
  }
  return (
    <Stack gap="sm">
      <Text size="sm" c="dimmed">
        {own ? 'Your own account and service activity.' : 'Account and service activity across your organisation.'}
      </Text>
      <AuditTable
        label="Activity"
        rows={events.rows}
        loading={events.isPending}
        error={events.error}
        onRetry={() => void events.refetch()}
        hasNextPage={events.hasNextPage}
        isFetchingNextPage={events.isFetchingNextPage}
        onLoadMore={() => void events.fetchNextPage()}
        emptyDescription="Activity on your account will appear here."
      />
    </Stack>
  );
}

export function PortalHome() {
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const tabs = session.portalTabs ?? { invoices: true, audit: true, services: true, points: true };
  const visible = TABS.filter((t) => tabs[t.key]);
  const requested = params.get('tab');
  const current = visible.find((t) => t.key === requested)?.key ?? visible[0]?.key ?? null;
  const role = session.customer?.role ?? 'member';

  return (
    <Stack gap="lg">
      <div>
        <Title order={1} size="h2">
          {session.customer?.name}
        </Title>
        <Text c="dimmed" size="sm">
          Signed in as {session.user.name} · {titleCase(role)}
          {session.partner ? ` · Services by ${session.partner.name}` : ''}
        </Text>
      </div>
      <Paper withBorder radius="md" p="md">
        {visible.length === 0 || current === null ? (
          <Text c="dimmed" size="sm" py="lg" ta="center">
            Your provider has not turned on any sections yet. See <Anchor component={Link} to="/portal/members">Members</Anchor> to manage your team.
          </Text>
        ) : (
          <Tabs value={current} onChange={(v) => v && setParams({ tab: v }, { replace: true })} keepMounted={false}>
            <Tabs.List mb="md" aria-label="Home sections">
              {visible.map((t) => (
                <Tabs.Tab key={t.key} value={t.key} leftSection={t.icon}>
                  {t.label}
                </Tabs.Tab>
              ))}
            </Tabs.List>
            <Tabs.Panel value="invoices">
              <ComingSoon
                icon={<IconFileInvoice size={24} />}
                title="Invoices are coming soon"
                intro="Here you will see every invoice from your provider and pay them online."
                points={[
                  'Filter by Purchase, Monthly and Top-up invoices',
                  'Pay Purchase invoices with your points first, then by card',
                  'Download any invoice as a PDF',
                ]}
              />
            </Tabs.Panel>
            <Tabs.Panel value="points">
              <PointsTab />
            </Tabs.Panel>
            <Tabs.Panel value="services">
              <ComingSoon
                icon={<IconServer size={24} />}
                title="Services are coming soon"
                intro="Your subscriptions, numbers, virtual lines and wallboards."
                points={['Renewal dates and prices', 'Renew or reactivate expired subscriptions', 'Usage and recent transactions']}
              />
            </Tabs.Panel>
            <Tabs.Panel value="audit">
              <AuditTab />
            </Tabs.Panel>
          </Tabs>
        )}
      </Paper>
    </Stack>
  );
}
