import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Badge, Button, Code, CopyButton, Group, Modal, Stack, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconCheck, IconCopy, IconKey } from '@tabler/icons-react';
import { api } from '../../shared/api.ts';
import { APPS } from '../../shared/apps.tsx';
import { ConfirmButton } from '../../shared/ConfirmButton.tsx';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatDateTime, formatRelative } from '../../shared/format.ts';
import { usePagedList } from '../../shared/queries.ts';
import { useSession } from '../../shared/session.tsx';
import { DataTable, LoadMore, StatusBadge } from '../../shared/ui.tsx';
import type { ApiKey, AppName } from '../../shared/types.ts';
import { AppPicker } from './AppPicker.tsx';

const KEYS_KEY = ['api-keys'] as const;

export function ApiKeysTab() {
  const session = useSession();
  const queryClient = useQueryClient();
  const keys = usePagedList<ApiKey>(KEYS_KEY, '/api/v1/api-keys');
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [apps, setApps] = useState<AppName[]>([]);
  const [created, setCreated] = useState<(ApiKey & { token: string }) | null>(null);
  const create = useMutation({
    mutationFn: () => api.post<ApiKey & { token: string }>('/api/v1/api-keys', { name: name.trim(), apps }),
    onSuccess: async (key) => {
      setOpen(false);
      setName('');
      setApps([]);
      create.reset();
      setCreated(key);
      await queryClient.invalidateQueries({ queryKey: KEYS_KEY });
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const revoke = async (k: ApiKey) => {
    await api.post(`/api/v1/api-keys/${k.id}/revoke`);
    notifications.show({ color: 'teal', message: `API key “${k.name}” revoked.` });
    await queryClient.invalidateQueries({ queryKey: KEYS_KEY });
  };

  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          Keys let your own systems call the Folio API for the apps you choose, as long as the person who made the key holds them (a disabled person’s keys are revoked). Send them as <Code>Authorization: Bearer fk_…</Code>
        </Text>
        <Button leftSection={<IconKey size={16} />} onClick={() => setOpen(true)}>
          Create API key
        </Button>
      </Group>
      <DataTable
        label="API keys"
        rows={keys.rows}
        loading={keys.isPending}
        error={keys.error}
        onRetry={() => void keys.refetch()}
        rowKey={(k) => k.id}
        emptyTitle="No API keys"
        emptyDescription="Create a key to connect your own systems."
        footer={<LoadMore hasNextPage={keys.hasNextPage} isFetchingNextPage={keys.isFetchingNextPage} onLoadMore={() => void keys.fetchNextPage()} />}
        columns={[
          { key: 'name', header: 'Name', render: (k) => <Text size="sm" fw={500}>{k.name}</Text> },
          { key: 'prefix', header: 'Key', render: (k) => <Code>{k.prefix}…</Code> },
          {
            key: 'apps',
            header: 'Apps',
            render: (k) => (
              <Group gap={4}>
                {APPS.filter((a) => k.apps.includes(a.name)).map((a) => (
                  <Badge key={a.name} size="sm" variant="outline" radius="sm">
                    {a.label}
                  </Badge>
                ))}
              </Group>
            ),
          },
          { key: 'created', header: 'Created', render: (k) => formatDateTime(k.createdAt) },
          { key: 'maker', header: 'Made by', render: (k) => (k.createdBy ? `${k.createdBy.name}${k.createdBy.kind === 'api_key' ? ' (API key)' : ''}` : 'Folio') },
          { key: 'used', header: 'Last used', render: (k) => formatRelative(k.lastUsedAt) },
          { key: 'status', header: 'Status', render: (k) => <StatusBadge status={k.revokedAt ? 'revoked' : 'active'} /> },
          {
            key: 'actions',
            header: <VisuallyHidden>Actions</VisuallyHidden>,
            align: 'right',
            render: (k) =>
              k.revokedAt ? null : (
                <ConfirmButton
                  label="Revoke"
                  ariaLabel={`Revoke API key ${k.name}`}
                  title={`Revoke “${k.name}”?`}
                  message="Systems using this key stop working at once. This cannot be undone."
                  color="red"
                  onConfirm={() => revoke(k)}
                />
              ),
          },
        ]}
      />
      <Modal opened={open} onClose={() => setOpen(false)} title="Create API key" centered size="lg">
        <form onSubmit={onSubmit} noValidate aria-label="Create API key">
          <Stack>
            <FormError error={create.error} fields={['name', 'apps']} />
            <TextInput label="Key name" description="What will use it, e.g. “Accounting sync”" value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(create.error, 'name')} required data-autofocus />
            <AppPicker
              label="Apps this key may use"
              value={apps}
              onChange={setApps}
              allowed={(a) => session.apps.includes(a)}
              error={fieldError(create.error, 'apps')}
            />
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button type="submit" loading={create.isPending}>
                Create key
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
      <Modal opened={created !== null} onClose={() => setCreated(null)} title="Your new API key" centered size="lg" closeOnClickOutside={false}>
        {created ? (
          <Stack>
            <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />}>
              Copy this key now. For your security it will not be shown again.
            </Alert>
            <Text size="sm" fw={500}>
              {created.name}
            </Text>
            <Code block aria-label="API key token" style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>
              {created.token}
            </Code>
            <Group justify="space-between">
              {/* The clipboard is only there for a page served over HTTPS (or from localhost). */}
              {'clipboard' in navigator ? (
                <CopyButton value={created.token}>
                  {({ copied, copy }) => (
                    <Button variant="light" color={copied ? 'teal' : 'indigo'} leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />} onClick={copy}>
                      {copied ? 'Copied' : 'Copy key'}
                    </Button>
                  )}
                </CopyButton>
              ) : (
                <Text size="sm" c="dimmed">
                  Select the key above and copy it.
                </Text>
              )}
              <Button onClick={() => setCreated(null)}>I have copied it</Button>
            </Group>
          </Stack>
        ) : null}
      </Modal>
    </Stack>
  );
}
