import { Link } from 'react-router';
import { Avatar, Box, Group, Menu, Text, UnstyledButton } from '@mantine/core';
import { IconChevronDown, IconLogout, IconUser } from '@tabler/icons-react';
import { useSession, useSignOut } from './session.tsx';

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? '') + (parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? '') : '')).toUpperCase() || '?';
}

/** Avatar button with the signed-in user's name, opening Profile and Sign out. */
export function UserMenu({ profilePath }: { profilePath: string }) {
  const session = useSession();
  const signOut = useSignOut();
  return (
    <Menu position="bottom-end" width={240} shadow="md">
      <Menu.Target>
        <UnstyledButton aria-label={`User menu for ${session.user.name}`} px={6} py={4} style={{ borderRadius: 8 }}>
          <Group gap="xs" wrap="nowrap" miw={0}>
            <Avatar color="indigo" radius="xl" size={32}>
              {initials(session.user.name)}
            </Avatar>
            {/* A long name or email is cut with an ellipsis (the whole of it in its title), narrower on a tablet, so the
                header keeps its one line instead of pushing the menu off the right edge; the organisation's name beside
                the links keeps some room. */}
            <Box visibleFrom="sm" maw={{ base: 150, lg: 220 }} miw={0}>
              <Text size="sm" fw={500} lh={1.2} truncate="end" title={session.user.name}>
                {session.user.name}
              </Text>
              <Text size="xs" c="dimmed" lh={1.2} truncate="end" title={session.user.email}>
                {session.user.email}
              </Text>
            </Box>
            <IconChevronDown size={14} style={{ flex: 'none' }} />
          </Group>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>Signed in as {session.user.email}</Menu.Label>
        <Menu.Item component={Link} to={profilePath} leftSection={<IconUser size={16} />}>
          Profile
        </Menu.Item>
        <Menu.Divider />
        <Menu.Item color="red" leftSection={<IconLogout size={16} />} onClick={() => signOut.mutate()}>
          Sign out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}
