import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Anchor, Button, Group, Modal, Paper, Select, Stack, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconPlus, IconSearch } from '@tabler/icons-react';
import { api } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatDate } from '../../shared/format.ts';
import { usePagedList } from '../../shared/queries.ts';
import { DataTable, LoadMore, PageHeader, StatusBadge } from '../../shared/ui.tsx';
import type { Customer } from '../../shared/types.ts';

export const CUSTOMERS_KEY = ['customers'] as const;
export const CURRENCIES = ['SGD', 'MYR', 'HKD', 'AUD', 'USD', 'VND'];

export function CustomersPage() {
  const [params, setParams] = useSearchParams();
  const [q, setQ] = useState(params.get('q') ?? '');
  const [debounced] = useDebouncedValue(q.trim(), 300);
  const customers = usePagedList<Customer>(CUSTOMERS_KEY, '/api/v1/customers', { q: debounced });
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);

  return (
    <>
      <PageHeader
        mb="lg"
        title="Customers"
        description="Customer organisations, their users, and everything the system has sent them."
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => setOpen(true)}>
            New customer
          </Button>
        }
      />
      <Paper withBorder radius="md" p="md">
        <Stack>
          <TextInput
            label="Search customers"
            placeholder="Name"
            leftSection={<IconSearch size={16} />}
            value={q}
            onChange={(e) => {
              setQ(e.currentTarget.value);
              setParams(e.currentTarget.value ? { q: e.currentTarget.value } : {}, { replace: true });
            }}
            maw={360}
          />
          <DataTable
            label="Customers"
            rows={customers.rows}
            loading={customers.isPending}
            error={customers.error}
            onRetry={() => void customers.refetch()}
            rowKey={(c) => c.id}
            onRowClick={(c) => void navigate(`/admin/customer/${c.id}`)}
            emptyTitle={debounced ? 'No matching customers' : 'No customers yet'}
            emptyDescription={debounced ? `Nothing matches “${debounced}”.` : 'Create your first customer organisation.'}
            footer={<LoadMore hasNextPage={customers.hasNextPage} isFetchingNextPage={customers.isFetchingNextPage} onLoadMore={() => void customers.fetchNextPage()} />}
            columns={[
              {
                key: 'name',
                header: 'Name',
                render: (c) => (
                  <Anchor component={Link} to={`/admin/customer/${c.id}`} fw={500} size="sm" onClick={(e) => e.stopPropagation()}>
                    {c.name}
                  </Anchor>
                ),
              },
              { key: 'currency', header: 'Currency', render: (c) => c.currency },
              { key: 'status', header: 'Status', render: (c) => <StatusBadge status={c.status} /> },
              { key: 'users', header: 'Users', align: 'right', render: (c) => c.userCount },
              { key: 'created', header: 'Created', render: (c) => formatDate(c.createdAt) },
            ]}
          />
        </Stack>
      </Paper>
      <NewCustomerModal opened={open} onClose={() => setOpen(false)} />
    </>
  );
}

function NewCustomerModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [currency, setCurrency] = useState<string | null>('SGD');
  const [ownerName, setOwnerName] = useState('');
  const [ownerEmail, setOwnerEmail] = useState('');
  const create = useMutation({
    mutationFn: () => api.post<Customer>('/api/v1/customers', { name: name.trim(), currency: currency ?? '', ownerName: ownerName.trim(), ownerEmail: ownerEmail.trim() }),
    onSuccess: async (c) => {
      notifications.show({ color: 'teal', title: 'Customer created', message: `${c.name} is created and ${ownerEmail.trim()} is invited as its owner.` });
      await queryClient.invalidateQueries({ queryKey: CUSTOMERS_KEY });
      onClose();
      setName('');
      setOwnerName('');
      setOwnerEmail('');
      create.reset();
      await navigate(`/admin/customer/${c.id}`);
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <Modal opened={opened} onClose={onClose} title="New customer" centered size="lg">
      <form onSubmit={onSubmit} noValidate aria-label="New customer">
        <Stack>
          <FormError error={create.error} fields={['name', 'currency', 'ownerName', 'ownerEmail']} />
          <Group grow align="flex-start">
            <TextInput label="Organisation name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(create.error, 'name')} required data-autofocus />
            <Select label="Currency" data={CURRENCIES} value={currency} onChange={setCurrency} error={fieldError(create.error, 'currency')} allowDeselect={false} required />
          </Group>
          <Group grow align="flex-start">
            <TextInput label="Owner name" value={ownerName} onChange={(e) => setOwnerName(e.currentTarget.value)} error={fieldError(create.error, 'ownerName')} required />
            <TextInput label="Owner email" type="email" value={ownerEmail} onChange={(e) => setOwnerEmail(e.currentTarget.value)} error={fieldError(create.error, 'ownerEmail')} required />
          </Group>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Create and invite owner
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
