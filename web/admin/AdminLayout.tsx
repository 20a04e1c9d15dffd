import { Link, Outlet, useLocation } from 'react-router';
import { AppShell, Burger, Divider, Group, NavLink, ScrollArea, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconBuildingStore, IconHome } from '@tabler/icons-react';
import { APPS } from '../shared/apps.tsx';
import { useSession } from '../shared/session.tsx';
import { Brand } from '../shared/ui.tsx';
import { UserMenu } from '../shared/UserMenu.tsx';

/** The admin portal frame: header with the partner and the user menu, and the left sidebar of exactly the apps the user holds. */
export function AdminLayout() {
  const session = useSession();
  const location = useLocation();
  const [opened, { toggle, close }] = useDisclosure(false);
  const held = APPS.filter((a) => session.apps.includes(a.name));
  const isActive = (path: string) => location.pathname === path || location.pathname.startsWith(`${path}/`);

  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 248, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="lg">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Link to="/admin" style={{ textDecoration: 'none', color: 'inherit' }} aria-label="Admin home">
              <Brand suffix="Admin" />
            </Link>
            <Divider orientation="vertical" visibleFrom="xs" />
            <Group gap={6} visibleFrom="xs" wrap="nowrap">
              <IconBuildingStore size={16} color="var(--mantine-color-dimmed)" />
              <Text size="sm" fw={500} data-testid="partner-name">
                {session.partner?.name}
              </Text>
            </Group>
          </Group>
          <UserMenu profilePath="/admin/profile" />
        </Group>
      </AppShell.Header>

      <AppShell.Navbar p="sm" aria-label="Apps">
        <AppShell.Section>
          <NavLink component={Link} to="/admin" label="Home" leftSection={<IconHome size={18} stroke={1.6} />} active={location.pathname === '/admin'} onClick={close} />
        </AppShell.Section>
        <Divider my="xs" />
        <Text size="xs" fw={600} c="dimmed" tt="uppercase" px="sm" pb={6}>
          Apps
        </Text>
        <AppShell.Section grow component={ScrollArea}>
          {held.length === 0 ? (
            <Text size="sm" c="dimmed" px="sm">
              No apps granted yet.
            </Text>
          ) : (
            held.map((a) => (
              <NavLink
                key={a.name}
                component={Link}
                to={a.path}
                label={a.label}
                leftSection={<a.icon size={18} stroke={1.6} />}
                active={isActive(a.path)}
                onClick={close}
              />
            ))
          )}
        </AppShell.Section>
      </AppShell.Navbar>

      <AppShell.Main bg="var(--mantine-color-gray-0)">
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
