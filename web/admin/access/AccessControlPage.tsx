import { useSearchParams } from 'react-router';
import { Paper, Tabs } from '@mantine/core';
import { IconKey, IconListCheck, IconMail, IconUsers } from '@tabler/icons-react';
import { PageHeader } from '../../shared/ui.tsx';
import { AccessRequestsTab } from './AccessRequestsTab.tsx';
import { ApiKeysTab } from './ApiKeysTab.tsx';
import { InvitationsTab } from './InvitationsTab.tsx';
import { StaffTab } from './StaffTab.tsx';

const TABS = ['staff', 'invitations', 'api-keys', 'requests'] as const;
type Tab = (typeof TABS)[number];

export function AccessControlPage() {
  const [params, setParams] = useSearchParams();
  const raw = params.get('tab');
  const tab: Tab = TABS.includes(raw as Tab) ? (raw as Tab) : 'staff';
  return (
    <>
      <PageHeader mb="lg" title="Access Control" description="Who can use which app, invitations, API keys, and requests for the Finance app." />
      <Paper withBorder radius="md" p="md">
        <Tabs value={tab} onChange={(v) => setParams(v && v !== 'staff' ? { tab: v } : {}, { replace: true })} keepMounted={false}>
          <Tabs.List mb="md">
            <Tabs.Tab value="staff" leftSection={<IconUsers size={16} />}>
              Staff
            </Tabs.Tab>
            <Tabs.Tab value="invitations" leftSection={<IconMail size={16} />}>
              Invitations
            </Tabs.Tab>
            <Tabs.Tab value="api-keys" leftSection={<IconKey size={16} />}>
              API keys
            </Tabs.Tab>
            <Tabs.Tab value="requests" leftSection={<IconListCheck size={16} />}>
              Access requests
            </Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="staff">
            <StaffTab />
          </Tabs.Panel>
          <Tabs.Panel value="invitations">
            <InvitationsTab />
          </Tabs.Panel>
          <Tabs.Panel value="api-keys">
            <ApiKeysTab />
          </Tabs.Panel>
          <Tabs.Panel value="requests">
            <AccessRequestsTab />
          </Tabs.Panel>
        </Tabs>
      </Paper>
    </>
  );
}
