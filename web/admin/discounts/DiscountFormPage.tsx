import { useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Anchor, Badge, Button, Group, Paper, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { IconAlertTriangle, IconArrowLeft, IconEye } from '@tabler/icons-react';
import { api } from '../../shared/api.ts';
import { FormError } from '../../shared/forms.tsx';
import { discountFieldError } from './discount-messages.ts';
import { formatMoney, isNegative } from '../../shared/money.ts';
import { ErrorState, LoadingState, PageHeader } from '../../shared/ui.tsx';
import { CustomerSelect } from './CustomerSelect.tsx';
import { PrecedenceHelp } from './PrecedenceHelp.tsx';
import { DISCOUNTS_KEY, PRODUCT_TYPES, SCOPES, type CatalogProduct, type DiscountPreview, type DiscountScope, type DiscountView } from './discount-types.ts';

const SHOWN_FIELDS = ['name', 'customerId', 'scope', 'productType', 'productId', 'variantId', 'priceId', 'percentOff', 'amountOff', 'amountOff.amount', 'amountOff.currency', 'startsOn', 'endsOn'];

/** The body the API takes (src/discounts/discount-input.ts), built from the form. */
function bodyOf(f: FormState, catalog: CatalogProduct[]) {
  const price = catalog.flatMap((p) => p.variants.flatMap((v) => v.prices)).find((p) => p.id === f.priceId);
  return {
    name: f.name.trim(),
    customerId: f.target === 'customer' ? f.customerId : null,
    scope: f.scope,
    ...(f.scope === 'product_type' ? { productType: f.productType ?? undefined } : {}),
    ...(f.scope === 'product' ? { productId: f.productId ?? undefined } : {}),
    ...(f.scope === 'variant' ? { variantId: f.variantId ?? undefined } : {}),
    ...(f.scope === 'price' ? { priceId: f.priceId ?? undefined } : {}),
    ...(f.kind === 'percent' ? { percentOff: f.percent.trim() } : { amountOff: { amount: f.amount.trim(), currency: price?.currency ?? 'SGD' } }),
    ...(f.startsOn ? { startsOn: f.startsOn } : {}),
    endsOn: f.endsOn || null,
  };
}

interface FormState {
  name: string;
  target: 'all' | 'customer';
  customerId: string | null;
  scope: DiscountScope;
  productType: string | null;
  productId: string | null;
  variantId: string | null;
  priceId: string | null;
  kind: 'percent' | 'fixed';
  percent: string;
  amount: string;
  startsOn: string;
  endsOn: string;
}

const INITIAL: FormState = {
  name: '', target: 'customer', customerId: null, scope: 'product', productType: null, productId: null, variantId: null, priceId: null,
  kind: 'percent', percent: '', amount: '', startsOn: '', endsOn: '',
};

/** New discount: target, scope (type -> product -> variant -> billing cycle), rate, dates; a margin preview before it is saved. */
export function DiscountFormPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [f, setF] = useState<FormState>(INITIAL);
  const [previewed, setPreviewed] = useState<{ key: string; result: DiscountPreview } | null>(null);
  const catalog = useQuery({ queryKey: ['discounts', 'catalog'], queryFn: ({ signal }) => api.get<{ products: CatalogProduct[] }>('/api/v1/discounts/catalog', undefined, signal) });
  const products = useMemo(() => catalog.data?.products ?? [], [catalog.data]);
  const set = (patch: Partial<FormState>) => setF((old) => ({ ...old, ...patch }));

  const body = bodyOf(f, products);
  const key = JSON.stringify({ ...body, name: '' });
  const preview = useMutation({
    mutationFn: () => api.post<DiscountPreview>('/api/v1/discounts/preview', { ...body, name: body.name || undefined }),
    onSuccess: (result) => setPreviewed({ key, result }),
  });
  const save = useMutation({
    mutationFn: () => api.post<DiscountView>('/api/v1/discounts', body),
    onSuccess: async (d) => {
      await queryClient.invalidateQueries({ queryKey: DISCOUNTS_KEY });
      void navigate(`/admin/discount/${d.id}`);
    },
  });
  const current = previewed && previewed.key === key ? previewed.result : null;

  if (catalog.isError) return <ErrorState error={catalog.error} onRetry={() => void catalog.refetch()} title="Could not load the catalog" />;
  if (!catalog.data) return <LoadingState label="Loading the catalog…" />;

  // The cascade: type -> product -> variant -> billing cycle. Choosing higher up clears what is below it.
  const type = f.productType ?? products.find((p) => p.id === f.productId)?.type ?? null;
  const ofType = products.filter((p) => !type || p.type === type);
  const product = products.find((p) => p.id === f.productId) ?? null;
  const variant = product?.variants.find((v) => v.id === f.variantId) ?? null;
  const price = variant?.prices.find((p) => p.id === f.priceId) ?? null;
  const depth = { product_type: 0, product: 1, variant: 2, price: 3 }[f.scope];
  const error = save.error ?? preview.error;

  return (
    <Stack maw={1100}>
      <Anchor component={Link} to="/admin/discount" size="sm">
        <Group gap={4}><IconArrowLeft size={14} /> All discounts</Group>
      </Anchor>
      <PageHeader title="New discount" description="Check the margin preview, then save. It applies to purchases and renewals within its scope and dates." />
      <PrecedenceHelp />
      <Paper withBorder radius="md" p="md" component="form" aria-label="Discount" onSubmit={(e) => { e.preventDefault(); preview.mutate(); }}>
        <Stack>
          <TextInput label="Name" required value={f.name} onChange={(e) => set({ name: e.currentTarget.value })} error={discountFieldError(save.error, 'name')} maw={420} />
          <Stack gap={4}>
            <Text size="sm" fw={500}>For</Text>
            <SegmentedControl
              aria-label="For" w={320} value={f.target} onChange={(v) => set({ target: v })}
              data={[{ value: 'customer', label: 'One customer' }, { value: 'all', label: 'Every customer' }]}
            />
          </Stack>
          {f.target === 'customer' ? (
            <CustomerSelect label="Customer" required w="100%" maw={360} value={f.customerId} onChange={(id) => set({ customerId: id })} error={discountFieldError(error, 'customerId')} />
          ) : null}
          <Select label="Scope" required w={320} value={f.scope} data={SCOPES} allowDeselect={false}
            onChange={(v) => set({ scope: (v ?? 'product'), ...(v !== 'price' ? { kind: 'percent' as const } : {}) })} />
          <SimpleGrid cols={{ base: 1, sm: 4 }}>
            <Select label="Product type" placeholder="Any type" clearable={depth > 0} required={depth === 0} value={type} data={PRODUCT_TYPES}
              error={discountFieldError(error, 'productType')}
              onChange={(v) => set({ productType: v, productId: null, variantId: null, priceId: null })} />
            {depth >= 1 ? (
              <Select label="Product" required searchable value={f.productId} error={discountFieldError(error, 'productId')}
                data={ofType.map((p) => ({ value: p.id, label: `${p.name} (${p.sku})${p.archived ? ' · archived' : ''}` }))}
                onChange={(v) => set({ productId: v, variantId: null, priceId: null })} />
            ) : null}
            {depth >= 2 ? (
              <Select label="Variant" required value={f.variantId} disabled={!product} error={discountFieldError(error, 'variantId')}
                data={(product?.variants ?? []).map((v) => ({ value: v.id, label: v.name }))}
                onChange={(v) => set({ variantId: v, priceId: null })} />
            ) : null}
            {depth >= 3 ? (
              <Select label="Billing cycle" required value={f.priceId} disabled={!variant} error={discountFieldError(error, 'priceId')}
                data={(variant?.prices ?? []).map((p) => ({ value: p.id, label: `${p.cycle === 'monthly' ? 'Monthly' : 'Yearly'} · ${formatMoney(p.price, p.currency)}` }))}
                onChange={(v) => set({ priceId: v })} />
            ) : null}
          </SimpleGrid>
          <Group align="flex-end" gap="md">
            <Stack gap={4}>
              <Text size="sm" fw={500}>Discount</Text>
              <SegmentedControl aria-label="Discount kind" value={f.kind} onChange={(v) => set({ kind: v })}
                data={[{ value: 'percent', label: 'Percent' }, { value: 'fixed', label: 'Fixed amount', disabled: f.scope !== 'price' }]} />
            </Stack>
            {f.kind === 'percent' ? (
              <TextInput label="Percent off" required w={140} rightSection="%" value={f.percent} inputMode="decimal"
                onChange={(e) => set({ percent: e.currentTarget.value })} error={discountFieldError(error, 'percentOff')} />
            ) : (
              <TextInput label={`Amount off per period${price ? ` (${price.currency})` : ''}`} required w={220} value={f.amount} inputMode="decimal"
                onChange={(e) => set({ amount: e.currentTarget.value })} error={discountFieldError(error, 'amountOff.amount') ?? discountFieldError(error, 'amountOff') ?? discountFieldError(error, 'amountOff.currency')} />
            )}
            <TextInput label="Starts on" type="date" w={170} value={f.startsOn} onChange={(e) => set({ startsOn: e.currentTarget.value })}
              description="Empty: today" error={discountFieldError(error, 'startsOn')} />
            <TextInput label="Ends on (last day)" type="date" w={170} value={f.endsOn} onChange={(e) => set({ endsOn: e.currentTarget.value })}
              description="Empty: unlimited" error={discountFieldError(error, 'endsOn')} />
          </Group>
          {f.scope !== 'price' ? <Text size="xs" c="dimmed">A fixed amount can only be given on one billing cycle: choose the scope “One billing cycle”.</Text> : null}
          <FormError error={error} fields={SHOWN_FIELDS} />
          <Group>
            <Button type="submit" variant="default" leftSection={<IconEye size={16} />} loading={preview.isPending}>
              Preview margins
            </Button>
            <Button onClick={() => save.mutate()} loading={save.isPending} disabled={!current}>
              Save discount
            </Button>
            {!current ? <Text size="xs" c="dimmed">Preview the margins of this discount before saving it.</Text> : null}
          </Group>
        </Stack>
      </Paper>
      {current ? <MarginPreview preview={current} /> : null}
    </Stack>
  );
}

/** The subscriptions the discount would touch, with the margin after it; rows below cost are flagged. */
export function MarginPreview({ preview }: { preview: DiscountPreview }) {
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-label="Margin preview">
      <Stack>
        <Group justify="space-between">
          <Title order={3} size="h4">Margin preview</Title>
          <Text size="sm" c="dimmed">
            {preview.total} active subscription{preview.total === 1 ? '' : 's'} in scope{preview.total > preview.data.length ? ` (first ${preview.data.length} shown)` : ''}
          </Text>
        </Group>
        {preview.warning ? (
          <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} title="Below cost" role="alert">
            {preview.warning}.
          </Alert>
        ) : null}
        {preview.data.length === 0 ? (
          <Text size="sm" c="dimmed">No active subscription is in this scope today: the discount applies to future purchases and renewals.</Text>
        ) : (
          <Table.ScrollContainer minWidth={800}>
            <Table aria-label="Subscriptions this discount touches" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Customer</Table.Th>
                  <Table.Th>Subscription</Table.Th>
                  <Table.Th>Renews on</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Renewal price now</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>With this discount</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Renewal cost</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Margin</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {preview.data.map((r) => (
                  <Table.Tr key={r.subscriptionId} bg={r.applies && r.belowCost ? 'var(--mantine-color-red-0)' : undefined}>
                    <Table.Td>{r.customer.name}</Table.Td>
                    <Table.Td>{r.productName} — {r.variantName} ({r.cycle}){r.quantity > 1 ? ` × ${r.quantity}` : ''}</Table.Td>
                    <Table.Td>{r.renewsOn}</Table.Td>
                    <Table.Td style={{ textAlign: 'right' }}>{formatMoney(r.currentRenewalPrice, r.currency)}</Table.Td>
                    <Table.Td style={{ textAlign: 'right' }} data-testid="preview-price">{formatMoney(r.renewalPrice, r.currency)}</Table.Td>
                    <Table.Td style={{ textAlign: 'right' }}>{formatMoney(r.renewalCost, r.currency)}</Table.Td>
                    <Table.Td style={{ textAlign: 'right' }} c={isNegative(r.margin) ? 'red' : undefined} data-testid="preview-margin">
                      {formatMoney(r.margin, r.currency)}{r.marginPercent !== null ? ` (${r.marginPercent}%)` : ''}
                    </Table.Td>
                    <Table.Td>
                      {!r.applies ? <Badge variant="light" color="gray" radius="sm" title="Not in force on the renewal day, or a more specific discount wins">Not applied</Badge>
                        : r.belowCost ? <Badge variant="light" color="red" radius="sm">Below cost</Badge> : null}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Stack>
    </Paper>
  );
}
