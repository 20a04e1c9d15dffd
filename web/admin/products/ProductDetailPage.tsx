import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Anchor, Badge, Button, Group, Modal, Paper, Select, SimpleGrid, Stack, Table, Text, Textarea, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconArrowLeft, IconPencil, IconPlus } from '@tabler/icons-react';
import { api, isApiError } from '../../shared/api.ts';
import { ConfirmButton } from '../../shared/ConfirmButton.tsx';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatDateTime } from '../../shared/format.ts';
import { formatMicros, formatMoney, isNegative, toMicros } from '../../shared/money.ts';
import { Empty, ErrorState, LoadingState } from '../../shared/ui.tsx';
import {
  CATALOG_CURRENCIES, CYCLES, PRODUCTS_KEY, TAX_CATEGORIES, taxLabel, typeLabel, ZERO_DECIMAL_CURRENCIES,
  type BillingCycle, type PriceView, type ProductView, type TaxCategory, type VariantView,
} from './product-types.ts';

export function useProduct(id: string) {
  return useQuery({ queryKey: [...PRODUCTS_KEY, id], queryFn: ({ signal }) => api.get<ProductView>(`/api/v1/products/${encodeURIComponent(id)}`, undefined, signal) });
}

/** One product: its details, archive state, variants and the prices grid (price, cost, margin, activation fee per cycle and currency). */
export function ProductDetailPage() {
  const { id = '' } = useParams();
  const query = useProduct(id);
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: PRODUCTS_KEY });

  const back = (
    <Anchor component={Link} to="/admin/product" size="sm">
      <Group gap={4}>
        <IconArrowLeft size={14} /> All products
      </Group>
    </Anchor>
  );
  if (query.isError && !query.data) {
    return (
      <Stack>
        {back}
        {isApiError(query.error) && query.error.status === 404 ? (
          <Empty title="Product not found" description="It does not exist, or it belongs to another partner." />
        ) : (
          <ErrorState error={query.error} onRetry={() => void query.refetch()} title="Could not load this product" />
        )}
      </Stack>
    );
  }
  if (!query.data) return <LoadingState label="Loading product…" />;
  const p = query.data;

  const setArchived = async (archived: boolean) => {
    await api.post<ProductView>(`/api/v1/products/${p.id}/${archived ? 'archive' : 'unarchive'}`);
    notifications.show({ color: 'teal', title: archived ? 'Product archived' : 'Product back on sale', message: archived ? `${p.name} can no longer be bought; existing subscriptions go on.` : `${p.name} can be bought again.` });
    await refresh();
  };

  return (
    <Stack gap="lg" maw={1240}>
      {back}
      <Group justify="space-between" align="flex-start">
        <div>
          <Group gap="xs">
            <Title order={2}>{p.name}</Title>
            {p.archived ? <Badge color="gray" variant="light" radius="sm">Archived</Badge> : <Badge color="teal" variant="light" radius="sm">On sale</Badge>}
          </Group>
          <Text size="sm" c="dimmed" ff="monospace">
            {p.sku}
          </Text>
        </div>
        <Group gap="xs">
          <Button size="xs" variant="default" leftSection={<IconPencil size={14} />} onClick={() => setEditing(true)}>
            Edit
          </Button>
          {p.archived ? (
            <ConfirmButton label="Unarchive" title="Put the product on sale again?" message={`${p.name} will be offered to customers again.`} onConfirm={() => setArchived(false)} />
          ) : (
            <ConfirmButton
              label="Archive"
              color="red"
              title="Archive this product?"
              message="Customers can no longer buy it. Existing subscriptions keep running and renewing. Products are never deleted; you can unarchive it later."
              onConfirm={() => setArchived(true)}
            />
          )}
        </Group>
      </Group>

      <Paper withBorder radius="md" p="md">
        <SimpleGrid cols={{ base: 2, sm: 4 }}>
          <Fact label="Type" value={typeLabel(p.type)} />
          <Fact label="Tax category" value={taxLabel(p.taxCategory)} />
          <Fact label="Created" value={formatDateTime(p.createdAt)} />
          <Fact label={p.archived ? 'Archived' : 'Updated'} value={formatDateTime(p.archivedAt ?? p.updatedAt)} />
        </SimpleGrid>
        {p.description ? (
          <Text size="sm" mt="md">
            {p.description}
          </Text>
        ) : null}
      </Paper>

      <Group justify="space-between">
        <Title order={3}>Variants and prices</Title>
        <AddVariant productId={p.id} onDone={refresh} />
      </Group>
      {p.variants.length === 0 ? (
        <Paper withBorder radius="md" p="md">
          <Empty title="No variants yet" description="Add a variant (a plan such as “Basic” or “Pro”), then set its prices per billing cycle and currency." />
        </Paper>
      ) : (
        p.variants.map((v) => <VariantCard key={v.id} variant={v} onChanged={refresh} />)
      )}
      <EditProductModal product={p} opened={editing} onClose={() => setEditing(false)} onSaved={refresh} />
    </Stack>
  );
}

function Fact({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm">{value}</Text>
    </div>
  );
}

function AddVariant({ productId, onDone }: { productId: string; onDone: () => Promise<unknown> }) {
  const [name, setName] = useState('');
  const add = useMutation({
    mutationFn: () => api.post<VariantView>(`/api/v1/products/${productId}/variants`, { name: name.trim() }),
    onSuccess: async () => {
      setName('');
      add.reset();
      await onDone();
    },
  });
  return (
    <form onSubmit={(e) => { e.preventDefault(); add.mutate(); }} aria-label="Add variant" noValidate>
      <Group align="flex-start" gap="xs">
        <TextInput
          size="xs"
          placeholder="New variant, e.g. Pro"
          aria-label="Variant name"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={add.error ? (fieldError(add.error, 'name') ?? (isApiError(add.error) ? add.error.detail : 'Could not add it')) : undefined}
        />
        <Button size="xs" type="submit" leftSection={<IconPlus size={14} />} loading={add.isPending} disabled={!name.trim()}>
          Add variant
        </Button>
      </Group>
    </form>
  );
}

function VariantCard({ variant, onChanged }: { variant: VariantView; onChanged: () => Promise<unknown> }) {
  const [editing, setEditing] = useState<PriceView | 'new' | null>(null);
  const archivePrice = async (price: PriceView) => {
    await api.post<PriceView>(`/api/v1/prices/${price.id}/archive`);
    notifications.show({ color: 'teal', title: 'Price archived', message: `${variant.name} ${price.cycle} in ${price.currency} is no longer on sale.` });
    await onChanged();
  };
  return (
    <Paper withBorder radius="md" p="md">
      <Stack gap="sm">
        <Group justify="space-between">
          <Text fw={600}>{variant.name}</Text>
          <Button size="xs" variant="light" leftSection={<IconPlus size={14} />} onClick={() => setEditing('new')}>
            Set a price
          </Button>
        </Group>
        {variant.prices.length === 0 ? (
          <Text size="sm" c="dimmed">
            No prices yet: set a monthly or yearly price in a currency you sell in.
          </Text>
        ) : (
          <Table.ScrollContainer minWidth={760}>
            <Table aria-label={`Prices of ${variant.name}`} verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Cycle</Table.Th>
                  <Table.Th>Currency</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Price (pre-tax)</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Cost</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Margin</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Margin %</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Activation fee</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {variant.prices.map((pr) => (
                  <Table.Tr key={pr.id} data-testid={`price-${pr.cycle}-${pr.currency}`} c={pr.archived ? 'dimmed' : undefined}>
                    <Table.Td>{pr.cycle === 'monthly' ? 'Monthly' : 'Yearly'}</Table.Td>
                    <Table.Td>{pr.currency}</Table.Td>
                    <Table.Td style={{ textAlign: 'right' }}>{formatMoney(pr.price)}</Table.Td>
                    <Table.Td style={{ textAlign: 'right' }}>{formatMoney(pr.cost)}</Table.Td>
                    <Table.Td style={{ textAlign: 'right' }} c={isNegative(pr.margin) ? 'red' : undefined}>
                      {formatMoney(pr.margin)}
                    </Table.Td>
                    <Table.Td style={{ textAlign: 'right' }} c={pr.marginPercent && isNegative(pr.marginPercent) ? 'red' : undefined}>
                      {pr.marginPercent === null ? '—' : `${pr.marginPercent}%`}
                    </Table.Td>
                    <Table.Td style={{ textAlign: 'right' }}>{formatMoney(pr.activationFee)}</Table.Td>
                    <Table.Td>{pr.archived ? <Badge color="gray" variant="light" radius="sm">Archived</Badge> : <Badge color="teal" variant="light" radius="sm">On sale</Badge>}</Table.Td>
                    <Table.Td>
                      <Group gap={4} justify="flex-end" wrap="nowrap">
                        <Button size="xs" variant="subtle" onClick={() => setEditing(pr)} aria-label={`Edit ${pr.cycle} ${pr.currency} price`}>
                          {pr.archived ? 'Restore' : 'Edit'}
                        </Button>
                        {pr.archived ? null : (
                          <ConfirmButton
                            label="Archive"
                            color="red"
                            buttonProps={{ variant: 'subtle' }}
                            ariaLabel={`Archive ${pr.cycle} ${pr.currency} price`}
                            title="Archive this price?"
                            message="Customers can no longer buy this cycle in this currency. Existing subscriptions keep their price. Set it again to restore it."
                            onConfirm={() => archivePrice(pr)}
                          />
                        )}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Stack>
      {editing ? <PriceModal variant={variant} price={editing === 'new' ? null : editing} onClose={() => setEditing(null)} onSaved={onChanged} /> : null}
    </Paper>
  );
}

function PriceModal({ variant, price, onClose, onSaved }: { variant: VariantView; price: PriceView | null; onClose: () => void; onSaved: () => Promise<unknown> }) {
  const [cycle, setCycle] = useState<BillingCycle>(price?.cycle ?? 'monthly');
  const [currency, setCurrency] = useState<string>(price?.currency ?? 'SGD');
  const [amount, setAmount] = useState(price?.price ?? '');
  const [cost, setCost] = useState(price?.cost ?? '');
  const [fee, setFee] = useState(price?.activationFee ?? '0');
  const save = useMutation({
    mutationFn: () =>
      api.put<PriceView>(`/api/v1/variants/${variant.id}/prices/${cycle}/${currency}`, { price: amount.trim(), cost: cost.trim(), activationFee: fee.trim() || '0' }),
    onSuccess: async (saved) => {
      notifications.show({ color: 'teal', title: 'Price saved', message: `${variant.name} ${saved.cycle} ${formatMoney(saved.price, saved.currency)}, margin ${formatMoney(saved.margin, saved.currency)}.` });
      await onSaved();
      onClose();
    },
  });
  const priceMicros = toMicros(amount);
  const costMicros = toMicros(cost);
  const decimals = ZERO_DECIMAL_CURRENCIES.has(currency) ? 0 : 2;
  const preview = priceMicros !== null && costMicros !== null
    ? `${formatMoney(formatMicros(priceMicros - costMicros, decimals), currency)}${priceMicros > 0n ? ` (${(Number(((priceMicros - costMicros) * 1000n) / priceMicros) / 10).toFixed(1)}%)` : ''}`
    : '—';
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <Modal opened onClose={onClose} title={`${price ? (price.archived ? 'Restore' : 'Change') : 'Set'} a price of ${variant.name}`} centered size="lg">
      <form onSubmit={onSubmit} noValidate aria-label="Price">
        <Stack>
          <FormError error={save.error} fields={['price', 'cost', 'activationFee', 'cycle', 'currency']} />
          <Group grow align="flex-start">
            <Select label="Billing cycle" data={CYCLES} value={cycle} onChange={(v) => v && setCycle(v)} allowDeselect={false} disabled={!!price} error={fieldError(save.error, 'cycle')} />
            <Select label="Currency" data={CATALOG_CURRENCIES} value={currency} onChange={(v) => v && setCurrency(v)} allowDeselect={false} disabled={!!price} searchable error={fieldError(save.error, 'currency')} />
          </Group>
          <Group grow align="flex-start">
            <TextInput label="Price (pre-tax)" description="What the customer pays per cycle" value={amount} onChange={(e) => setAmount(e.currentTarget.value)} error={fieldError(save.error, 'price')} inputMode="decimal" required data-autofocus />
            <TextInput label="Cost" description="What the platform charges you" value={cost} onChange={(e) => setCost(e.currentTarget.value)} error={fieldError(save.error, 'cost')} inputMode="decimal" required />
            <TextInput label="Activation fee" description="Once, on purchase" value={fee} onChange={(e) => setFee(e.currentTarget.value)} error={fieldError(save.error, 'activationFee')} inputMode="decimal" />
          </Group>
          <Text size="sm">
            Margin: <b>{preview}</b>
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              Save price
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function EditProductModal({ product, opened, onClose, onSaved }: { product: ProductView; opened: boolean; onClose: () => void; onSaved: () => Promise<unknown> }) {
  const [name, setName] = useState(product.name);
  const [description, setDescription] = useState(product.description ?? '');
  const [taxCategory, setTaxCategory] = useState<TaxCategory>(product.taxCategory);
  const save = useMutation({
    mutationFn: () => api.patch<ProductView>(`/api/v1/products/${product.id}`, { name: name.trim(), description: description.trim() || null, taxCategory }),
    onSuccess: async () => {
      notifications.show({ color: 'teal', title: 'Product saved', message: `${name.trim()} is updated.` });
      await onSaved();
      onClose();
    },
  });
  return (
    <Modal opened={opened} onClose={onClose} title={`Edit ${product.sku}`} centered size="lg">
      <form onSubmit={(e) => { e.preventDefault(); save.mutate(); }} noValidate aria-label="Edit product">
        <Stack>
          <FormError error={save.error} fields={['name', 'description', 'taxCategory']} />
          <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(save.error, 'name')} required />
          <Select label="Tax category" data={TAX_CATEGORIES} value={taxCategory} onChange={(v) => v && setTaxCategory(v)} allowDeselect={false} />
          <Textarea label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={fieldError(save.error, 'description')} autosize minRows={2} maxRows={6} />
          <Text size="xs" c="dimmed">
            The SKU and the type do not change once a product exists.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
