import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Anchor, Badge, Button, Collapse, Group, Modal, Paper, Select, Stack, Switch, Text, TextInput, Textarea } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconChevronDown, IconChevronRight, IconPlus, IconSearch } from '@tabler/icons-react';
import { api } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatDate } from '../../shared/format.ts';
import { formatMoney, isNegative } from '../../shared/money.ts';
import { usePagedList } from '../../shared/queries.ts';
import { useUrlFilters } from '../../shared/url-filters.ts';
import { DataTable, LoadMore, PageHeader, StatusBadge } from '../../shared/ui.tsx';
import type { CustomerFull, CustomerRow } from './customer-types.ts';

export const CUSTOMERS_KEY = ['customers'] as const;
export const CURRENCIES = ['SGD', 'MYR', 'HKD', 'AUD', 'USD', 'VND'];

const STATUS_OPTIONS = [
  { value: '', label: 'Any status' },
  { value: 'active', label: 'Active' },
  { value: 'suspended', label: 'Suspended' },
  { value: 'closed', label: 'Closed' },
];
const CURRENCY_OPTIONS = [{ value: '', label: 'Any currency' }, ...CURRENCIES.map((c) => ({ value: c, label: c }))];

export function CustomersPage() {
  const { filter, setFilters } = useUrlFilters();
  const [q, setQ] = useState(filter('q'));
  const [debounced] = useDebouncedValue(q.trim(), 300);
  const status = filter('status');
  const currency = filter('currency');
  const low = filter('low') === '1';
  const customers = usePagedList<CustomerRow>(CUSTOMERS_KEY, '/api/v1/customers', {
    q: debounced, status, currency, lowPoints: low ? 'true' : undefined, limit: 50,
  });
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const filtered = Boolean(debounced || status || currency || low);

  return (
    <>
      <PageHeader
        mb="lg"
        title="Customers"
        description="Customer organisations, their points, subscriptions, transactions, and everything the system has sent them."
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => setOpen(true)}>
            New customer
          </Button>
        }
      />
      <Paper withBorder radius="md" p="md">
        <Stack>
          <Group align="flex-end" gap="sm" role="search" aria-label="Find customers">
            <TextInput
              label="Search customers"
              placeholder="Name, billing email or id"
              leftSection={<IconSearch size={16} />}
              value={q}
              onChange={(e) => {
                setQ(e.currentTarget.value);
                setFilters({ q: e.currentTarget.value });
              }}
              w={320}
            />
            <Select label="Status" data={STATUS_OPTIONS} value={status} onChange={(v) => setFilters({ status: v ?? '' })} allowDeselect={false} w={160} />
            <Select label="Currency" data={CURRENCY_OPTIONS} value={currency} onChange={(v) => setFilters({ currency: v ?? '' })} allowDeselect={false} w={160} />
            <Switch
              label="Low points only"
              description="Usable below the threshold"
              checked={low}
              onChange={(e) => setFilters({ low: e.currentTarget.checked ? '1' : '' })}
              mb={4}
            />
          </Group>
          <DataTable
            label="Customers"
            rows={customers.rows}
            loading={customers.isPending}
            error={customers.error}
            onRetry={() => void customers.refetch()}
            rowKey={(c) => c.id}
            onRowClick={(c) => void navigate(`/admin/customer/${c.id}`)}
            emptyTitle={filtered ? 'No matching customers' : 'No customers yet'}
            emptyDescription={filtered ? 'Nothing matches this search and these filters.' : 'Create your first customer organisation.'}
            footer={<LoadMore hasNextPage={customers.hasNextPage} isFetchingNextPage={customers.isFetchingNextPage} onLoadMore={() => void customers.fetchNextPage()} />}
            columns={[
              {
                key: 'name',
                header: 'Name',
                card: 'title',
                render: (c) => (
                  <div>
                    <Anchor component={Link} to={`/admin/customer/${c.id}`} fw={500} size="sm" onClick={(e) => e.stopPropagation()}>
                      {c.name}
                    </Anchor>
                    {c.billingContact.email ? (
                      <Text size="xs" c="dimmed">
                        {c.billingContact.email}
                      </Text>
                    ) : null}
                  </div>
                ),
              },
              { key: 'currency', header: 'Currency', card: 'field', render: (c) => c.currency },
              { key: 'status', header: 'Status', card: 'status', render: (c) => <StatusBadge status={c.status} /> },
              {
                key: 'points',
                header: 'Points',
                align: 'right',
                card: 'field',
                render: (c) => (
                  <Text size="sm" style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }} c={isNegative(c.points) ? 'red.7' : undefined}>
                    {formatMoney(c.points)}
                  </Text>
                ),
              },
              {
                key: 'usable',
                header: 'Usable',
                align: 'right',
                card: 'field',
                render: (c) => (
                  <Group gap={6} justify="flex-end" wrap="nowrap">
                    {c.lowPoints ? (
                      <Badge color="orange" variant="light" radius="sm" size="sm">
                        Low
                      </Badge>
                    ) : null}
                    <Text size="sm" fw={500} style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>
                      {formatMoney(c.usable)}
                    </Text>
                  </Group>
                ),
                // On a phone's card, where values start on the left: the figure first, its Low badge after it.
                cardRender: (c) => (
                  <Group gap={6} wrap="nowrap">
                    <Text size="sm" fw={500} style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>
                      {formatMoney(c.usable)}
                    </Text>
                    {c.lowPoints ? (
                      <Badge color="orange" variant="light" radius="sm" size="sm">
                        Low
                      </Badge>
                    ) : null}
                  </Group>
                ),
              },
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

/** The billing contact fields, shared by the new-customer form and the profile editor. */
export function BillingContactFields({
  value, onChange, error,
}: {
  value: { name: string; email: string; phone: string; address: string };
  onChange: (next: { name: string; email: string; phone: string; address: string }) => void;
  error: unknown;
}) {
  const set = (key: keyof typeof value) => (e: { currentTarget: { value: string } }) => onChange({ ...value, [key]: e.currentTarget.value });
  return (
    <Stack gap="sm">
      <Group grow align="flex-start">
        <TextInput label="Billing contact name" value={value.name} onChange={set('name')} error={fieldError(error, 'billingContact.name')} maxLength={200} />
        <TextInput label="Billing email" type="email" value={value.email} onChange={set('email')} error={fieldError(error, 'billingContact.email')} />
      </Group>
      <Group grow align="flex-start">
        <TextInput label="Billing phone" placeholder="+65 6123 4567" value={value.phone} onChange={set('phone')} error={fieldError(error, 'billingContact.phone')} />
        <Textarea label="Billing address" value={value.address} onChange={set('address')} error={fieldError(error, 'billingContact.address')} autosize minRows={2} maxRows={5} maxLength={1000} />
      </Group>
    </Stack>
  );
}

export const BILLING_FIELDS = ['billingContact.name', 'billingContact.email', 'billingContact.phone', 'billingContact.address'];

/** Empty text means "no value": sent as null so an edit can clear a field. */
export function billingBody(v: { name: string; email: string; phone: string; address: string }) {
  const orNull = (s: string) => (s.trim() === '' ? null : s.trim());
  return { name: orNull(v.name), email: orNull(v.email), phone: orNull(v.phone), address: orNull(v.address) };
}

const EMPTY_BILLING = { name: '', email: '', phone: '', address: '' };

/** Names compared as people read them: case, and spaces around and between words, make no difference. */
export function sameCustomerName(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().replace(/\s+/g, ' ').toLocaleLowerCase();
  return norm(a) !== '' && norm(a) === norm(b);
}

/**
 * The partner's customers already named as the one being created (any status), found by the list's search as the
 * name is typed. Two organisations may share a name, so this warns and does not refuse: staff check it is not the
 * same organisation created twice.
 */
function useCustomersNamed(name: string) {
  const [debounced] = useDebouncedValue(name.trim().replace(/\s+/g, ' '), 300);
  const found = useQuery({
    queryKey: [...CUSTOMERS_KEY, 'named', debounced],
    queryFn: ({ signal }) => api.get<{ data: CustomerRow[] }>('/api/v1/customers', { q: debounced, limit: 100 }, signal),
    enabled: debounced.length >= 2,
    staleTime: 10_000,
  });
  return debounced.length >= 2 ? (found.data?.data ?? []).filter((c) => sameCustomerName(c.name, debounced)) : [];
}

function NewCustomerModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [currency, setCurrency] = useState<string | null>('SGD');
  const [ownerName, setOwnerName] = useState('');
  const [ownerEmail, setOwnerEmail] = useState('');
  const [showBilling, setShowBilling] = useState(false);
  const [billing, setBilling] = useState(EMPTY_BILLING);
  const namesake = useCustomersNamed(name);
  const create = useMutation({
    mutationFn: () => {
      const contact = billingBody(billing);
      const hasContact = Object.values(contact).some((v) => v !== null);
      return api.post<CustomerFull>('/api/v1/customers', {
        name: name.trim(), currency: currency ?? '', ownerName: ownerName.trim(), ownerEmail: ownerEmail.trim(),
        ...(hasContact ? { billingContact: contact } : {}),
      });
    },
    onSuccess: async (c) => {
      notifications.show({ color: 'teal', title: 'Customer created', message: `${c.name} is created and ${ownerEmail.trim()} is invited as its owner.` });
      await queryClient.invalidateQueries({ queryKey: CUSTOMERS_KEY });
      onClose();
      setName('');
      setOwnerName('');
      setOwnerEmail('');
      setBilling(EMPTY_BILLING);
      setShowBilling(false);
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
          <FormError error={create.error} fields={['name', 'currency', 'ownerName', 'ownerEmail', ...(showBilling ? BILLING_FIELDS : [])]} />
          <Group grow align="flex-start">
            <TextInput label="Organisation name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(create.error, 'name')} required data-autofocus />
            <Select label="Currency" data={CURRENCIES} value={currency} onChange={setCurrency} error={fieldError(create.error, 'currency')} allowDeselect={false} required description="Fixed once money has moved" />
          </Group>
          {namesake.length > 0 && (
            <Alert color="yellow" variant="light" icon={<IconAlertTriangle size={16} />} title="A customer with this name already exists" data-testid="same-name-warning">
              <Stack gap={4}>
                {namesake.slice(0, 3).map((c) => (
                  <Text size="sm" key={c.id}>
                    <Anchor component={Link} to={`/admin/customer/${c.id}`} onClick={onClose}>{c.name}</Anchor>
                    {` · ${c.currency} · ${c.status} · created ${formatDate(c.createdAt)}`}
                  </Text>
                ))}
                {namesake.length > 3 && <Text size="sm">{`and ${namesake.length - 3} more`}</Text>}
                <Text size="sm" c="dimmed">Check it is not the same organisation. You can still create this one.</Text>
              </Stack>
            </Alert>
          )}
          <Group grow align="flex-start">
            <TextInput label="Owner name" value={ownerName} onChange={(e) => setOwnerName(e.currentTarget.value)} error={fieldError(create.error, 'ownerName')} required />
            <TextInput label="Owner email" type="email" value={ownerEmail} onChange={(e) => setOwnerEmail(e.currentTarget.value)} error={fieldError(create.error, 'ownerEmail')} required />
          </Group>
          <Button
            variant="subtle"
            size="compact-sm"
            leftSection={showBilling ? <IconChevronDown size={14} /> : <IconChevronRight size={14} />}
            onClick={() => setShowBilling((s) => !s)}
            aria-expanded={showBilling}
            style={{ alignSelf: 'flex-start' }}
          >
            Billing contact (optional)
          </Button>
          <Collapse expanded={showBilling}>
            <BillingContactFields value={billing} onChange={setBilling} error={create.error} />
          </Collapse>
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
