import { Link } from 'react-router';
import { Card, Group, SimpleGrid, Stack, Text, ThemeIcon } from '@mantine/core';
import { IconChevronRight } from '@tabler/icons-react';
import { APPS } from '../shared/apps.tsx';
import { useSession } from '../shared/session.tsx';
import { Empty, PageHeader } from '../shared/ui.tsx';
import { FinanceAccessPanel } from './FinanceAccess.tsx';
import { PartnerDashboard } from './customer/PartnerDashboard.tsx';

export function AdminHome() {
  const session = useSession();
  const held = APPS.filter((a) => session.apps.includes(a.name));
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
      {!session.apps.includes('finance') ? <FinanceAccessPanel /> : null}
    </Stack>
  );
}
