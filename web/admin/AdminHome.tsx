import { Link } from 'react-router';
import { Badge, Button, Card, Group, Paper, SimpleGrid, Stack, Text, ThemeIcon, Title } from '@mantine/core';
import { IconChevronRight } from '@tabler/icons-react';
import { APPS, type AppInfo } from '../shared/apps.tsx';
import { useSession } from '../shared/session.tsx';
import { Empty, PageHeader } from '../shared/ui.tsx';
import { AppAccessPanel, useMyAccessRequests } from './AppAccess.tsx';
import { PartnerDashboard } from './customer/PartnerDashboard.tsx';

export function AdminHome() {
  const session = useSession();
  const held = APPS.filter((a) => session.apps.includes(a.name));
  // Finance has its own panel below; the others open their page, which says who can grant them and asks the operator.
  const notHeld = APPS.filter((a) => !session.apps.includes(a.name) && a.name !== 'finance');
  const first = session.user.name.split(' ')[0] ?? session.user.name;
  return (
    <Stack gap="xl" maw={1240}>
      <PageHeader
        mb={0}
        title={`Welcome, ${first}`}
        description={`${session.partner?.name ?? ''} admin portal.${session.apps.includes('customer') ? ' How business is going, and your apps.' : ' Choose an app to get started.'}`}
      />
      {session.apps.includes('customer') ? <PartnerDashboard /> : null}
      <section aria-label="Your apps">
        {held.length === 0 ? (
          <Empty title="No apps yet" description="Ask a colleague with the Access Control app to grant you the apps you need." />
        ) : (
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="md">
            {held.map((a) => (
              <Card key={a.name} withBorder radius="md" padding="lg" component={Link} to={a.path} aria-label={`Open ${a.label}`} style={{ textDecoration: 'none' }}>
                <Group justify="space-between" align="flex-start" wrap="nowrap">
                  <ThemeIcon size={40} radius="md" variant="light">
                    <a.icon size={22} stroke={1.6} />
                  </ThemeIcon>
                  <IconChevronRight size={18} color="var(--mantine-color-dimmed)" />
                </Group>
                <Text fw={600} mt="md">
                  {a.label}
                </Text>
                <Text size="sm" c="dimmed" mt={4}>
                  {a.summary}
                </Text>
              </Card>
            ))}
          </SimpleGrid>
        )}
      </section>
      {notHeld.length > 0 ? <OtherApps apps={notHeld} /> : null}
      {!session.apps.includes('finance') ? <AppAccessPanel app="finance" /> : null}
    </Stack>
  );
}

/** The apps the viewer does not hold, each with the way to ask for it (its page: who can grant it, the operator's request). */
function OtherApps({ apps }: { apps: readonly AppInfo[] }) {
  const mine = useMyAccessRequests();
  const pending = new Set((mine.data?.data ?? []).filter((r) => r.status === 'pending').map((r) => r.app));
  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="other-apps-title">
      <Title order={3} size="h4" id="other-apps-title">
        Other apps
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Apps you do not hold. A colleague who holds one and Access Control can grant it to you, or ask the platform operator.
      </Text>
      <Stack gap="xs">
        {apps.map((a) => (
          <Group key={a.name} justify="space-between" wrap="nowrap" role="group" aria-label={a.label}>
            <div style={{ minWidth: 0 }}>
              <Text size="sm" fw={500}>
                {a.label}
              </Text>
              <Text size="xs" c="dimmed">
                {a.summary}
              </Text>
            </div>
            {pending.has(a.name) ? (
              <Badge color="yellow" variant="light" radius="sm" style={{ minWidth: 'max-content' }}>
                Requested
              </Badge>
            ) : (
              <Button component={Link} to={a.path} variant="light" size="xs" aria-label={`Request access to the ${a.label} app`} style={{ flexShrink: 0 }}>
                Request access
              </Button>
            )}
          </Group>
        ))}
      </Stack>
    </Paper>
  );
}
