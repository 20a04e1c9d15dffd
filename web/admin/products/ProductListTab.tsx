import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Anchor, Badge, Button, Group, Modal, Paper, SegmentedControl, Select, Stack, Text, Textarea, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconPlus, IconSearch } from '@tabler/icons-react';
import { api } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatDate } from '../../shared/format.ts';
import { usePagedList } from '../../shared/queries.ts';
import { DataTable, LoadMore } from '../../shared/ui.tsx';
import { PRODUCT_TYPES, PRODUCTS_KEY, TAX_CATEGORIES, taxLabel, typeLabel, type ProductType, type ProductView, type TaxCategory } from './product-types.ts';

type StatusFilter = 'active' | 'archived' | 'all';

/** The catalogue: search by SKU or name, filter by type and status, newest first. */
export function ProductListTab() {
  const [q, setQ] = useState('');
  const [debounced] = useDebouncedValue(q.trim(), 300);
  const [type, setType] = useState<string | null>(null);
  const [status, setStatus] = useState<StatusFilter>('active');
  const products = usePagedList<ProductView>(PRODUCTS_KEY, '/api/v1/products', {
    q: debounced, type, archived: status === 'all' ? undefined : status === 'archived',
  });
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const filtered = !!debounced || !!type || status !== 'active';

  return (
    <Paper withBorder radius="md" p="md">
      <Stack>
        <Group justify="space-between" align="flex-end">
          <Group align="flex-end">
            <TextInput
              label="Search products"
              placeholder="SKU or name"
              leftSection={<IconSearch size={16} />}
              value={q}
              onChange={(e) => setQ(e.currentTarget.value)}
              w={260}
            />
            <Select label="Type" placeholder="All types" data={PRODUCT_TYPES} value={type} onChange={setType} clearable w={180} />
            <SegmentedControl
              aria-label="Status"
              value={status}
              onChange={(v) => setStatus(v)}
              data={[{ value: 'active', label: 'On sale' }, { value: 'archived', label: 'Archived' }, { value: 'all', label: 'All' }]}
            />
          </Group>
          <Button leftSection={<IconPlus size={16} />} onClick={() => setOpen(true)}>
            New product
          </Button>
        </Group>
        <DataTable
          label="Products"
          rows={products.rows}
          loading={products.isPending}
          error={products.error}
          onRetry={() => void products.refetch()}
          rowKey={(p) => p.id}
          onRowClick={(p) => void navigate(`/admin/product/${p.id}`)}
          emptyTitle={filtered ? 'No matching products' : 'No products yet'}
          emptyDescription={filtered ? 'Nothing matches these filters.' : 'Create your first product, then give it variants and prices.'}
          footer={<LoadMore hasNextPage={products.hasNextPage} isFetchingNextPage={products.isFetchingNextPage} onLoadMore={() => void products.fetchNextPage()} />}
          columns={[
            { key: 'sku', header: 'SKU', card: 'field', render: (p) => <Text ff="monospace" size="sm">{p.sku}</Text> },
            {
              key: 'name',
              header: 'Name',
              card: 'title',
              render: (p) => (
                <Anchor component={Link} to={`/admin/product/${p.id}`} fw={500} size="sm" onClick={(e) => e.stopPropagation()}>
                  {p.name}
                </Anchor>
              ),
            },
            { key: 'type', header: 'Type', card: 'field', render: (p) => typeLabel(p.type) },
            { key: 'tax', header: 'Tax', render: (p) => taxLabel(p.taxCategory) },
            { key: 'variants', header: 'Variants', align: 'right', card: 'field', render: (p) => p.variants.length },
            { key: 'prices', header: 'Prices', align: 'right', card: 'field', render: (p) => p.variants.reduce((n, v) => n + v.prices.filter((x) => !x.archived).length, 0) },
            {
              key: 'status',
              header: 'Status',
              card: 'status',
              render: (p) => (p.archived ? <Badge color="gray" variant="light" radius="sm">Archived</Badge> : <Badge color="teal" variant="light" radius="sm">On sale</Badge>),
            },
            { key: 'created', header: 'Created', render: (p) => formatDate(p.createdAt) },
          ]}
        />
      </Stack>
      <NewProductModal opened={open} onClose={() => setOpen(false)} />
    </Paper>
  );
}

function NewProductModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [sku, setSku] = useState('');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [type, setType] = useState<ProductType>('service');
  const [taxCategory, setTaxCategory] = useState<TaxCategory>('standard');
  const create = useMutation({
    mutationFn: () =>
      api.post<ProductView>('/api/v1/products', {
        sku: sku.trim(), name: name.trim(), type, taxCategory, ...(description.trim() ? { description: description.trim() } : {}),
      }),
    onSuccess: async (p) => {
      notifications.show({ color: 'teal', title: 'Product created', message: `${p.sku} ${p.name}: now add its variants and prices.` });
      await queryClient.invalidateQueries({ queryKey: PRODUCTS_KEY });
      onClose();
      setSku('');
      setName('');
      setDescription('');
      create.reset();
      await navigate(`/admin/product/${p.id}`);
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <Modal opened={opened} onClose={onClose} title="New product" centered size="lg">
      <form onSubmit={onSubmit} noValidate aria-label="New product">
        <Stack>
          <FormError error={create.error} fields={['sku', 'name', 'description', 'type', 'taxCategory']} />
          <Group grow align="flex-start">
            <TextInput
              label="SKU"
              description="Unique, letters, digits, . _ -"
              value={sku}
              onChange={(e) => setSku(e.currentTarget.value)}
              error={fieldError(create.error, 'sku')}
              required
              data-autofocus
            />
            <TextInput label="Name" description="As customers see it" value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(create.error, 'name')} required />
          </Group>
          <Group grow align="flex-start">
            <Select label="Type" data={PRODUCT_TYPES} value={type} onChange={(v) => v && setType(v)} allowDeselect={false} error={fieldError(create.error, 'type')} required />
            <Select label="Tax category" data={TAX_CATEGORIES} value={taxCategory} onChange={(v) => v && setTaxCategory(v)} allowDeselect={false} error={fieldError(create.error, 'taxCategory')} />
          </Group>
          <Textarea label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={fieldError(create.error, 'description')} autosize minRows={2} maxRows={6} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Create product
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
