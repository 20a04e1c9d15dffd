import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Group, List, Modal, Paper, Select, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconMailForward, IconPencil } from '@tabler/icons-react';
import { apiRequest, isApiError, api } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatDate, formatDateTime, formatRelative, titleCase } from '../../shared/format.ts';
import { formatMoney, toMicros } from '../../shared/money.ts';
import { StatusBadge } from '../../shared/ui.tsx';
import { CUSTOMER_STATUSES, type CustomerFull } from './customer-types.ts';
import { BILLING_FIELDS, BillingContactFields, CURRENCIES, CUSTOMERS_KEY, billingBody } from './CustomersPage.tsx';

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" mt={2} component="div" style={{ whiteSpace: 'pre-wrap' }}>
        {children}
      </Text>
    </div>
  );
}

/** Customer detail > Profile: the organisation, its billing contact and its owner; edits are audited with before and after. */
export function CustomerProfile({ customer: c, etag }: { customer: CustomerFull; etag: string | null }) {
  const [editing, setEditing] = useState(false);
  const b = c.billingContact;
  return (
    <Stack gap="lg">
      <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="profile-title">
        <Group justify="space-between" mb="md">
          <Title order={3} size="h4" id="profile-title">
            Organisation
          </Title>
          <Button size="xs" variant="light" leftSection={<IconPencil size={14} />} onClick={() => setEditing(true)}>
            Edit profile
          </Button>
        </Group>
        <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="lg">
          <Field label="Organisation name">{c.name}</Field>
          <Field label="Currency">
            {c.currency}
            {c.currencyLocked ? (
              <Text span size="xs" c="dimmed">
                {' '}
                (fixed)
              </Text>
            ) : null}
          </Field>
          <Field label="Status">
            <StatusBadge status={c.status} />
          </Field>
          <Field label="Usable points">{formatMoney(c.usable, c.currency)}</Field>
          <Field label="Created">{formatDate(c.createdAt)}</Field>
          <Field label="Last changed">{formatDateTime(c.updatedAt)}</Field>
          <Field label="Users">{c.userCount}</Field>
        </SimpleGrid>
      </Paper>
      <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="billing-title">
        <Title order={3} size="h4" mb="md" id="billing-title">
          Billing contact
        </Title>
        <SimpleGrid cols={{ base: 1, sm: 4 }} spacing="lg" data-testid="billing-contact">
          <Field label="Name">{b.name ?? '—'}</Field>
          <Field label="Email">{b.email ?? '—'}</Field>
          <Field label="Phone">{b.phone ?? '—'}</Field>
          <Field label="Address">{b.address ?? '—'}</Field>
        </SimpleGrid>
      </Paper>
      <OwnerSection customer={c} />
      <EditProfileDialog key={`${c.id}:${c.updatedAt}:${String(editing)}`} opened={editing} onClose={() => setEditing(false)} customer={c} etag={etag} />
    </Stack>
  );
}

function EditProfileDialog({ opened, onClose, customer: c, etag }: { opened: boolean; onClose: () => void; customer: CustomerFull; etag: string | null }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(c.name);
  const [currency, setCurrency] = useState<string | null>(c.currency);
  const [status, setStatus] = useState<string | null>(c.status);
  // Closing asks first, saying what it means for this customer; nothing is sent until it is confirmed.
  const [confirmingClose, setConfirmingClose] = useState(false);
  const [billing, setBilling] = useState({
    name: c.billingContact.name ?? '', email: c.billingContact.email ?? '', phone: c.billingContact.phone ?? '', address: c.billingContact.address ?? '',
  });
  const save = useMutation({
    mutationFn: async () => {
      const res = await apiRequest<CustomerFull>(`/api/v1/customers/${encodeURIComponent(c.id)}`, {
        method: 'PATCH',
        body: { name: name.trim(), ...(currency !== c.currency ? { currency } : {}), status, billingContact: billingBody(billing) },
        headers: etag ? { 'if-match': etag } : {},
      });
      return { customer: res.data, etag: res.headers.get('etag') };
    },
    onError: () => setConfirmingClose(false),
    onSuccess: async (data) => {
      queryClient.setQueryData(['customers', c.id], data);
      notifications.show({ color: 'teal', message: `${data.customer.name} is saved.` });
      onClose();
      await queryClient.invalidateQueries({ queryKey: CUSTOMERS_KEY });
    },
  });
  const stale = isApiError(save.error) && save.error.status === 412;
  const closing = status === 'closed' && c.status !== 'closed';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (closing) setConfirmingClose(true);
    else save.mutate();
  };
  if (confirmingClose) {
    return (
      <Modal opened={opened} onClose={() => setConfirmingClose(false)} title={`Close ${c.name}?`} centered size="lg">
        <CloseConsequences customer={c} />
        <Group justify="flex-end" mt="lg">
          <Button variant="default" onClick={() => setConfirmingClose(false)}>
            Cancel
          </Button>
          <Button color="red" loading={save.isPending} onClick={() => save.mutate()}>
            Close customer
          </Button>
        </Group>
      </Modal>
    );
  }
  return (
    <Modal opened={opened} onClose={onClose} title="Edit profile" centered size="lg">
      <form onSubmit={submit} noValidate aria-label="Edit profile">
        <Stack>
          {stale ? (
            <Alert color="orange" variant="light" role="alert" title="Changed by someone else">
              <Stack gap="xs">
                <Text size="sm">This customer was changed since you opened it. Reload to see the latest, then make your change again.</Text>
                <Group>
                  <Button size="xs" variant="light" color="orange" onClick={() => void queryClient.invalidateQueries({ queryKey: ['customers', c.id] }).then(onClose)}>
                    Reload
                  </Button>
                </Group>
              </Stack>
            </Alert>
          ) : (
            <FormError error={save.error} fields={['name', 'currency', 'status', ...BILLING_FIELDS]} />
          )}
          <TextInput label="Organisation name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(save.error, 'name')} required data-autofocus />
          <Group grow align="flex-start">
            <Select
              label="Currency"
              data={CURRENCIES}
              value={currency}
              onChange={setCurrency}
              allowDeselect={false}
              disabled={c.currencyLocked}
              description={c.currencyLocked ? 'Fixed: money has already moved for this customer' : 'Can change until money moves'}
              error={fieldError(save.error, 'currency')}
            />
            <Select
              label="Status"
              data={CUSTOMER_STATUSES.map((s) => ({ value: s, label: titleCase(s) }))}
              value={status}
              onChange={setStatus}
              allowDeselect={false}
              error={fieldError(save.error, 'status')}
            />
          </Group>
          <Title order={4} size="h5" mt="xs">
            Billing contact
          </Title>
          <BillingContactFields value={billing} onChange={setBilling} error={save.error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              Save changes
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/**
 * What closing a customer means, in its own figures (src/customers: points, open invoices, active subscriptions), as the
 * API treats a closed customer: its people still sign in, read and pay what is due; no top-up, sale, purchase,
 * invitation, points issued or invoice issued, and its calls are refused; nothing is refunded or ended by closing.
 */
function CloseConsequences({ customer: c }: { customer: CustomerFull }) {
  const points = toMicros(c.points) ?? 0n;
  return (
    <Stack gap="sm" data-testid="close-consequences">
      <Text size="sm">
        Its people can still sign in to the portal to read invoices and statements and pay what is due. From then on, no points can be topped up or issued,
        nothing can be bought or sold, no invoice issued and no one invited, and its calls are refused. Auto top-up and low balance alerts stop.
      </Text>
      <List size="sm" spacing={6}>
        <List.Item data-testid="close-points">
          {points === 0n
            ? 'Points: none.'
            : `Points: ${formatMoney(c.points, c.currency)} (usable ${formatMoney(c.usable, c.currency)}) stay on the account; closing refunds nothing.`}
        </List.Item>
        <List.Item data-testid="close-open-invoices">
          {c.openInvoices.count === 0
            ? 'Open invoices: none.'
            : `Open invoices: ${c.openInvoices.count} still ${c.openInvoices.count === 1 ? 'asks' : 'ask'} for ${formatMoney(c.openInvoices.amountDue, c.currency)} in all, and ${c.openInvoices.count === 1 ? 'stays' : 'stay'} due.`}
        </List.Item>
        <List.Item data-testid="close-subscriptions">
          {c.activeSubscriptions === 0
            ? 'Active subscriptions: none.'
            : `Active subscriptions: ${c.activeSubscriptions}. Closing turns auto-renew off: ${c.activeSubscriptions === 1 ? 'it runs' : 'they run'} to the end of the period paid, then ${c.activeSubscriptions === 1 ? 'expires' : 'expire'}; nothing is refunded (terminate to refund).`}
        </List.Item>
      </List>
      <Text size="sm" c="dimmed">
        It can be reopened later by setting its status back to Active.
      </Text>
    </Stack>
  );
}

function OwnerSection({ customer: c }: { customer: CustomerFull }) {
  const queryClient = useQueryClient();
  const owner = c.users.find((u) => u.role === 'owner' && u.status !== 'disabled');
  const [open, setOpen] = useState(false);
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const invite = useMutation({
    mutationFn: (body: { email: string; name: string }) => api.post<CustomerFull>(`/api/v1/customers/${encodeURIComponent(c.id)}/owner-invitation`, body),
    onSuccess: async (_data, body) => {
      notifications.show({ color: 'teal', message: `An invitation to own ${c.name} was sent to ${body.email}.` });
      setOpen(false);
      setEmail('');
      setName('');
      await queryClient.invalidateQueries({ queryKey: ['customers', c.id] });
    },
  });
  const pending = !owner || owner.status === 'invited';
  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="owner-title">
      <Group justify="space-between" align="flex-start">
        <div>
          <Title order={3} size="h4" id="owner-title">
            Owner
          </Title>
          {owner ? (
            <Group gap="xs" mt={6}>
              <Text size="sm" fw={500}>
                {owner.name}
              </Text>
              <Text size="sm" c="dimmed">
                {owner.email}
              </Text>
              <StatusBadge status={owner.status} />
            </Group>
          ) : (
            <Text size="sm" c="dimmed" mt={6}>
              No owner: invite one.
            </Text>
          )}
          <Text size="xs" c="dimmed" mt={4}>
            {pending
              ? 'The owner has not accepted the invitation yet. Send it again (a fresh link), or invite someone else instead.'
              : owner.lastLoginAt
                ? `The owner last signed in ${formatRelative(owner.lastLoginAt)}; only the owner can transfer ownership, from the portal.`
                : 'The owner has an account but has never signed in; only the owner can transfer ownership, from the portal.'}
          </Text>
        </div>
        {pending ? (
          <Group gap="xs">
            {owner ? (
              <Button size="xs" variant="light" leftSection={<IconMailForward size={14} />} loading={invite.isPending && invite.variables?.email === owner.email}
                onClick={() => invite.mutate({ email: owner.email, name: owner.name })}>
                Send invitation again
              </Button>
            ) : null}
            <Button size="xs" variant="default" onClick={() => setOpen(true)}>
              {owner ? 'Invite someone else' : 'Invite owner'}
            </Button>
          </Group>
        ) : null}
      </Group>
      {invite.error && !open ? <FormError error={invite.error} /> : null}
      <Modal opened={open} onClose={() => setOpen(false)} title="Invite the owner" centered>
        <form
          noValidate
          aria-label="Invite the owner"
          onSubmit={(e) => {
            e.preventDefault();
            invite.mutate({ email: email.trim(), name: name.trim() });
          }}
        >
          <Stack>
            <FormError error={invite.error} fields={['email', 'name']} />
            {owner ? (
              <Text size="sm" c="dimmed">
                {owner.email} never accepted: their invitation is withdrawn and this person is invited as the owner instead.
              </Text>
            ) : null}
            <TextInput label="Owner name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(invite.error, 'name')} required data-autofocus />
            <TextInput label="Owner email" type="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={fieldError(invite.error, 'email')} required />
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button type="submit" loading={invite.isPending}>
                Send invitation
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </Paper>
  );
}
