import type { ReactNode } from 'react';
import { Anchor, Box, Center, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import { Brand } from './ui.tsx';

/** Sign-in and the other pages reached from an email link: one centered card. */
export function PublicLayout({ title, subtitle, children, width = 420 }: { title: string; subtitle?: ReactNode; children: ReactNode; width?: number }) {
  return (
    <Box mih="100vh" bg="var(--mantine-color-gray-0)" py={48} px="md">
      <Center>
        <Stack w="100%" maw={width} gap="lg">
          <Center>
            <Brand />
          </Center>
          <Paper withBorder shadow="sm" radius="md" p="xl" component="main">
            <Title order={1} size="h3" mb={subtitle ? 4 : 'md'}>
              {title}
            </Title>
            {subtitle ? (
              <Text c="dimmed" size="sm" mb="lg">
                {subtitle}
              </Text>
            ) : null}
            {children}
          </Paper>
          <Group justify="center" gap="lg">
            <Anchor component={Link} to="/login" size="xs" c="dimmed">
              Sign in
            </Anchor>
            <Anchor component={Link} to="/mailbox" size="xs" c="dimmed">
              Dev mailbox
            </Anchor>
          </Group>
        </Stack>
      </Center>
    </Box>
  );
}
