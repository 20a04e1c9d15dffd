import { Link, Outlet, useLocation } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { AppShell, Badge, Burger, Group, NavLink } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconBuildingStore, IconHistory, IconListCheck, IconMail } from '@tabler/icons-react';
import { api } from '../shared/api.ts';
import { Brand } from '../shared/ui.tsx';
import { UserMenu } from '../shared/UserMenu.tsx';
import type { OperatorAccessRequest, Page } from '../shared/types.ts';

export const PENDING_KEY = ['operator', 'access-requests', 'pending'] as const;

export function usePendingRequests() {
  return useQuery({
    queryKey: PENDING_KEY,
    queryFn: ({ signal }) => api.get<Page<OperatorAccessRequest>>('/api/v1/operator/access-requests', { status: 'pending', limit: 200 }, signal),
    refetchInterval: 30_000,
  });
}

/** The platform operator's console: partners, access requests, mailbox, audit. */
export function OperatorLayout() {
  const location = useLocation();
  const [opened, { toggle, close }] = useDisclosure(false);
  const pending = usePendingRequests();
  const count = pending.data?.data.length ?? 0;
  const links = [
    { to: '/operator', label: 'Partners', icon: IconBuildingStore, exact: true },
    { to: '/operator/access-requests', label: 'Access requests', icon: IconListCheck, badge: count },
    { to: '/operator/mailbox', label: 'Mailbox', icon: IconMail },
    { to: '/operator/audit', label: 'Audit events', icon: IconHistory },
  ];
  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 240, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="lg">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Link to="/operator" style={{ textDecoration: 'none', color: 'inherit' }} aria-label="Operator console home">
              <Brand suffix="Operator console" />
            </Link>
          </Group>
          <UserMenu profilePath="/operator/profile" />
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm" aria-label="Console">
        {links.map((l) => (
          <NavLink
            key={l.to}
            component={Link}
            to={l.to}
            label={l.label}
            leftSection={<l.icon size={18} stroke={1.6} />}
            rightSection={l.badge ? <Badge size="sm" color="orange" variant="filled" circle aria-label={`${l.badge} pending`}>{l.badge}</Badge> : null}
            active={l.exact ? location.pathname === l.to : location.pathname.startsWith(l.to)}
            onClick={close}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main bg="var(--mantine-color-gray-0)">
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
