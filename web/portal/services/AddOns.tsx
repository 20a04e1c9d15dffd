import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Alert, Anchor, Button, Group, Modal, NumberInput, Paper, Select, Stack, Text } from '@mantine/core';
import { versionEtag } from '../../../src/platform/version-etag.ts';
import { api, apiRequest, errorMessage, isApiError, isFinalRefusal, isStale, newIdempotencyKey } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatMoney } from '../../shared/money.ts';
import type { Page } from '../../shared/types.ts';
import {
  addOnChoices, addOnLabel, addOnQuantityText, addOnQuoteText, addOnShortfallText, addOnTerms, chargedText, latestCharge, periodWord, quantityChange,
  type AddOnQuote, type HistoryItem,
} from './add-ons.ts';
import { subscriptionLabel } from './queries.ts';
import { SERVICES_KEY, type PortalAddOn, type PortalCatalogItem, type PortalSubscription } from './types.ts';

const subPath = (s: PortalSubscription, rest = '') => `/api/v1/portal/subscriptions/${encodeURIComponent(s.id)}${rest}`;

/**
 * After a change that charged: what it charged, as the subscription's history records it, read once; a failure to read
 * it only leaves the amount unsaid (the change is done).
 */
async function chargeOf(s: PortalSubscription, kind: string): Promise<HistoryItem | null> {
  try {
    return latestCharge((await api.get<{ history: HistoryItem[] }>(subPath(s))).history, kind);
  } catch {
    return null;
  }
}
const UNSAID_CHARGE = 'It was charged from your points: see the transactions under Points.';

/**
 * The server's quote of a change (`rest`: '/add-ons/quote' or '/add-ons/{id}/quote'; null while there is nothing to quote),
 * asked again for every choice and quantity, never kept: what it says is the amount the change would take now.
 */
function useAddOnQuote(sub: PortalSubscription, rest: string | null, query: Record<string, string | number>) {
  return useQuery({
    queryKey: [...SERVICES_KEY, sub.id, sub.version, 'add-on-quote', rest, query],
    queryFn: ({ signal }) => api.get<AddOnQuote>(subPath(sub, rest!), query, signal),
    enabled: rest !== null, staleTime: 0, gcTime: 0, retry: false,
  });
}

/** The quote said: the amount and what makes it, points that fall short with where to top up, or why it cannot be done. */
function AddOnQuoteNotice({ quote, canTopUp, onNavigate }: { quote: ReturnType<typeof useAddOnQuote>; canTopUp: boolean; onNavigate: () => void }) {
  if (quote.isPending) return <Text size="sm" c="dimmed">Working out the charge…</Text>;
  if (quote.error) return <Alert color="red" variant="light" data-testid="add-on-quote-refused">{errorMessage(quote.error)}</Alert>;
  const text = addOnQuoteText(quote.data);
  const shortfall = addOnShortfallText(quote.data);
  return (
    <>
      {text ? <Text size="sm" fw={500} data-testid="add-on-quote">{text}</Text> : null}
      {shortfall ? (
        <Alert color="orange" variant="light" role="alert" title="Not enough points" data-testid="add-on-shortfall">
          <Text size="sm">{shortfall}</Text>
          <TopUpHint canTopUp={canTopUp} onNavigate={onNavigate} testId="add-on-top-up" />
        </Alert>
      ) : null}
    </>
  );
}

/**
 * A subscription's add-ons under its name: each with its quantity (and a lower one planned for the renewal) and its renewal
 * price per period; owners and admins get a Change button on each (`onChange`), named after the add-on and the subscription.
 */
export function AddOnList({ s, onChange }: { s: PortalSubscription; onChange?: ((a: PortalAddOn) => void) | undefined }) {
  if (s.addOns.length === 0) return null;
  const label = subscriptionLabel(s);
  return (
    <Stack gap={2} mt={4} component="ul" aria-label={`Add-ons of ${label}`} style={{ listStyle: 'none', padding: 0, margin: 0 }}>
      {s.addOns.map((a) => (
        <Group key={a.id} component="li" gap={6} wrap="wrap" data-testid="add-on">
          <Text size="xs">
            + {addOnLabel(a)} {addOnQuantityText(s, a)}
          </Text>
          <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap', fontVariantNumeric: 'tabular-nums' }}>
            {formatMoney(a.renewalPrice, s.currency)} / {periodWord(s.cycle)}
          </Text>
          {onChange ? (
            <Button size="compact-xs" variant="subtle" aria-label={`Change the quantity of ${addOnLabel(a)} on ${label}`} onClick={() => onChange(a)}>
              Change
            </Button>
          ) : null}
        </Group>
      ))}
    </Stack>
  );
}

/** Points fell short: where to top up, or whom to ask when the provider hides points. */
export function TopUpHint({ canTopUp, onNavigate, testId }: { canTopUp: boolean; onNavigate: () => void; testId: string }) {
  return (
    <Text size="sm" data-testid={testId}>
      {canTopUp ? (
        <>
          <Anchor component={Link} to="/portal?tab=points" onClick={onNavigate}>
            Top up your points
          </Anchor>{' '}
          and try again.
        </>
      ) : (
        'Ask your provider to add points, then try again.'
      )}
    </Text>
  );
}

interface DialogProps {
  sub: PortalSubscription;
  canTopUp: boolean;
  onClose: () => void;
  onStale: (s: PortalSubscription) => Promise<void>;
  /** Done: what the section then says (the charge as the server recorded it, or what the change does). */
  onDone: (title: string, message: string) => Promise<void>;
}

/**
 * Add an add-on: a price the API accepts for this subscription (its cycle and currency, from the catalog), a quantity,
 * the amount it charges now (the server's quote) beside the rule in words. One Idempotency-Key per attempt, the If-Match
 * of the version the row showed; points that fall short are said before (the quote) and after (a refusal meanwhile),
 * with where to top up.
 */
export function AddAddOnDialog(props: DialogProps) {
  const { sub } = props;
  const catalog = useQuery({
    queryKey: [...SERVICES_KEY, 'catalog'],
    queryFn: ({ signal }) => api.get<Page<PortalCatalogItem>>('/api/v1/portal/catalog', {}, signal),
  });
  const choices = addOnChoices(catalog.data?.data ?? [], sub);
  const [priceId, setPriceId] = useState<string | null>(null);
  const [quantity, setQuantity] = useState<number | string>(1);
  const [key, setKey] = useState(() => newIdempotencyKey('add-on'));
  const choice = choices.find((c) => c.priceId === priceId);
  const qty = typeof quantity === 'number' && Number.isInteger(quantity) && quantity > 0 ? quantity : null;
  const quote = useAddOnQuote(sub, choice && qty !== null ? '/add-ons/quote' : null, { priceId: priceId ?? '', quantity: qty ?? 1 });
  const uncovered = quote.data?.coveredByPoints === false;
  const act = useMutation({
    mutationFn: async () => {
      await apiRequest<PortalSubscription>(subPath(sub, '/add-ons'), {
        method: 'POST', body: { priceId, quantity: qty }, headers: { 'idempotency-key': key, 'if-match': versionEtag(sub.version) },
      });
      return chargeOf(sub, 'add_on_added');
    },
    onSuccess: (charged) => props.onDone(
      `${choice ? `${choice.productName} · ${choice.variantName}` : 'The add-on'} × ${qty} was added to ${subscriptionLabel(sub)}`,
      charged ? chargedText(charged, sub.currency) : UNSAID_CHARGE,
    ),
    onError: async (e) => {
      if (isFinalRefusal(e)) setKey(newIdempotencyKey('add-on'));
      if (isStale(e)) await props.onStale(sub);
    },
  });
  const short = isApiError(act.error) && act.error.code === 'insufficient_points';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (choice && qty !== null) act.mutate();
  };
  const label = subscriptionLabel(sub);
  return (
    <Modal opened onClose={props.onClose} title={`Add an add-on to ${label}`} centered>
      <form noValidate aria-label="Add an add-on" onSubmit={submit}>
        <Stack>
          <FormError error={act.error} fields={['priceId', 'quantity']} title={short ? 'Not enough points' : undefined} />
          {short && !uncovered ? <TopUpHint canTopUp={props.canTopUp} onNavigate={props.onClose} testId="add-on-top-up" /> : null}
          {catalog.error ? <Alert color="red" variant="light" role="alert">Could not load the add-ons you can choose from.</Alert> : null}
          {catalog.data && choices.length === 0 ? (
            <Text size="sm" c="dimmed">
              Nothing can be added: your provider sells no other {sub.cycle} plan in {sub.currency}, or it is on this subscription already.
            </Text>
          ) : null}
          <Select
            label="Add-on"
            placeholder={catalog.isPending ? 'Loading…' : `A ${sub.cycle} plan in ${sub.currency}`}
            data={choices.map((c) => ({ value: c.priceId, label: c.label }))}
            value={priceId}
            onChange={setPriceId}
            error={fieldError(act.error, 'priceId')}
            searchable
            comboboxProps={{ withinPortal: true }}
            data-autofocus
          />
          <NumberInput label="Quantity" min={1} max={10000} allowDecimal={false} value={quantity} onChange={setQuantity} error={fieldError(act.error, 'quantity')} />
          {choice ? (
            <Paper withBorder radius="md" p="sm" component="section" aria-label="What you will pay">
              <Stack gap={6}>
                {qty !== null ? <AddOnQuoteNotice quote={quote} canTopUp={props.canTopUp} onNavigate={props.onClose} /> : null}
                <Text size="xs" c="dimmed" data-testid="add-on-terms">{addOnTerms(sub, choice)}</Text>
              </Stack>
            </Paper>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={props.onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={act.isPending} disabled={!choice || qty === null || uncovered || Boolean(quote.error)}>
              Add
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/**
 * Change an add-on's quantity: what the new one does is said as it is typed (more: charged now, pro rata; fewer or 0: at
 * the next renewal, nothing refunded). A suspended or closed organisation can only lower it (more units are a sale).
 */
export function ChangeAddOnDialog(props: DialogProps & { addOn: PortalAddOn; lowerOnly: boolean }) {
  const { sub, addOn } = props;
  const [quantity, setQuantity] = useState<number | string>(addOn.pendingQuantity ?? addOn.quantity);
  const [key, setKey] = useState(() => newIdempotencyKey('add-on-quantity'));
  const qty = typeof quantity === 'number' && Number.isInteger(quantity) && quantity >= 0 ? quantity : null;
  const change = qty === null ? null : quantityChange(sub, addOn, qty);
  const refusedRaise = props.lowerOnly && change?.kind === 'raise';
  const quoting = change?.kind === 'raise' && !refusedRaise;
  const quote = useAddOnQuote(sub, quoting ? `/add-ons/${encodeURIComponent(addOn.id)}/quote` : null, { quantity: qty ?? 0 });
  const uncovered = quoting && quote.data?.coveredByPoints === false;
  const act = useMutation({
    mutationFn: async () => {
      await apiRequest<PortalSubscription>(subPath(sub, `/add-ons/${encodeURIComponent(addOn.id)}`), {
        method: 'PATCH', body: { quantity: qty }, headers: { 'idempotency-key': key, 'if-match': versionEtag(sub.version) },
      });
      return change?.kind === 'raise' ? chargeOf(sub, 'quantity_changed') : null;
    },
    onSuccess: (charged) => props.onDone(
      `${addOnLabel(addOn)} on ${subscriptionLabel(sub)} was changed`,
      change?.kind === 'raise' ? `It is now ${qty}. ${charged ? chargedText(charged, sub.currency) : UNSAID_CHARGE}` : change?.text ?? '',
    ),
    onError: async (e) => {
      if (isFinalRefusal(e)) setKey(newIdempotencyKey('add-on-quantity'));
      if (isStale(e)) await props.onStale(sub);
    },
  });
  const short = isApiError(act.error) && act.error.code === 'insufficient_points';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (change && change.kind !== 'none' && !refusedRaise) act.mutate();
  };
  return (
    <Modal opened onClose={props.onClose} title={`Change ${addOnLabel(addOn)} on ${subscriptionLabel(sub)}`} centered>
      <form noValidate aria-label="Change the quantity" onSubmit={submit}>
        <Stack>
          <FormError error={act.error} fields={['quantity']} title={short ? 'Not enough points' : undefined} />
          {short && !uncovered ? <TopUpHint canTopUp={props.canTopUp} onNavigate={props.onClose} testId="add-on-top-up" /> : null}
          <Text size="sm">You have {addOn.quantity}{addOn.pendingQuantity !== null ? ` (${addOn.pendingQuantity} from the next renewal)` : ''}.</Text>
          <NumberInput
            label="Quantity"
            description={props.lowerOnly ? 'Your account is not active: the quantity can only be lowered.' : '0 removes it at the next renewal.'}
            min={0}
            max={props.lowerOnly ? addOn.quantity : 10000}
            allowDecimal={false}
            allowNegative={false}
            value={quantity}
            onChange={setQuantity}
            error={refusedRaise ? `At most ${addOn.quantity}` : fieldError(act.error, 'quantity')}
            data-autofocus
          />
          {quoting ? <AddOnQuoteNotice quote={quote} canTopUp={props.canTopUp} onNavigate={props.onClose} /> : null}
          {change && !refusedRaise ? <Text size="sm" c={quoting ? 'dimmed' : undefined} data-testid="add-on-change-terms">{change.text}</Text> : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={props.onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={act.isPending} disabled={!change || change.kind === 'none' || refusedRaise || uncovered || (quoting && Boolean(quote.error))}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
