import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Divider, Group, Paper, SimpleGrid, Stack, Switch, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle } from '@tabler/icons-react';
import { apiRequest, isApiError } from '../shared/api.ts';
import { FormError, fieldError } from '../shared/forms.tsx';
import { ErrorState, LoadingState, PageHeader } from '../shared/ui.tsx';
import type { PortalConfig, PortalTabs } from '../shared/types.ts';
import { InvoicingSettings } from './settings/InvoicingSettings.tsx';
import { TopUpPolicySettings } from './settings/TopUpPolicySettings.tsx';
import { ContactSalesTestButton } from './settings/ContactSalesTestButton.tsx';
import { useSession } from '../shared/session.tsx';

const CONFIG_KEY = ['settings', 'portal'] as const;

const TAB_INFO: { key: keyof PortalTabs; label: string; description: string }[] = [
  { key: 'invoices', label: 'Invoices', description: 'Customers see their invoices and can pay Purchase invoices with points or card.' },
  { key: 'points', label: 'Points', description: 'Prepaid balance (credits) and top-ups.' },
  { key: 'services', label: 'Services', description: 'Subscriptions, numbers, virtual lines and wallboards.' },
  { key: 'audit', label: 'Audit', description: 'The organisation’s own account and service activity.' },
];

interface Loaded {
  config: PortalConfig;
  etag: string | null;
}

async function loadConfig(signal?: AbortSignal): Promise<Loaded> {
  const res = await apiRequest<PortalConfig>('/api/v1/settings/portal', { signal });
  return { config: res.data, etag: res.headers.get('etag') };
}

export function PortalSettingsPage() {
  const queryClient = useQueryClient();
  // Staff sign-in codes are a rule of Access Control (the server refuses it to anyone else).
  const canSetStaffSignIn = useSession().apps.includes('access');
  const loaded = useQuery({ queryKey: CONFIG_KEY, queryFn: ({ signal }) => loadConfig(signal) });
  const [form, setForm] = useState<PortalConfig | null>(null);
  const [contactEmail, setContactEmail] = useState('');
  const [replyToName, setReplyToName] = useState('');
  useEffect(() => {
    if (loaded.data) {
      setForm(loaded.data.config);
      setContactEmail(loaded.data.config.contactSalesEmail ?? '');
      setReplyToName(loaded.data.config.contactSalesReplyToName ?? '');
    }
  }, [loaded.data]);

  const save = useMutation({
    mutationFn: async () => {
      if (!form || !loaded.data) throw new Error('Settings not loaded');
      const body = {
        portalTabs: form.portalTabs,
        contactSalesEmail: contactEmail.trim() === '' ? null : contactEmail.trim(),
        contactSalesReplyToName: replyToName.trim() === '' ? null : replyToName.trim(),
        staffTwoFactorRequired: form.staffTwoFactorRequired,
      };
      const res = await apiRequest<PortalConfig>('/api/v1/settings/portal', {
        method: 'PATCH',
        body,
        headers: loaded.data.etag ? { 'if-match': loaded.data.etag } : {},
      });
      return { config: res.data, etag: res.headers.get('etag') };
    },
    onSuccess: (next) => {
      queryClient.setQueryData(CONFIG_KEY, next);
      notifications.show({ color: 'teal', title: 'Saved', message: 'Portal settings are updated. Customers see the change on their next page load.' });
    },
  });
  const stale = isApiError(save.error) && save.error.status === 412;

  if (loaded.isError && !loaded.data) return <ErrorState error={loaded.error} onRetry={() => void loaded.refetch()} title="Could not load portal settings" />;
  if (!form || !loaded.data) return <LoadingState label="Loading portal settings…" />;

  const original = loaded.data.config;
  const dirty =
    JSON.stringify(form.portalTabs) !== JSON.stringify(original.portalTabs) ||
    form.staffTwoFactorRequired !== original.staffTwoFactorRequired ||
    (contactEmail.trim() || null) !== (original.contactSalesEmail ?? null) ||
    (replyToName.trim() || null) !== (original.contactSalesReplyToName ?? null);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const reload = async () => {
    save.reset();
    await loaded.refetch();
  };

  return (
    <Stack maw={820}>
      <PageHeader title="Portal Settings" description="What your customers see in their portal, and how your staff sign in." />
      <form onSubmit={onSubmit} noValidate aria-label="Portal settings">
        <Stack>
          {stale ? (
            <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />} title="Someone else changed these settings" role="alert">
              <Group justify="space-between">
                <Text size="sm">Your changes were not saved. Reload the latest settings, then make your changes again.</Text>
                <Button size="xs" variant="light" color="orange" onClick={() => void reload()}>
                  Reload latest
                </Button>
              </Group>
            </Alert>
          ) : (
            <FormError error={save.error} fields={['contactSalesEmail', 'contactSalesReplyToName']} />
          )}
          <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="portal-tabs-title">
            <Title order={3} size="h5" id="portal-tabs-title">
              Portal tabs
            </Title>
            <Text size="sm" c="dimmed" mb="md">
              Choose which tabs customers see on their portal Home.
            </Text>
            <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="lg">
              {TAB_INFO.map((t) => (
                <Switch
                  key={t.key}
                  label={`${t.label} tab`}
                  description={t.description}
                  checked={form.portalTabs[t.key]}
                  onChange={(e) => {
                    const checked = e.currentTarget.checked;
                    setForm((f) => (f ? { ...f, portalTabs: { ...f.portalTabs, [t.key]: checked } } : f));
                  }}
                />
              ))}
            </SimpleGrid>
          </Paper>
          <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="contact-title">
            <Title order={3} size="h5" id="contact-title">
              Contact sales
            </Title>
            <Text size="sm" c="dimmed" mb="md">
              The address customers see and reply to when they want to buy more: the portal's Contact sales form writes to it, and sales
              notifications (renewals, top-up policy changes, low balance) carry it as Reply-To. Without an address the portal hides Contact sales.
            </Text>
            <SimpleGrid cols={{ base: 1, sm: 2 }} maw={760}>
              <TextInput
                label="Contact-sales email"
                type="email"
                placeholder="sales@example.com"
                value={contactEmail}
                onChange={(e) => setContactEmail(e.currentTarget.value)}
                error={fieldError(save.error, 'contactSalesEmail')}
                maxLength={254}
              />
              <TextInput
                label="Reply-to name"
                placeholder="Example Telecom Sales"
                description="Shown with the address (optional)"
                value={replyToName}
                onChange={(e) => setReplyToName(e.currentTarget.value)}
                error={fieldError(save.error, 'contactSalesReplyToName')}
                maxLength={100}
              />
            </SimpleGrid>
            <ContactSalesTestButton saved={original.contactSalesEmail} unsaved={dirty} />
          </Paper>
          <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="staff-signin-title">
            <Title order={3} size="h5" id="staff-signin-title">
              Staff sign-in
            </Title>
            <Divider my="sm" />
            <Switch
              label="Require two-step sign-in for staff"
              description={canSetStaffSignIn
                ? 'Staff get a 6-digit code by email after their password. Recommended.'
                : 'Staff get a 6-digit code by email after their password. Only staff with Access Control change this.'}
              disabled={!canSetStaffSignIn}
              checked={form.staffTwoFactorRequired}
              onChange={(e) => {
                const checked = e.currentTarget.checked;
                setForm((f) => (f ? { ...f, staffTwoFactorRequired: checked } : f));
              }}
            />
          </Paper>
          <Group justify="flex-end">
            <Button
              variant="default"
              disabled={!dirty || save.isPending}
              onClick={() => {
                setForm(original);
                setContactEmail(original.contactSalesEmail ?? '');
                setReplyToName(original.contactSalesReplyToName ?? '');
                save.reset();
              }}
            >
              Discard changes
            </Button>
            <Button type="submit" loading={save.isPending} disabled={!dirty || stale}>
              Save changes
            </Button>
          </Group>
        </Stack>
      </form>
      <TopUpPolicySettings />
      <InvoicingSettings />
    </Stack>
  );
}
