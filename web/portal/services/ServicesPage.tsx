import { useSearchParams } from 'react-router';
import { Alert, Paper, Stack, Tabs } from '@mantine/core';
import { IconDeviceDesktopAnalytics, IconLock, IconPhoneCall } from '@tabler/icons-react';
import { titleCase } from '../../shared/format.ts';
import { useSession } from '../../shared/session.tsx';
import { PageHeader } from '../../shared/ui.tsx';
import { VirtualLinesTab } from './VirtualLinesTab.tsx';
import { WallboardsTab } from './WallboardsTab.tsx';

type ServicesTab = 'lines' | 'wallboards';

/**
 * The portal's Services page: the organisation's virtual lines and wallboards. Owners and admins manage them; members and
 * guests see them read only, with a note saying why. Hidden when the provider turns the Services tab off.
 */
export function ServicesPage() {
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const role = session.customer?.role ?? 'guest';
  const canManage = role === 'owner' || role === 'admin';
  const current: ServicesTab = params.get('tab') === 'wallboards' ? 'wallboards' : 'lines';

  if (session.portalTabs && !session.portalTabs.services) {
    return (
      <Stack>
        <PageHeader title="Services" />
        <Alert color="gray" icon={<IconLock size={18} />} title="Services are hidden">
          Your provider has hidden the Services section. Contact them if you need to change your lines or wallboards.
        </Alert>
      </Stack>
    );
  }

  return (
    <Stack>
      <PageHeader title="Services" description={`Virtual lines and wallboards of ${session.customer?.name ?? 'your organisation'}.`} />
      {!canManage ? (
        <Alert color="blue" variant="light" icon={<IconLock size={18} />} title="View only" data-testid="services-read-only">
          You can see your organisation&apos;s services. Only owners and admins can add, change or remove them; your role is {titleCase(role)}.
        </Alert>
      ) : null}
      <Paper withBorder radius="md" p="md">
        <Tabs value={current} onChange={(v) => v && setParams({ tab: v }, { replace: true })} keepMounted={false}>
          <Tabs.List mb="md" aria-label="Services">
            <Tabs.Tab value="lines" leftSection={<IconPhoneCall size={16} />}>
              Virtual lines
            </Tabs.Tab>
            <Tabs.Tab value="wallboards" leftSection={<IconDeviceDesktopAnalytics size={16} />}>
              Wallboards
            </Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="lines">
            <VirtualLinesTab canManage={canManage} />
          </Tabs.Panel>
          <Tabs.Panel value="wallboards">
            <WallboardsTab canManage={canManage} />
          </Tabs.Panel>
        </Tabs>
      </Paper>
    </Stack>
  );
}
