import { Link, Outlet, useLocation } from 'react-router';
import { AppShell, Box, Container, Divider, Group, Text, UnstyledButton, type MantineBreakpoint, type MantineSpacing } from '@mantine/core';
import { IconBuilding } from '@tabler/icons-react';
import { useSession } from '../shared/session.tsx';
import { Brand } from '../shared/ui.tsx';
import { UserMenu } from '../shared/UserMenu.tsx';
import { ClosedAccountNotice } from './ClosedAccount.tsx';

const LINKS = [
  { to: '/portal', label: 'Home' },
  { to: '/portal/services', label: 'Services', tab: 'services' as const },
  { to: '/portal/members', label: 'Members' },
];

/** Home, Services (unless hidden in Portal Settings) and Members: in the header, or on a phone above the page. */
function PortalNav(props: { ml?: MantineSpacing; mt?: number; mb?: MantineSpacing; visibleFrom?: MantineBreakpoint; hiddenFrom?: MantineBreakpoint }) {
  const session = useSession();
  const location = useLocation();
  return (
    <Box component="nav" aria-label="Portal" {...props}>
      <Group gap={4} wrap="nowrap">
        {LINKS.filter((l) => !l.tab || session.portalTabs?.[l.tab] !== false).map((l) => {
          const active = l.to === '/portal' ? location.pathname === '/portal' : location.pathname.startsWith(l.to);
          return (
            <UnstyledButton
              key={l.to}
              component={Link}
              to={l.to}
              px="sm"
              py={6}
              aria-current={active ? 'page' : undefined}
              style={{
                borderRadius: 6,
                fontSize: 14,
                fontWeight: 500,
                color: active ? 'var(--mantine-color-indigo-7)' : 'var(--mantine-color-gray-7)',
                background: active ? 'var(--mantine-color-indigo-0)' : undefined,
              }}
            >
              {l.label}
            </UnstyledButton>
          );
        })}
      </Group>
    </Box>
  );
}

/** The user portal frame: organisation name, Home, Services and Members, and the user menu. */
export function PortalLayout() {
  const session = useSession();
  return (
    <AppShell header={{ height: 64 }} padding={0}>
      <AppShell.Header>
        <Container size="lg" h="100%">
          <Group h="100%" justify="space-between" wrap="nowrap">
            {/* It gives way (minWidth 0) before the user menu does: a long organisation name is cut, not wrapped. */}
            <Group gap="md" wrap="nowrap" miw={0}>
              <Link to="/portal" style={{ textDecoration: 'none', color: 'inherit' }} aria-label="Portal home">
                <Brand />
              </Link>
              <Divider orientation="vertical" />
              <Group gap={6} wrap="nowrap" miw={0}>
                <IconBuilding size={16} color="var(--mantine-color-dimmed)" style={{ flex: 'none' }} />
                <Text size="sm" fw={600} truncate="end" title={session.customer?.name} data-testid="organisation-name">
                  {session.customer?.name}
                </Text>
              </Group>
              <PortalNav ml="md" visibleFrom="sm" />
            </Group>
            <UserMenu profilePath="/portal/profile" />
          </Group>
        </Container>
      </AppShell.Header>
      <AppShell.Main bg="var(--mantine-color-gray-0)">
        <Container size="lg" py="xl">
          {/* On a phone the header has no room for the links: they lead the page instead. */}
          <PortalNav hiddenFrom="sm" mt={-8} mb="md" />
          <ClosedAccountNotice />
          <Outlet />
        </Container>
      </AppShell.Main>
    </AppShell>
  );
}
