import { useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Badge, Button, Checkbox, Divider, Group, Modal, NumberInput, Paper, Select, SimpleGrid, Stack, Text, Textarea, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconPlus } from '@tabler/icons-react';
import { versionEtag } from '../../../src/platform/version-etag.ts';
import { api, apiRequest, errorMessage, isApiError, isFinalRefusal, isStale, newIdempotencyKey } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { TerminationQuoteNotice, useTerminationQuote } from '../../shared/TerminationQuoteNotice.tsx';
import { formatDate, titleCase } from '../../shared/format.ts';
import { commonDecimals, formatMicros, formatMoney, isNegative, padDecimals, toMicros, decimalsOf } from '../../shared/money.ts';
import { quantityProblem, validQuantity } from '../../shared/quantity.ts';
import { usePagedList } from '../../shared/queries.ts';
import { ConfirmButton } from '../../shared/ConfirmButton.tsx';
import { QuoteLines, useSubscriptionQuote } from '../../shared/SubscriptionQuote.tsx';
import { AddOnEditDialog, AddOnList, type AddOnCatalogSource, type AddOnEdit } from '../../shared/AddOnDialogs.tsx';
import { addOnActions } from '../../shared/add-ons.ts';
import { DataTable, LoadMore, StatusBadge } from '../../shared/ui.tsx';
import type { Page } from '../../shared/types.ts';
import type { CustomerFull, PriceView, ProductView, SubscriptionView } from './customer-types.ts';

const newKey = () => newIdempotencyKey('sell');
const BASE = '/api/v1/subscriptions';

/**
 * What an add-on can be chosen from: the Sell dialog's catalog (same query), its live products, variants and prices
 * (the add-on dialog keeps those of the subscription's currency and cycle).
 */
function addOnCatalog(customerId: string): AddOnCatalogSource<ProductView> {
  return {
    queryKey: ['customers', customerId, 'sellable-products'],
    path: `/api/v1/customers/${encodeURIComponent(customerId)}/sellable-products`,
    products: (rows) => rows.filter((p) => !p.archived).map((p) => ({
      name: p.name,
      variants: p.variants.filter((v) => !v.archived).map((v) => ({
        name: v.name,
        prices: v.prices.filter((pr) => !pr.archived).map((pr) => ({ priceId: pr.id, cycle: pr.cycle, currency: pr.currency, price: pr.price, activationFee: pr.activationFee })),
      })),
    })),
  };
}

/** An amount of the list: with its currency, and the decimals the list's amounts share (padded with zeros, never cut). */
function Money({ amount, currency, decimals, testId, strong }: { amount: string; currency: string; decimals: number; testId?: string; strong?: boolean }) {
  return (
    <Text size="sm" fw={strong ? 600 : undefined} c={isNegative(amount) ? 'red.7' : undefined} data-testid={testId} style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>
      {formatMoney(padDecimals(amount, decimals), currency)}
    </Text>
  );
}

/** The units one sale takes (src/subscriptions/subscriptions.routes.ts: 1 to 10,000). */
const SELL_MIN_QUANTITY = 1;
const SELL_MAX_QUANTITY = 10_000;

/** What a staff member is told when a subscription changed between their reading it and their action on it. */
export const STALE_SUBSCRIPTION = 'This subscription was changed by someone else; it has been reloaded. Check it and try again.';

/**
 * Customer detail > Subscriptions: what the customer holds, with renewal price, renewal cost and the partner's margin,
 * and each one's add-ons; sell a new one from the catalog; add an add-on or change one's quantity (the server's quote
 * said first); terminate, reactivate, or recover a failed renewal.
 */
export function CustomerSubscriptions({ customer }: { customer: CustomerFull }) {
  const queryClient = useQueryClient();
  const key = ['customers', customer.id, 'subscriptions'] as const;
  const list = usePagedList<SubscriptionView>(key, `/api/v1/customers/${encodeURIComponent(customer.id)}/subscriptions`, { limit: 50 });
  const [selling, setSelling] = useState(false);
  // The subscription an action was refused on because it had changed (412): said above the list, reloaded, until the next action goes through.
  const [stale, setStale] = useState<SubscriptionView | null>(null);
  const [editing, setEditing] = useState<AddOnEdit<SubscriptionView> | null>(null);
  // The API sells a suspended or closed customer nothing: no new add-on, no more units; lowering stays open (findBuyingCustomer).
  const addOns = (s: SubscriptionView) => addOnActions(s, customer.status, new Date().toISOString().slice(0, 10));
  const addOnDone = async (title: string, message: string) => {
    setEditing(null);
    setStale(null);
    notifications.show({ color: 'teal', title, message });
    // The subscriptions, the points and their transactions (the charge), the customer's figures: all under its key.
    await queryClient.invalidateQueries({ queryKey: ['customers', customer.id] });
  };
  const addOnStale = async (s: SubscriptionView) => {
    setEditing(null);
    setStale(s);
    await queryClient.invalidateQueries({ queryKey: key });
  };
  const missing = isApiError(list.error) && list.error.status === 404 && list.error.code !== 'not_found';
  // Price, cost and margin read alike in every row: each with its currency ("SGD 40.50" beside "SGD 18.00", not "18.00"),
  // all with the decimals the one that needs most has.
  const decimals = commonDecimals((list.rows ?? []).flatMap((s) => [s.renewalPrice, s.renewalCost, s.margin]), customer.currency);
  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="subscriptions-title">
      <Group justify="space-between" align="flex-start" mb="md" wrap="nowrap">
        <div>
          <Title order={3} size="h4" id="subscriptions-title">
            Subscriptions
          </Title>
          <Text size="sm" c="dimmed">
            Renewal price is what the customer pays at the next renewal (pre-tax); renewal cost is what it costs you; the margin is the difference.
          </Text>
        </div>
        {/* Its own width: beside the description, a button that shrank cut its label to "Sell subscript". */}
        <Button size="xs" leftSection={<IconPlus size={14} />} onClick={() => setSelling(true)} disabled={customer.status === 'closed'} style={{ flex: 'none' }}>
          Sell subscription
        </Button>
      </Group>
      {stale ? (
        <Alert color="orange" variant="light" role="alert" title={`${stale.productName} · ${stale.variantName} was changed`} withCloseButton onClose={() => setStale(null)} mb="md" data-testid="subscription-stale">
          {STALE_SUBSCRIPTION}
        </Alert>
      ) : null}
      {missing ? (
        <Alert color="gray" variant="light" title="Subscriptions are not available yet">
          This server does not offer subscriptions yet.
        </Alert>
      ) : (
        <DataTable
          label="Subscriptions"
          rows={list.rows}
          loading={list.isPending}
          error={list.error}
          onRetry={() => void list.refetch()}
          rowKey={(s) => s.id}
          emptyTitle="No subscriptions"
          emptyDescription="Sell one with the button above, or the customer buys one in the portal."
          footer={<LoadMore hasNextPage={list.hasNextPage} isFetchingNextPage={list.isFetchingNextPage} onLoadMore={() => void list.fetchNextPage()} />}
          columns={[
            {
              key: 'product',
              header: 'Product',
              render: (s) => (
                <div>
                  <Text size="sm" fw={500}>
                    {s.productName} · {s.variantName}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {s.sku} · {titleCase(s.cycle)}
                    {s.quantity > 1 ? ` · × ${s.quantity}` : ''}
                  </Text>
                  <AddOnList s={s} onChange={addOns(s).change ? (a) => setEditing({ sub: s, addOn: a }) : undefined} />
                </div>
              ),
            },
            { key: 'price', header: 'Renewal price', align: 'right', render: (s) => <Money amount={s.renewalPrice} currency={s.currency} decimals={decimals} testId="renewal-price" /> },
            { key: 'cost', header: 'Renewal cost', align: 'right', render: (s) => <Money amount={s.renewalCost} currency={s.currency} decimals={decimals} testId="renewal-cost" /> },
            {
              key: 'margin',
              header: 'Margin',
              align: 'right',
              render: (s) => (
                <div data-testid="margin">
                  <Money amount={s.margin} currency={s.currency} decimals={decimals} strong />
                  <Text size="xs" c="dimmed">
                    {s.marginPercent === null ? '—' : `${s.marginPercent}%`}
                  </Text>
                </div>
              ),
            },
            {
              key: 'renewal',
              header: 'Next renewal',
              render: (s) => (
                <div>
                  <Text size="sm">{s.nextRenewalAt ? formatDate(s.nextRenewalAt) : '—'}</Text>
                  <Text size="xs" c="dimmed">
                    {s.currentPeriodEnd ? `Expires ${formatDate(s.currentPeriodEnd)}` : ''}
                    {s.status === 'active' && !s.autoRenew ? ' · auto-renew off' : ''}
                  </Text>
                </div>
              ),
            },
            {
              key: 'status',
              header: 'Status',
              render: (s) => (
                <Stack gap={2}>
                  <StatusBadge status={s.status} />
                  {s.lastRenewalFailure ? (
                    <Text size="xs" c="red.7" title={s.lastRenewalFailure.reason}>
                      Renewal failed
                    </Text>
                  ) : null}
                </Stack>
              ),
            },
            {
              key: 'actions', header: 'Actions', align: 'right',
              render: (s) => (
                <SubscriptionActions
                  sub={s}
                  queryKey={key}
                  customerId={customer.id}
                  onAddOn={addOns(s).add ? () => setEditing({ sub: s, addOn: null }) : null}
                  onStale={setStale}
                  onDone={() => setStale(null)}
                />
              ),
            },
          ]}
        />
      )}
      <SellDialog opened={selling} onClose={() => setSelling(false)} customer={customer} queryKey={key} />
      <AddOnEditDialog
        edit={editing}
        basePath={BASE}
        to="customer"
        queryKey={key}
        catalog={addOnCatalog(customer.id)}
        lowerOnly={(s) => addOns(s).change === 'lower'}
        canTopUp={false}
        onClose={() => setEditing(null)}
        onStale={addOnStale}
        onDone={addOnDone}
      />
    </Paper>
  );
}

type Action = 'terminate' | 'reactivate' | 'recover-renewal';

function SubscriptionActions(props: {
  sub: SubscriptionView;
  queryKey: readonly unknown[];
  customerId: string;
  /** Add an add-on, when the API would take one (an active customer, inside the period); null otherwise. */
  onAddOn: (() => void) | null;
  onStale: (sub: SubscriptionView) => void;
  onDone: () => void;
}) {
  const { sub, queryKey, customerId } = props;
  const queryClient = useQueryClient();
  const [terminating, setTerminating] = useState(false);
  const [reason, setReason] = useState('');
  // What terminating now gives back, as the server computes it, read each time the dialog opens.
  const { quote, refused } = useTerminationQuote(`/api/v1/subscriptions/${encodeURIComponent(sub.id)}/termination-quote`, [...queryKey, sub.id, sub.version], terminating);
  const act = useMutation({
    // Terminate and reactivate name the subscription as this row shows it (If-Match: its version's ETag), so one changed
    // meanwhile (auto-renew turned off, renewed, terminated by someone else) is refused (412) instead of acted on blind.
    // A recovery retries the renewal of the whole renewal group, whose route takes no If-Match.
    mutationFn: ({ action, body }: { action: Action; body?: unknown }) =>
      apiRequest<unknown>(`/api/v1/subscriptions/${encodeURIComponent(sub.id)}/${action}`, {
        method: 'POST',
        body: body ?? {},
        headers: { 'idempotency-key': newKey(), ...(action === 'recover-renewal' ? {} : { 'if-match': versionEtag(sub.version) }) },
      }),
    onSuccess: async (_r, v) => {
      const done = { terminate: 'terminated', reactivate: 'reactivated', 'recover-renewal': 'renewed' }[v.action];
      notifications.show({ color: 'teal', message: `${sub.productName} is ${done}.` });
      setTerminating(false);
      setReason('');
      props.onDone();
      await queryClient.invalidateQueries({ queryKey });
      await queryClient.invalidateQueries({ queryKey: ['customers', customerId, 'points'] });
      await queryClient.invalidateQueries({ queryKey: ['customers', customerId, 'notifications'] });
    },
    onError: async (e) => {
      if (!isStale(e)) return;
      // Nothing was done: the dialog closes (the reason typed is kept for the next try), the list is read again, and
      // the section says why, so the next try acts on what the row then shows.
      setTerminating(false);
      act.reset();
      props.onStale(sub);
      await queryClient.invalidateQueries({ queryKey });
    },
  });
  // A refusal because the subscription changed is not the confirm dialog's error: the dialog closes and the section says it.
  const confirmed = (action: Action) => act.mutateAsync({ action }).catch((e: unknown) => {
    if (!isStale(e)) throw e;
  });
  const canTerminate = sub.status === 'active' || sub.status === 'expired' || sub.status === 'pending_payment';
  const canReactivate = sub.status === 'expired';
  const canRecover = sub.lastRenewalFailure !== null && (sub.status === 'active' || sub.status === 'expired');
  if (!canTerminate && !canReactivate && !canRecover && !props.onAddOn) return <Text size="xs" c="dimmed">—</Text>;
  return (
    <Group gap={4} justify="flex-end" wrap="nowrap">
      {props.onAddOn ? (
        <Button size="compact-xs" variant="light" aria-label={`Add an add-on to ${sub.productName} · ${sub.variantName}`} onClick={props.onAddOn}>
          Add-on
        </Button>
      ) : null}
      {canRecover ? (
        <ConfirmButton
          label="Recover"
          buttonProps={{ size: 'compact-xs', variant: 'light' }}
          ariaLabel={`Recover the renewal of ${sub.productName}`}
          title="Recover the failed renewal?"
          message={`${sub.productName} is renewed now, charged from the customer's points (${formatMoney(sub.renewalPrice, sub.currency)} + tax).`}
          confirmLabel="Recover renewal"
          onConfirm={() => confirmed('recover-renewal')}
        />
      ) : null}
      {canReactivate ? (
        <ConfirmButton
          label="Reactivate"
          buttonProps={{ size: 'compact-xs', variant: 'light' }}
          ariaLabel={`Reactivate ${sub.productName}`}
          title="Reactivate this subscription?"
          message={`A full period of ${sub.productName} is charged (${formatMoney(sub.renewalPrice, sub.currency)} + tax), on its original anchor date.`}
          confirmLabel="Reactivate"
          onConfirm={() => confirmed('reactivate')}
        />
      ) : null}
      {canTerminate ? (
        <Button size="compact-xs" variant="subtle" color="red" onClick={() => setTerminating(true)}>
          Terminate
        </Button>
      ) : null}
      <Modal opened={terminating} onClose={() => setTerminating(false)} title={`Terminate ${sub.productName}`} centered>
        <form
          noValidate
          aria-label="Terminate subscription"
          onSubmit={(e) => {
            e.preventDefault();
            act.mutate({ action: 'terminate', body: { reason: reason.trim() } });
          }}
        >
          <Stack>
            <FormError error={act.error} fields={['reason']} />
            <TerminationQuoteNotice quote={quote} to="customer" />
            <Text size="sm" c="dimmed">
              Ends the subscription now. Within 14 days of its activation or renewal the fee is refunded in full to the points; later, the remaining whole months.
            </Text>
            <Textarea label="Reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)} error={fieldError(act.error, 'reason')} required autosize minRows={2} maxLength={500} data-autofocus />
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setTerminating(false)}>
                Cancel
              </Button>
              <Button type="submit" color="red" loading={act.isPending} disabled={refused}>
                Terminate
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </Group>
  );
}

/** `a - b` of two decimal strings of one currency, in the decimals of `a`. */
function minus(a: string, b: string): string {
  const x = toMicros(a);
  const y = toMicros(b);
  return x === null || y === null ? a : formatMicros(x - y, decimalsOf(a));
}

function SellDialog({ opened, onClose, customer, queryKey }: { opened: boolean; onClose: () => void; customer: CustomerFull; queryKey: readonly unknown[] }) {
  const queryClient = useQueryClient();
  const products = useQuery({
    queryKey: ['customers', customer.id, 'sellable-products'],
    queryFn: ({ signal }) => api.get<Page<ProductView>>(`/api/v1/customers/${encodeURIComponent(customer.id)}/sellable-products`, {}, signal),
    enabled: opened,
  });
  const [productId, setProductId] = useState<string | null>(null);
  const [variantId, setVariantId] = useState<string | null>(null);
  const [priceId, setPriceId] = useState<string | null>(null);
  const [quantity, setQuantity] = useState<number | string>(1);
  const [autoRenew, setAutoRenew] = useState(true);
  const [idempotencyKey, setIdempotencyKey] = useState(newKey);

  // Only what can be sold to this customer: live products, variants and prices in its currency.
  const sellable = useMemo(
    () =>
      (products.data?.data ?? [])
        .filter((p) => !p.archived)
        .map((p) => ({
          ...p,
          variants: p.variants
            .filter((v) => !v.archived)
            .map((v) => ({ ...v, prices: v.prices.filter((pr) => !pr.archived && pr.currency === customer.currency) }))
            .filter((v) => v.prices.length > 0),
        }))
        .filter((p) => p.variants.length > 0),
    [products.data, customer.currency],
  );
  const product = sellable.find((p) => p.id === productId);
  const variant = product?.variants.find((v) => v.id === variantId);
  const price: PriceView | undefined = variant?.prices.find((p) => p.id === priceId);
  // A quantity that is not one (empty, 0, above what the API sells) is said next to its field: never sold as 1, never quoted.
  const qtyProblem = quantityProblem(quantity, SELL_MIN_QUANTITY, SELL_MAX_QUANTITY);
  const qty = validQuantity(quantity, SELL_MIN_QUANTITY, SELL_MAX_QUANTITY);
  // What the sale will actually charge: after the customer's discount, with the activation fee and tax (the server's quote).
  const quote = useSubscriptionQuote(`/api/v1/customers/${encodeURIComponent(customer.id)}/subscriptions/quote`, qty === null ? null : price?.id, qty ?? 1);
  const q = qty === null ? undefined : quote.data;
  // The price, cost and margin figures with the same decimals (a cost with sub-cent digits pads the others).
  const sellDecimals = q ? commonDecimals([minus(q.price, q.discount), q.cost ?? '0', q.margin ?? '0'], q.currency) : 2;

  const reset = () => {
    setProductId(null);
    setVariantId(null);
    setPriceId(null);
    setQuantity(1);
    setAutoRenew(true);
    setIdempotencyKey(newKey());
    sell.reset();
  };
  const close = () => {
    reset();
    onClose();
  };
  const sell = useMutation({
    mutationFn: async () =>
      (await apiRequest<{ subscription: SubscriptionView; invoice: { number: string; status: string; total: string; currency: string } | null }>(
        `/api/v1/customers/${encodeURIComponent(customer.id)}/subscriptions`,
        { method: 'POST', body: { priceId, quantity: qty, autoRenew }, headers: { 'idempotency-key': idempotencyKey } },
      )).data,
    onSuccess: async ({ subscription, invoice }) => {
      const paid = subscription.status === 'active';
      notifications.show({
        color: paid ? 'teal' : 'yellow',
        title: paid ? 'Subscription sold' : 'Waiting on payment',
        message: paid
          ? `${subscription.productName} is active${invoice ? `; invoice ${invoice.number} (${formatMoney(invoice.total, invoice.currency)}) was paid from points` : ''}.`
          : `Points fell short: ${subscription.productName} starts once invoice ${invoice?.number ?? ''} is paid.`,
      });
      close();
      await queryClient.invalidateQueries({ queryKey });
      await queryClient.invalidateQueries({ queryKey: ['customers', customer.id] });
    },
    onError: (e) => {
      // Refused, nothing was sold: the next try (another plan, another quantity) is a new request with a new key.
      if (isFinalRefusal(e)) setIdempotencyKey(newKey());
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!price || qty === null) return;
    sell.mutate();
  };

  return (
    <Modal opened={opened} onClose={close} title="Sell subscription" centered size="lg">
      <form onSubmit={submit} noValidate aria-label="Sell subscription">
        <Stack>
          {products.error ? (
            <Alert color="red" variant="light" role="alert">
              {errorMessage(products.error)}
            </Alert>
          ) : null}
          <FormError error={sell.error} fields={['priceId', 'quantity']} />
          {products.data && sellable.length === 0 ? (
            <Text size="sm" c="dimmed">
              No product has a price in {customer.currency} yet. Add one in the Product app.
            </Text>
          ) : null}
          <Select
            label="Product"
            placeholder={products.isPending ? 'Loading the catalog…' : 'Choose a product'}
            data={sellable.map((p) => ({ value: p.id, label: `${p.name} (${p.sku})` }))}
            value={productId}
            onChange={(v) => {
              setProductId(v);
              setVariantId(null);
              setPriceId(null);
            }}
            searchable
            nothingFoundMessage="No product matches"
            data-autofocus
          />
          <Group grow align="flex-start">
            <Select
              label="Plan"
              placeholder="Choose a plan"
              data={(product?.variants ?? []).map((v) => ({ value: v.id, label: v.name }))}
              value={variantId}
              onChange={(v) => {
                setVariantId(v);
                const only = product?.variants.find((x) => x.id === v)?.prices;
                setPriceId(only && only.length === 1 ? only[0]!.id : null);
              }}
              disabled={!product}
            />
            <Select
              label="Billing cycle"
              placeholder="Choose a cycle"
              data={(variant?.prices ?? []).map((p) => ({ value: p.id, label: titleCase(p.cycle) }))}
              value={priceId}
              onChange={setPriceId}
              disabled={!variant}
              error={fieldError(sell.error, 'priceId')}
            />
          </Group>
          <Group grow align="flex-start">
            <NumberInput label="Quantity" min={SELL_MIN_QUANTITY} max={SELL_MAX_QUANTITY} clampBehavior="none" allowDecimal={false} value={quantity} onChange={setQuantity}
              error={qtyProblem ?? fieldError(sell.error, 'quantity')} />
            <Checkbox label="Renew automatically" checked={autoRenew} onChange={(e) => setAutoRenew(e.currentTarget.checked)} mt={30} />
          </Group>
          {price ? (
            <Paper withBorder radius="md" p="md" bg="var(--mantine-color-gray-0)" aria-label="Price, cost and margin" component="section">
              <SimpleGrid cols={3}>
                <div>
                  <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                    Price / {price.cycle === 'monthly' ? 'month' : 'year'}
                  </Text>
                  <Text fw={600} data-testid="sell-price">{q ? formatMoney(padDecimals(minus(q.price, q.discount), sellDecimals), q.currency) : '…'}</Text>
                </div>
                <div>
                  <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                    Cost
                  </Text>
                  <Text fw={600} data-testid="sell-cost">{q?.cost !== undefined ? formatMoney(padDecimals(q.cost, sellDecimals), q.currency) : '…'}</Text>
                </div>
                <div>
                  <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                    Margin
                  </Text>
                  <Text fw={600} c={q?.margin !== undefined && isNegative(q.margin) ? 'red.7' : 'teal.7'} data-testid="sell-margin">
                    {q?.margin !== undefined ? formatMoney(padDecimals(q.margin, sellDecimals), q.currency) : '…'}
                    {q?.marginPercent ? ` (${q.marginPercent}%)` : ''}
                  </Text>
                </div>
              </SimpleGrid>
              <Divider my="sm" />
              <QuoteLines quote={q} error={quote.error} quantity={qty ?? 1} cycle={price.cycle} />
              <Text size="xs" c="dimmed" mt="xs">
                Price, cost and margin are pre-tax, after the customer’s discount. The total is charged from the customer’s points now (usable:{' '}
                {formatMoney(q?.usable ?? customer.usable, customer.currency)}); if they fall short, the subscription waits on an unpaid Purchase invoice.
              </Text>
              {q && !q.paidFromPoints ? (
                <Badge color="orange" variant="light" mt="xs" tt="none" data-testid="sell-points-short">
                  Points look short: it will wait on an invoice
                </Badge>
              ) : null}
            </Paper>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" disabled={!price || qty === null} loading={sell.isPending}>
              Sell
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
