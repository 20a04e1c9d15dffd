import { useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Group, Modal, NumberInput, Paper, Select, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { api, apiRequest, isFinalRefusal, newIdempotencyKey } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatMoney } from '../../shared/money.ts';
import { titleCase } from '../../shared/format.ts';
import { PURCHASE_MAX_QUANTITY, PURCHASE_MIN_QUANTITY, quantityProblem, validQuantity } from '../../shared/quantity.ts';
import { useSession } from '../../shared/session.tsx';
import { QuoteLines, useSubscriptionQuote } from '../../shared/SubscriptionQuote.tsx';
import type { Page } from '../../shared/types.ts';
import { SERVICES_KEY, type PortalCatalogItem } from './types.ts';
import { useAccountCanBuy } from '../ClosedAccount.tsx';

/**
 * "Buy a subscription" for owners and admins: product, plan and billing cycle from the catalog, a quantity, then
 * `POST /api/v1/portal/subscriptions`. Points pay for it at once; when they fall short, the subscription waits on a
 * Purchase invoice. Members and guests see why they cannot buy.
 */
export function BuySubscriptionButton() {
  const session = useSession();
  const role = session.customer?.role;
  const canBuy = useAccountCanBuy();
  const [opened, setOpened] = useState(false);
  // A closed or suspended account buys nothing new (the API answers 409; the page's notice says so).
  if (!canBuy) return null;
  if (role !== 'owner' && role !== 'admin') {
    return <Text size="xs" c="dimmed">Only owners and admins can buy subscriptions.</Text>;
  }
  return (
    <>
      <Button size="xs" onClick={() => setOpened(true)}>Buy a subscription</Button>
      {opened ? <BuyDialog onClose={() => setOpened(false)} /> : null}
    </>
  );
}

/** The quantities one purchase takes: the API's (and the Customer app's Sell dialog's). */
const MIN_QUANTITY = PURCHASE_MIN_QUANTITY;
const MAX_QUANTITY = PURCHASE_MAX_QUANTITY;

function BuyDialog({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const catalog = useQuery({ queryKey: [...SERVICES_KEY, 'catalog'], queryFn: ({ signal }) => api.get<Page<PortalCatalogItem>>('/api/v1/portal/catalog', {}, signal) });
  const [productId, setProductId] = useState<string | null>(null);
  const [priceId, setPriceId] = useState<string | null>(null);
  const [quantity, setQuantity] = useState<number | string>(1);
  // One key per attempt: a double click or a network retry buys once; a refusal ends the attempt (see isFinalRefusal).
  const [key, setKey] = useState(() => newIdempotencyKey('buy'));
  const products = catalog.data?.data ?? [];
  const product = products.find((p) => p.productId === productId);
  const options = useMemo(
    () => (product?.variants ?? []).flatMap((v) => v.prices.map((p) => ({ ...p, label: `${v.name} · ${titleCase(p.cycle)} · ${formatMoney(p.price, p.currency)}` }))),
    [product],
  );
  const price = options.find((o) => o.priceId === priceId);
  // A quantity that is not one (empty, 0, -3, above the maximum) is said next to the field: never bought as 1, never quoted.
  const qtyProblem = quantityProblem(quantity, MIN_QUANTITY, MAX_QUANTITY);
  const qty = validQuantity(quantity, MIN_QUANTITY, MAX_QUANTITY);
  // What the purchase will actually charge: after any discount, with the activation fee and tax (the server's quote).
  const quote = useSubscriptionQuote('/api/v1/portal/subscriptions/quote', qty === null ? null : priceId, qty ?? MIN_QUANTITY);
  const buy = useMutation({
    mutationFn: async () =>
      (await apiRequest<{ subscription: { status: string; productName: string }; invoice: { number: string; total: string; currency: string } | null }>(
        '/api/v1/portal/subscriptions', { method: 'POST', body: { priceId, quantity: qty }, headers: { 'idempotency-key': key } },
      )).data,
    onSuccess: async ({ subscription, invoice }) => {
      const paid = subscription.status === 'active';
      notifications.show({
        color: paid ? 'teal' : 'yellow',
        title: paid ? 'Subscription bought' : 'Waiting on payment',
        message: paid
          ? `${subscription.productName} is active${invoice ? `; invoice ${invoice.number} (${formatMoney(invoice.total, invoice.currency)}) was paid from your points` : ''}.`
          : `Your points fell short: ${subscription.productName} starts once invoice ${invoice?.number ?? ''} is paid.`,
      });
      await queryClient.invalidateQueries({ queryKey: SERVICES_KEY });
      await queryClient.invalidateQueries({ queryKey: ['portal'] });
      onClose();
    },
    onError: (e) => {
      if (isFinalRefusal(e)) setKey(newIdempotencyKey('buy'));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (price && qty !== null) buy.mutate();
  };
  return (
    <Modal opened onClose={onClose} title="Buy a subscription" centered>
      <form onSubmit={submit} noValidate aria-label="Buy a subscription">
        <Stack>
          {catalog.error ? <Alert color="red" variant="light" role="alert">Could not load the catalog.</Alert> : null}
          <FormError error={buy.error} fields={['priceId', 'quantity']} />
          <Select
            label="Product"
            placeholder={catalog.isPending ? 'Loading…' : 'Choose a product'}
            data={products.map((p) => ({ value: p.productId, label: p.name }))}
            value={productId}
            onChange={(v) => { setProductId(v); setPriceId(null); }}
            searchable
            data-autofocus
          />
          {product?.description ? <Text size="sm" c="dimmed">{product.description}</Text> : null}
          <Select
            label="Plan and billing"
            placeholder="Choose a plan"
            data={options.map((o) => ({ value: o.priceId, label: o.label }))}
            value={priceId}
            onChange={setPriceId}
            disabled={!product}
          />
          <NumberInput
            label="Quantity"
            min={MIN_QUANTITY}
            max={MAX_QUANTITY}
            clampBehavior="none"
            value={quantity}
            onChange={setQuantity}
            error={qtyProblem ?? fieldError(buy.error, 'quantity')}
          />
          {price && qty !== null ? (
            <Paper withBorder radius="md" p="sm" component="section" aria-label="What you will pay">
              <QuoteLines quote={quote.data} error={quote.error} quantity={qty} cycle={price.cycle} />
              <Text size="xs" c="dimmed" mt="xs">
                Then {formatMoney(price.price, price.currency)} per {price.cycle === 'monthly' ? 'month' : 'year'} × {qty} before tax and discounts at each renewal.
                {' '}Paid from your points{quote.data ? ` (usable: ${formatMoney(quote.data.usable, quote.data.currency)})` : ''}; if they fall short, a Purchase invoice waits for payment.
              </Text>
              {quote.data && !quote.data.paidFromPoints ? (
                <Text size="sm" c="orange.8" mt="xs" data-testid="buy-points-short">Your points do not cover this: the subscription will wait on an invoice.</Text>
              ) : null}
            </Paper>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>Cancel</Button>
            <Button type="submit" loading={buy.isPending} disabled={!price || qty === null}>Buy</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
