import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { Button, Group, Paper, Stack, Text, ThemeIcon, Title } from '@mantine/core';
import { IconLock } from '@tabler/icons-react';
import { appInfo } from '../shared/apps.tsx';
import { useSession } from '../shared/session.tsx';
import type { AppName } from '../shared/types.ts';
import { AppAccessPanel } from './AppAccess.tsx';

/** Shows an app only to staff who hold it; everyone else gets a "no access" page with the way to ask for it (docs/adr/0039, amendment). */
export function AppGate({ app, children }: { app: AppName; children: ReactNode }) {
  const session = useSession();
  if (session.apps.includes(app)) return <>{children}</>;
  const info = appInfo(app);
  return (
    <Stack maw={760} gap="lg">
      <Paper withBorder radius="md" p="xl" role="alert" aria-labelledby="no-access-title">
        <Group align="flex-start" wrap="nowrap">
          <ThemeIcon size={44} radius="md" color="red" variant="light">
            <IconLock size={24} />
          </ThemeIcon>
          <Stack gap={6}>
            <Title order={2} size="h3" id="no-access-title">
              No access to {info.label}
            </Title>
            <Text c="dimmed" size="sm">
              You have not been granted the {info.label} app.{' '}
              {app === 'finance'
                ? 'The platform operator grants the Finance app on request.'
                : 'A colleague who holds it and Access Control can grant it to you, or you can ask the platform operator.'}
            </Text>
            <Group mt="xs">
              <Button component={Link} to="/admin" variant="default">
                Back to home
              </Button>
            </Group>
          </Stack>
        </Group>
      </Paper>
      <AppAccessPanel app={app} />
    </Stack>
  );
}
