import { useEffect, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  ActionIcon, Alert, Anchor, Box, Button, Group, NumberInput, Paper, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, Textarea, TextInput, Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconArrowLeft, IconPackage, IconTextPlus, IconTrash } from '@tabler/icons-react';
import { api, apiRequest, errorMessage, isApiError, newIdempotencyKey } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatMoney } from '../../shared/money.ts';
import { useSession } from '../../shared/session.tsx';
import { Empty, ErrorState, LoadingState, PageHeader, useIsPhone } from '../../shared/ui.tsx';
import type { Page } from '../../shared/types.ts';
import type { ProductView } from '../products/product-types.ts';
import { previewTotals, showMicros } from './invoice-preview.ts';
import { topUpPolicyNote, type InvoiceTopUpPolicy, type TopUpPolicyNote } from './top-up-policy-note.ts';
import {
  INVOICES_KEY, TAX_CATEGORY_OPTIONS, invoiceName, invoicePath, type InvoiceDetail, type InvoiceLineInput, type InvoicingSettings, type TaxCategory,
} from './invoice-types.ts';
import { CustomerPicker, type PickedCustomer } from './invoice-ui.tsx';
import { useInvoice } from './InvoiceDetailPage.tsx';

type EditableType = 'purchase' | 'top_up';

interface LineDraft {
  key: string;
  kind: 'product' | 'text';
  productId: string | null;
  variantId: string | null;
  priceId: string | null;
  description: string;
  quantity: string;
  unitPrice: string;
  discount: string;
  taxCategory: TaxCategory;
}

let lineCounter = 0;
function newLine(kind: LineDraft['kind']): LineDraft {
  lineCounter += 1;
  return { key: `l${lineCounter}`, kind, productId: null, variantId: null, priceId: null, description: '', quantity: '1', unitPrice: '', discount: '', taxCategory: 'standard' };
}

function linesOf(inv: InvoiceDetail): LineDraft[] {
  return inv.lines.map((l) => {
    lineCounter += 1;
    return {
      key: `l${lineCounter}`,
      kind: l.productId ? 'product' : 'text',
      productId: l.productId,
      variantId: l.variantId,
      priceId: null,
      description: l.description,
      quantity: l.quantity,
      unitPrice: l.unitPrice,
      discount: /^0(\.0+)?$/.test(l.discount) ? '' : l.discount,
      taxCategory: l.taxCategory,
    };
  });
}

/** The body's lines: empty optional fields left out (the server's defaults apply). */
function lineBody(l: LineDraft, type: EditableType): InvoiceLineInput {
  const body: InvoiceLineInput = {};
  // A product line may leave its description to the server ("Product — Variant").
  if (l.description.trim() !== '' || l.kind === 'text') body.description = l.description.trim();
  if (l.quantity.trim() !== '') body.quantity = l.quantity.trim();
  if (l.unitPrice.trim() !== '') body.unitPrice = l.unitPrice.trim();
  if (l.discount.trim() !== '') body.discount = l.discount.trim();
  if (l.kind === 'product') {
    if (l.productId) body.productId = l.productId;
    if (l.variantId) body.variantId = l.variantId;
  } else if (type === 'purchase') {
    body.taxCategory = l.taxCategory; // a Top-up invoice carries no tax
  }
  return body;
}

const LINE_FIELDS = ['description', 'quantity', 'unitPrice', 'discount', 'productId', 'variantId', 'taxCategory'];

const NO_CUSTOMER = 'Choose a customer first.';
const NO_LINES = 'Add at least one line.';

/**
 * Create a Purchase or Top-up invoice by hand (`/admin/invoice/new`), or edit a draft (`/admin/invoice/:id/edit`).
 * The totals shown while typing are a browser preview; the server's figures are shown once it is saved.
 */
export function InvoiceEditorPage() {
  const { id } = useParams();
  if (!id) return <InvoiceEditor existing={null} />;
  return <EditExisting id={id} />;
}

function EditExisting({ id }: { id: string }) {
  const query = useInvoice(id);
  if (query.isError && !query.data) return <ErrorState error={query.error} onRetry={() => void query.refetch()} title="Could not load this invoice" />;
  if (!query.data) return <LoadingState label="Loading invoice…" />;
  if (query.data.invoice.status !== 'draft') {
    return (
      <Stack maw={760}>
        <Empty
          title="Issued invoices cannot be changed"
          description="Corrections to an issued invoice are made with a credit note in the Finance app."
          action={
            <Button component={Link} to={`/admin/invoice/${id}`} variant="default">
              Back to the invoice
            </Button>
          }
        />
      </Stack>
    );
  }
  return <InvoiceEditor existing={query.data} />;
}

function InvoiceEditor({ existing }: { existing: { invoice: InvoiceDetail; etag: string | null } | null }) {
  const session = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const phone = useIsPhone();
  const draft = existing?.invoice ?? null;
  const [customer, setCustomer] = useState<PickedCustomer | null>(draft ? { ...draft.customer, currency: draft.currency } : null);
  const [type, setType] = useState<EditableType>(draft?.type === 'top_up' ? 'top_up' : 'purchase');
  const [lines, setLines] = useState<LineDraft[]>(() => (draft ? linesOf(draft) : [newLine('text')]));
  const [notes, setNotes] = useState(draft?.notes ?? '');
  const [dueDays, setDueDays] = useState<number | string>('');
  const [localError, setLocalError] = useState<string | null>(null);

  const canCatalog = session.apps.includes('customer');
  const settings = useQuery({
    queryKey: [...INVOICES_KEY, 'terms'], // the Invoice app's read-only view of the invoicing settings
    queryFn: ({ signal }) => api.get<InvoicingSettings>('/api/v1/invoices/settings', {}, signal),
    retry: false,
  });
  const products = useQuery({
    queryKey: ['customers', customer?.id, 'sellable-products'],
    queryFn: ({ signal }) => api.get<Page<ProductView>>(`/api/v1/customers/${encodeURIComponent(customer!.id)}/sellable-products`, {}, signal),
    enabled: canCatalog && !!customer && customer.id.startsWith('cus_'),
  });
  const currency = customer?.currency || draft?.currency || '';
  const sellable = useMemo(
    () =>
      (products.data?.data ?? [])
        .filter((p) => !p.archived)
        .map((p) => ({
          ...p,
          variants: p.variants
            .filter((v) => !v.archived)
            .map((v) => ({ ...v, prices: v.prices.filter((pr) => !pr.archived && (!currency || pr.currency === currency)) }))
            .filter((v) => v.prices.length > 0),
        }))
        .filter((p) => p.variants.length > 0),
    [products.data, currency],
  );

  // A Top-up invoice is a deposit: free-text lines, no tax (ADR 0008).
  useEffect(() => {
    if (type === 'top_up') setLines((ls) => ls.map((l) => (l.kind === 'product' ? { ...l, kind: 'text', productId: null, variantId: null, priceId: null } : l)));
  }, [type]);

  // What issuing a Top-up invoice today will do (the server applies the policy at issue: docs/adr/0043).
  const topUpPolicy = useQuery({
    queryKey: [...INVOICES_KEY, 'top-up-policy', currency],
    queryFn: ({ signal }) => api.get<InvoiceTopUpPolicy>('/api/v1/invoices/top-up-policy', { currency }, signal),
    enabled: type === 'top_up' && currency !== '',
    retry: false,
  });

  const taxRateBps = settings.data?.taxRateBps ?? null;
  const preview = previewTotals(
    lines.map((l) => {
      const productTax = l.kind === 'product' ? sellable.find((p) => p.id === l.productId)?.taxCategory ?? 'standard' : l.taxCategory;
      return { quantity: l.quantity, unitPrice: l.unitPrice, discount: l.discount, taxCategory: type === 'top_up' ? 'none' : productTax };
    }),
    currency || 'SGD',
    type === 'top_up' ? 0 : taxRateBps,
  );

  const update = (key: string, patch: Partial<LineDraft>) => setLines((ls) => ls.map((l) => (l.key === key ? { ...l, ...patch } : l)));

  const save = useMutation({
    mutationFn: async (issue: boolean): Promise<InvoiceDetail> => {
      const body = {
        lines: lines.map((l) => lineBody(l, type)),
        ...(notes.trim() !== '' ? { notes: notes.trim() } : draft ? { notes: null } : {}),
        ...(typeof dueDays === 'number' ? { dueDays } : {}),
      };
      if (!draft) {
        const res = await apiRequest<InvoiceDetail>('/api/v1/invoices', {
          method: 'POST',
          body: { customerId: customer?.id ?? '', type, ...body, issue },
          headers: { 'idempotency-key': newIdempotencyKey('invoice') },
        });
        return res.data;
      }
      const res = await apiRequest<InvoiceDetail>(invoicePath(draft.id), {
        method: 'PATCH',
        body,
        headers: existing?.etag ? { 'if-match': existing.etag } : {},
      });
      if (!issue) return res.data;
      return (await apiRequest<InvoiceDetail>(invoicePath(draft.id, 'issue'), { method: 'POST', body: {}, headers: { 'idempotency-key': newIdempotencyKey('issue') } })).data;
    },
    onSuccess: async (inv, issue) => {
      notifications.show({
        color: 'teal',
        title: issue ? 'Invoice issued' : 'Draft saved',
        message: issue ? `${invoiceName(inv)} is issued to ${inv.customer.name}: ${formatMoney(inv.total, inv.currency)}.` : `The draft for ${inv.customer.name} is saved.`,
      });
      await queryClient.invalidateQueries({ queryKey: INVOICES_KEY });
      await navigate(`/admin/invoice/${inv.id}`);
    },
  });
  const stale = isApiError(save.error) && save.error.status === 412;
  // What the last submit found missing, while it is still missing: choosing a customer or adding a line clears it.
  const shownLocalError = (localError === NO_CUSTOMER && customer) || (localError === NO_LINES && lines.length > 0) ? null : localError;
  const submit = (issue: boolean) => (e?: FormEvent) => {
    e?.preventDefault();
    setLocalError(null);
    if (!customer) {
      setLocalError(NO_CUSTOMER);
      return;
    }
    if (lines.length === 0) {
      setLocalError(NO_LINES);
      return;
    }
    save.mutate(issue);
  };
  const shownFields = ['customerId', 'type', 'notes', 'dueDays', 'lines', ...lines.flatMap((_, i) => LINE_FIELDS.map((f) => `lines.${i}.${f}`))];

  // Each line's inputs, drawn as a row of the table or, on a phone, as a card of a list: the same inputs under the same
  // names, so a line is filled in the same way on both.
  const lineViews = lines.map((l, i) => {
    const n = i + 1;
    const err = (f: string) => fieldError(save.error, `lines.${i}.${f}`);
    const product = sellable.find((p) => p.id === l.productId);
    const variant = product?.variants.find((v) => v.id === l.variantId);
    const p = preview.lines[i];
    const planPicker = (
      <Select
        aria-label={`Line ${n} plan`}
        placeholder="Plan"
        data={(product?.variants ?? []).map((v) => ({ value: v.id, label: v.name }))}
        value={l.variantId}
        onChange={(v) => {
          const chosen = product?.variants.find((x) => x.id === v);
          const price = chosen?.prices.find((x) => x.cycle === 'monthly') ?? chosen?.prices[0];
          update(l.key, {
            variantId: v,
            priceId: price?.id ?? null,
            unitPrice: price?.price ?? l.unitPrice,
            description: product && chosen ? `${product.name} · ${chosen.name}` : l.description,
          });
        }}
        disabled={!product}
        error={err('variantId')}
      />
    );
    // Only a plan with more than one price (monthly and yearly) asks which.
    const pricePicker =
      variant && variant.prices.length > 1 ? (
        <Select
          aria-label={`Line ${n} price`}
          data={variant.prices.map((x) => ({ value: x.id, label: `${x.cycle === 'monthly' ? 'Monthly' : 'Yearly'} ${formatMoney(x.price)}` }))}
          value={l.priceId}
          onChange={(v) => update(l.key, { priceId: v, unitPrice: variant.prices.find((x) => x.id === v)?.price ?? l.unitPrice })}
          allowDeselect={false}
        />
      ) : null;
    const cell = {
      number: (
        <Text size="sm" c="dimmed" mt={8}>
          {n}
        </Text>
      ),
      description: (
        <Stack gap={6}>
          {l.kind === 'product' ? (
            <>
              <Select
                aria-label={`Line ${n} product`}
                placeholder={products.isPending ? 'Loading…' : 'Product'}
                data={sellable.map((x) => ({ value: x.id, label: `${x.name} (${x.sku})` }))}
                value={l.productId}
                onChange={(v) => {
                  const chosen = sellable.find((x) => x.id === v);
                  const onlyVariant = chosen && chosen.variants.length === 1 ? chosen.variants[0]! : null;
                  const price = onlyVariant?.prices.find((x) => x.cycle === 'monthly') ?? onlyVariant?.prices[0];
                  update(l.key, {
                    productId: v,
                    variantId: onlyVariant?.id ?? null,
                    priceId: price?.id ?? null,
                    unitPrice: price?.price ?? '',
                    description: chosen ? `${chosen.name}${onlyVariant ? ` · ${onlyVariant.name}` : ''}` : '',
                    taxCategory: chosen?.taxCategory ?? 'standard',
                  });
                }}
                searchable
                nothingFoundMessage="No product matches"
                error={err('productId')}
              />
              {/* On a phone the price picker goes under the plan picker, each the card's width: side by side, half a
                  phone's width each, the price was cut off ("Monthly 20.0…"). */}
              {phone ? (
                <>
                  {planPicker}
                  {pricePicker}
                </>
              ) : (
                <Group gap={6} grow align="flex-start">
                  {planPicker}
                  {pricePicker}
                </Group>
              )}
            </>
          ) : null}
          <TextInput
            aria-label={`Line ${n} description`}
            placeholder={l.kind === 'product' ? 'Description (from the product)' : 'What is billed'}
            value={l.description}
            onChange={(e) => update(l.key, { description: e.currentTarget.value })}
            error={err('description')}
            maxLength={500}
          />
        </Stack>
      ),
      quantity: (
        <TextInput
          aria-label={`Line ${n} quantity`}
          inputMode="decimal"
          value={l.quantity}
          onChange={(e) => update(l.key, { quantity: e.currentTarget.value })}
          error={err('quantity')}
        />
      ),
      unitPrice: (
        <TextInput
          aria-label={`Line ${n} unit price`}
          inputMode="decimal"
          placeholder={l.kind === 'product' ? 'Catalog price' : '0.00'}
          value={l.unitPrice}
          onChange={(e) => update(l.key, { unitPrice: e.currentTarget.value })}
          error={err('unitPrice')}
        />
      ),
      discount: (
        <TextInput
          aria-label={`Line ${n} discount`}
          inputMode="decimal"
          placeholder="0.00"
          value={l.discount}
          onChange={(e) => update(l.key, { discount: e.currentTarget.value })}
          error={err('discount')}
        />
      ),
      tax: (
        <>
          {type === 'top_up' ? (
            <Text size="sm" c="dimmed" mt={8}>
              No tax (deposit)
            </Text>
          ) : l.kind === 'product' ? (
            <Text size="sm" c="dimmed" mt={8} title="Product lines take the product's tax category">
              {TAX_CATEGORY_OPTIONS.find((t) => t.value === (product?.taxCategory ?? l.taxCategory))?.label ?? 'Standard'}
            </Text>
          ) : (
            <Select
              aria-label={`Line ${n} tax category`}
              data={TAX_CATEGORY_OPTIONS}
              value={l.taxCategory}
              onChange={(v) => v && update(l.key, { taxCategory: v })}
              allowDeselect={false}
              error={err('taxCategory')}
            />
          )}
        </>
      ),
      amount: (
        <Text size="sm" mt={8} fw={500} data-testid={`line-${n}-amount`} style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>
          {showMicros(p?.amount ?? null, currency || 'SGD')}
        </Text>
      ),
      remove: (
        <ActionIcon variant="subtle" color="red" mt={4} aria-label={`Remove line ${n}`} onClick={() => setLines((ls) => ls.filter((x) => x.key !== l.key))}>
          <IconTrash size={16} />
        </ActionIcon>
      ),
    };
    if (phone) {
      return (
        <Paper component="li" key={l.key} withBorder radius="md" p="sm" aria-label={`Line ${n}`}>
          <Group justify="space-between" align="flex-start" gap="xs" wrap="nowrap">
            <Text size="sm" fw={600} mt={4}>
              Line {n}
            </Text>
            {cell.remove}
          </Group>
          <Box mt={4}>{cell.description}</Box>
          <SimpleGrid cols={2} spacing="sm" verticalSpacing="xs" mt="xs">
            <LineField label="Quantity">{cell.quantity}</LineField>
            <LineField label="Unit price">{cell.unitPrice}</LineField>
            <LineField label="Discount">{cell.discount}</LineField>
            <LineField label="Tax">{cell.tax}</LineField>
          </SimpleGrid>
          <Group justify="space-between" align="flex-start" mt="xs">
            <Text size="sm" c="dimmed" mt={8}>
              Amount
            </Text>
            {cell.amount}
          </Group>
        </Paper>
      );
    }
    return (
      <Table.Tr key={l.key} style={{ verticalAlign: 'top' }}>
        <Table.Td>{cell.number}</Table.Td>
        <Table.Td>{cell.description}</Table.Td>
        <Table.Td>{cell.quantity}</Table.Td>
        <Table.Td>{cell.unitPrice}</Table.Td>
        <Table.Td>{cell.discount}</Table.Td>
        <Table.Td>{cell.tax}</Table.Td>
        <Table.Td style={{ textAlign: 'right' }}>{cell.amount}</Table.Td>
        <Table.Td>{cell.remove}</Table.Td>
      </Table.Tr>
    );
  });

  return (
    <Stack gap="lg" maw={1240}>
      <Anchor component={Link} to={draft ? `/admin/invoice/${draft.id}` : '/admin/invoice'} size="sm">
        <Group gap={4}>
          <IconArrowLeft size={14} /> {draft ? 'Back to the invoice' : 'All invoices'}
        </Group>
      </Anchor>
      <PageHeader
        title={draft ? `Edit draft for ${draft.customer.name}` : 'New invoice'}
        description="A Purchase invoice bills products or services; a Top-up invoice asks for a deposit to the customer’s points (no tax). Save it as a draft, or issue it now."
      />
      <form onSubmit={submit(false)} noValidate aria-label={draft ? 'Edit invoice' : 'New invoice'}>
        <Stack>
          {stale ? (
            <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />} title="Someone else changed this draft" role="alert">
              Your changes were not saved. Open the invoice again to see the latest version.
            </Alert>
          ) : (
            <FormError error={save.error} fields={shownFields} />
          )}
          {shownLocalError ? (
            <Alert color="red" variant="light" role="alert">
              {shownLocalError}
            </Alert>
          ) : null}
          <Paper withBorder radius="md" p="lg">
            <Group align="flex-end" gap="lg">
              {draft ? (
                <div>
                  <Text size="sm" fw={500}>
                    Customer
                  </Text>
                  <Text size="sm">{draft.customer.name}</Text>
                </div>
              ) : (
                <CustomerPicker
                  label="Customer"
                  value={customer}
                  onChange={(c) => {
                    setCustomer(c);
                    setLines((ls) => ls.map((l) => (l.kind === 'product' ? { ...l, productId: null, variantId: null, priceId: null, unitPrice: '' } : l)));
                  }}
                  error={fieldError(save.error, 'customerId')}
                  required
                  clearable={false}
                  w={320}
                />
              )}
              {draft ? (
                <div>
                  <Text size="sm" fw={500}>
                    Type
                  </Text>
                  <Text size="sm">{type === 'top_up' ? 'Top-up' : 'Purchase'}</Text>
                </div>
              ) : (
                <Stack gap={4}>
                  <Text size="sm" fw={500} id="invoice-type-label">
                    Type
                  </Text>
                  <SegmentedControl
                    aria-labelledby="invoice-type-label"
                    value={type}
                    onChange={(v) => setType(v)}
                    data={[{ value: 'purchase', label: 'Purchase' }, { value: 'top_up', label: 'Top-up' }]}
                  />
                </Stack>
              )}
              {currency ? (
                <div>
                  <Text size="sm" fw={500}>
                    Currency
                  </Text>
                  <Text size="sm">{currency}</Text>
                </div>
              ) : null}
            </Group>
          </Paper>

          <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="editor-lines-title">
            <Group justify="space-between" mb="sm">
              <Title order={3} size="h5" id="editor-lines-title">
                Lines
              </Title>
              <Group gap="xs">
                {type === 'purchase' ? (
                  <Button
                    size="xs"
                    variant="light"
                    leftSection={<IconPackage size={14} />}
                    onClick={() => setLines((ls) => [...ls, newLine('product')])}
                    disabled={!canCatalog || !customer}
                    title={!canCatalog ? 'Product lines need the Customer app (to read what can be sold to the customer)' : !customer ? 'Choose a customer first' : undefined}
                  >
                    Add product line
                  </Button>
                ) : null}
                <Button size="xs" variant="light" leftSection={<IconTextPlus size={14} />} onClick={() => setLines((ls) => [...ls, newLine('text')])}>
                  Add free-text line
                </Button>
              </Group>
            </Group>
            {fieldError(save.error, 'lines') ? (
              <Text size="sm" c="red.7" role="alert" mb="xs">
                {fieldError(save.error, 'lines')}
              </Text>
            ) : null}
            {products.error ? (
              <Text size="sm" c="red.7" mb="xs">
                The catalog could not be loaded: {errorMessage(products.error)}
              </Text>
            ) : null}
            {lines.length === 0 ? (
              <Empty title="No lines yet" description="Add a product line or a free-text line." />
            ) : phone ? (
              <Stack component="ul" role="list" aria-label="Lines" gap="xs" m={0} p={0} style={{ listStyle: 'none' }}>
                {lineViews}
              </Stack>
            ) : (
              <Table.ScrollContainer minWidth={900}>
                <Table aria-label="Lines" verticalSpacing="sm" withRowBorders>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th style={{ width: 32 }}>#</Table.Th>
                      <Table.Th style={{ minWidth: 300 }}>Description</Table.Th>
                      <Table.Th style={{ width: 96 }}>Quantity</Table.Th>
                      <Table.Th style={{ width: 120 }}>Unit price</Table.Th>
                      <Table.Th style={{ width: 104 }}>Discount</Table.Th>
                      <Table.Th style={{ width: 136 }}>Tax</Table.Th>
                      <Table.Th style={{ width: 100, textAlign: 'right' }}>Amount</Table.Th>
                      <Table.Th style={{ width: 40 }} />
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {lineViews}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )}
          </Paper>

          {/* Side by side from the sm breakpoint, one under the other on a phone: a growing Group kept both at half a
              phone's width, the Due days field ran into the totals and the totals' labels were squeezed out. */}
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Paper withBorder radius="md" p="lg">
              <Stack>
                <Textarea
                  label="Notes"
                  description="Printed on the invoice"
                  value={notes}
                  onChange={(e) => setNotes(e.currentTarget.value)}
                  error={fieldError(save.error, 'notes')}
                  autosize
                  minRows={2}
                  maxRows={6}
                  maxLength={2000}
                />
                <NumberInput
                  label="Due days"
                  description={settings.data ? `Days after issue; leave empty for your default (${settings.data.dueDays})` : 'Days after issue; leave empty for your default'}
                  min={0}
                  max={365}
                  allowDecimal={false}
                  allowNegative={false}
                  value={dueDays}
                  onChange={setDueDays}
                  error={fieldError(save.error, 'dueDays')}
                  w="100%"
                  maw={260}
                />
              </Stack>
            </Paper>
            <Paper withBorder radius="md" p="lg" component="section" aria-label="Totals preview">
              <Stack gap={6}>
                <PreviewRow label="Line discounts" value={showMicros(preview.discount, currency || 'SGD')} currency={currency} testId="preview-discount" />
                <PreviewRow label="Subtotal (after discounts)" value={showMicros(preview.subtotal, currency || 'SGD')} currency={currency} testId="preview-subtotal" />
                <PreviewRow
                  label={type === 'top_up' ? 'Tax (none on a top-up)' : taxRateBps === null ? 'Tax' : `Tax (${taxRateBps / 100}% on standard lines)`}
                  value={type !== 'top_up' && taxRateBps === null ? 'on save' : showMicros(preview.tax, currency || 'SGD')}
                  currency={type !== 'top_up' && taxRateBps === null ? '' : currency}
                  testId="preview-tax"
                />
                <PreviewRow label="Total" value={type !== 'top_up' && taxRateBps === null ? 'on save' : showMicros(preview.total, currency || 'SGD')} currency={type !== 'top_up' && taxRateBps === null ? '' : currency} strong testId="preview-total" />
                <Text size="xs" c="dimmed">
                  {preview.complete ? 'A preview: the saved invoice shows the exact figures.' : 'Some lines are not complete yet; the preview leaves them out.'}
                </Text>
                {type === 'top_up' && topUpPolicy.data && <TopUpPolicyHint note={topUpPolicyNote(topUpPolicy.data, preview.complete ? preview.subtotal : null)} />}
              </Stack>
            </Paper>
          </SimpleGrid>

          <Group justify="flex-end">
            <Button variant="default" component={Link} to={draft ? `/admin/invoice/${draft.id}` : '/admin/invoice'}>
              Cancel
            </Button>
            <Button type="submit" variant="light" loading={save.isPending && save.variables === false} disabled={save.isPending || stale}>
              Save draft
            </Button>
            <Button onClick={() => submit(true)()} loading={save.isPending && save.variables === true} disabled={save.isPending || stale}>
              {draft ? 'Save and issue' : 'Issue now'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Stack>
  );
}

/** The top-up policy in words, under a Top-up invoice's totals: what issuing it today adds or refuses. */
function TopUpPolicyHint({ note }: { note: TopUpPolicyNote }) {
  return (
    <Stack gap={2} data-testid="top-up-policy-hint" aria-label="Top-up policy">
      {note.rules.map((r) => (
        <Text key={r} size="sm">
          {r}
        </Text>
      ))}
      {note.thisOne && (
        <Text size="sm" fw={600}>
          {note.thisOne}
        </Text>
      )}
      {note.upcoming && (
        <Text size="xs" c="dimmed">
          {note.upcoming}
        </Text>
      )}
    </Stack>
  );
}

function PreviewRow({ label, value, currency, strong, testId }: { label: string; value: string; currency: string; strong?: boolean; testId: string }) {
  return (
    <Group justify="space-between" wrap="nowrap" gap="xl">
      <Text size="sm" fw={strong ? 700 : undefined} c={strong ? undefined : 'dimmed'}>
        {label}
      </Text>
      <Text size={strong ? 'md' : 'sm'} fw={strong ? 700 : 500} data-testid={testId} style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>
        {/^-?\d/.test(value) ? formatMoney(value, currency || undefined) : value}
      </Text>
    </Group>
  );
}

/** A line's input on a phone's card, under a label of its own (the table's column header says it on a wider screen). */
function LineField({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Box miw={0}>
      <Text size="xs" c="dimmed" mb={2} aria-hidden>
        {label}
      </Text>
      {children}
    </Box>
  );
}
