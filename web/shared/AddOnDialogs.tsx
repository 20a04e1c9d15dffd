import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Alert, Anchor, Button, Group, Modal, NumberInput, Paper, Select, Stack, Text } from '@mantine/core';
import { versionEtag } from '../../src/platform/version-etag.ts';
import { api, apiRequest, errorMessage, isApiError, isFinalRefusal, isStale, newIdempotencyKey } from './api.ts';
import { FormError, fieldError } from './forms.tsx';
import type { Page } from './types.ts';
import {
  addOnChoices, addOnHasText, addOnLabel, addOnQuoteText, addOnRowText, addOnsEnded, addOnShortfallText, addOnTerms, chargedText, latestCharge, lowerOnlyText,
  noChoicesText, quantityChange, unsaidChargeText,
  type AddOnCatalogProduct, type AddOnQuote, type AddOnSubscription, type AddOnView, type Audience, type HistoryItem,
} from './add-ons.ts';

/**
 * The add-on dialogs of the portal (`to: 'you'`, `basePath` /api/v1/portal/subscriptions) and of the Customer app
 * (`to: 'customer'`, /api/v1/subscriptions): the same routes under each, the same quote shown first, the same sentences
 * said to the customer or to staff about it.
 */
const subPath = (basePath: string, s: AddOnSubscription, rest = '') => `${basePath}/${encodeURIComponent(s.id)}${rest}`;

/**
 * After a change that charged: what it charged, as the subscription's history records it, read once; a failure to read
 * it only leaves the amount unsaid (the change is done).
 */
async function chargeOf(basePath: string, s: AddOnSubscription, kind: string): Promise<HistoryItem | null> {
  try {
    return latestCharge((await api.get<{ history: HistoryItem[] }>(subPath(basePath, s))).history, kind);
  } catch {
    return null;
  }
}

/**
 * The server's quote of a change (`path`: '.../add-ons/quote' or '.../add-ons/{id}/quote'; null while there is nothing to
 * quote), asked again for every choice and quantity, never kept: what it says is the amount the change would take now.
 */
function useAddOnQuote(path: string | null, key: readonly unknown[], query: Record<string, string | number>) {
  return useQuery({
    queryKey: [...key, 'add-on-quote', path, query],
    queryFn: ({ signal }) => api.get<AddOnQuote>(path!, query, signal),
    enabled: path !== null, staleTime: 0, gcTime: 0, retry: false,
  });
}

/**
 * Points fell short: to the customer, where to top up (or whom to ask when the provider hides points); to staff, who
 * can add points (Finance issues them, or the customer tops up in the portal), with no link into the portal.
 */
export function TopUpHint({ to = 'you', canTopUp, onNavigate, testId }: { to?: Audience; canTopUp: boolean; onNavigate: () => void; testId: string }) {
  if (to === 'customer') {
    return (
      <Text size="sm" data-testid={testId}>
        Finance can issue points to the customer, or the customer can top up in the portal; then try again.
      </Text>
    );
  }
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

/** The quote said: the amount and what makes it, points that fall short with the hint, or why it cannot be done. */
function AddOnQuoteNotice({ quote, to, canTopUp, onNavigate }: { quote: ReturnType<typeof useAddOnQuote>; to: Audience; canTopUp: boolean; onNavigate: () => void }) {
  if (quote.isPending) return <Text size="sm" c="dimmed">Working out the charge…</Text>;
  if (quote.error) return <Alert color="red" variant="light" data-testid="add-on-quote-refused">{errorMessage(quote.error)}</Alert>;
  const text = addOnQuoteText(quote.data, to);
  const shortfall = addOnShortfallText(quote.data, to);
  return (
    <>
      {text ? <Text size="sm" fw={500} data-testid="add-on-quote">{text}</Text> : null}
      {shortfall ? (
        <Alert color="orange" variant="light" role="alert" title="Not enough points" data-testid="add-on-shortfall">
          <Text size="sm">{shortfall}</Text>
          <TopUpHint to={to} canTopUp={canTopUp} onNavigate={onNavigate} testId="add-on-top-up" />
        </Alert>
      ) : null}
    </>
  );
}

/**
 * A subscription's add-ons under its name: each with its quantity (and a lower one planned for the renewal) and its renewal
 * price per period; those who may change them get a Change button on each (`onChange`), named after the add-on and the
 * subscription. A terminated subscription's add-ons ended with it: dimmed, said so, with nothing to change.
 */
export function AddOnList<S extends AddOnSubscription>({ s, onChange }: { s: S; onChange?: ((a: S['addOns'][number]) => void) | undefined }) {
  if (s.addOns.length === 0) return null;
  const label = addOnLabel(s);
  const change = addOnsEnded(s) ? undefined : onChange;
  return (
    <Stack gap={2} mt={4} component="ul" aria-label={`Add-ons of ${label}`} style={{ listStyle: 'none', padding: 0, margin: 0 }}>
      {s.addOns.map((a) => {
        const row = addOnRowText(s, a);
        return (
          <Group key={a.id} component="li" gap={6} wrap="wrap" data-testid="add-on" data-ended={row.ended ? 'true' : undefined}>
            <Text size="xs" c={row.ended ? 'dimmed' : undefined}>
              {row.quantity}
            </Text>
            <Text size="xs" c="dimmed" fs={row.ended ? 'italic' : undefined} style={{ whiteSpace: 'nowrap', fontVariantNumeric: 'tabular-nums' }}>
              {row.after}
            </Text>
            {change ? (
              <Button size="compact-xs" variant="subtle" aria-label={`Change the quantity of ${addOnLabel(a)} on ${label}`} onClick={() => change(a)}>
                Change
              </Button>
            ) : null}
          </Group>
        );
      })}
    </Stack>
  );
}

/** Where the add-on dialogs act and whom they speak to. */
interface DialogProps<S extends AddOnSubscription> {
  sub: S;
  /** '/api/v1/portal/subscriptions' or '/api/v1/subscriptions'. */
  basePath: string;
  to: Audience;
  /** The query key the quotes are kept under (with the subscription's id and version). */
  queryKey: readonly unknown[];
  /** The portal: whether Points is shown (where to top up); ignored for staff. */
  canTopUp: boolean;
  onClose: () => void;
  onStale: (s: S) => Promise<void>;
  /** Done: what the section then says (the charge as the server recorded it, or what the change does). */
  onDone: (title: string, message: string) => Promise<void>;
}

/** Where the Add dialog reads the prices on sale: a page of catalog rows (the portal's, or the Customer app's sellable products). */
export interface AddOnCatalogSource<C> {
  queryKey: readonly unknown[];
  path: string;
  products: (rows: readonly C[]) => readonly AddOnCatalogProduct[];
}

/**
 * One add-on write from a dialog: an Idempotency-Key per attempt (a new one once refused for good), the If-Match of the
 * version the row showed, then what it charged read back (`chargeKind`, the history item it records; null: it charges
 * nothing) and said (`said`). A 412 hands the subscription back (`onStale`); `short`: points fell short meanwhile.
 */
function useAddOnWrite<S extends AddOnSubscription>(
  props: DialogProps<S>,
  keyKind: 'add-on' | 'add-on-quantity',
  write: { method: 'POST' | 'PATCH'; rest: string; body: unknown; chargeKind: string | null },
  said: (charged: HistoryItem | null) => [title: string, message: string],
) {
  const { sub, basePath } = props;
  const [key, setKey] = useState(() => newIdempotencyKey(keyKind));
  const act = useMutation({
    mutationFn: async () => {
      await apiRequest<S>(subPath(basePath, sub, write.rest), {
        method: write.method, body: write.body, headers: { 'idempotency-key': key, 'if-match': versionEtag(sub.version) },
      });
      return write.chargeKind ? chargeOf(basePath, sub, write.chargeKind) : null;
    },
    onSuccess: (charged) => props.onDone(...said(charged)),
    onError: async (e) => {
      if (isFinalRefusal(e)) setKey(newIdempotencyKey(keyKind));
      if (isStale(e)) await props.onStale(sub);
    },
  });
  return { act, short: isApiError(act.error) && act.error.code === 'insufficient_points' };
}

/**
 * Add an add-on: a price the API accepts for this subscription (its cycle and currency, from the catalog), a quantity,
 * the amount it charges now (the server's quote) beside the rule in words. One Idempotency-Key per attempt, the If-Match
 * of the version the row showed; points that fall short are said before (the quote) and after (a refusal meanwhile),
 * with where to top up.
 */
export function AddAddOnDialog<S extends AddOnSubscription, C>(props: DialogProps<S> & { catalog: AddOnCatalogSource<C> }) {
  const { sub, basePath, to } = props;
  const catalog = useQuery({
    queryKey: props.catalog.queryKey,
    queryFn: ({ signal }) => api.get<Page<C>>(props.catalog.path, {}, signal),
  });
  const choices = addOnChoices(catalog.data ? props.catalog.products(catalog.data.data) : [], sub);
  const [priceId, setPriceId] = useState<string | null>(null);
  const [quantity, setQuantity] = useState<number | string>(1);
  const choice = choices.find((c) => c.priceId === priceId);
  const qty = typeof quantity === 'number' && Number.isInteger(quantity) && quantity > 0 ? quantity : null;
  const quote = useAddOnQuote(choice && qty !== null ? subPath(basePath, sub, '/add-ons/quote') : null, [...props.queryKey, sub.id, sub.version], { priceId: priceId ?? '', quantity: qty ?? 1 });
  const uncovered = quote.data?.coveredByPoints === false;
  const { act, short } = useAddOnWrite(props, 'add-on', { method: 'POST', rest: '/add-ons', body: { priceId, quantity: qty }, chargeKind: 'add_on_added' }, (charged) => [
    `${choice ? `${choice.productName} · ${choice.variantName}` : 'The add-on'} × ${qty} was added to ${addOnLabel(sub)}`,
    charged ? chargedText(charged, sub.currency, to) : unsaidChargeText(to),
  ]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (choice && qty !== null) act.mutate();
  };
  const label = addOnLabel(sub);
  return (
    <Modal opened onClose={props.onClose} title={`Add an add-on to ${label}`} centered>
      <form noValidate aria-label="Add an add-on" onSubmit={submit}>
        <Stack>
          <FormError error={act.error} fields={['priceId', 'quantity']} title={short ? 'Not enough points' : undefined} />
          {short && !uncovered ? <TopUpHint to={to} canTopUp={props.canTopUp} onNavigate={props.onClose} testId="add-on-top-up" /> : null}
          {catalog.error ? <Alert color="red" variant="light" role="alert">Could not load the add-ons you can choose from.</Alert> : null}
          {catalog.data && choices.length === 0 ? <Text size="sm" c="dimmed">{noChoicesText(sub, to)}</Text> : null}
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
            <Paper withBorder radius="md" p="sm" component="section" aria-label={to === 'you' ? 'What you will pay' : 'What the customer will pay'}>
              <Stack gap={6}>
                {qty !== null ? <AddOnQuoteNotice quote={quote} to={to} canTopUp={props.canTopUp} onNavigate={props.onClose} /> : null}
                <Text size="xs" c="dimmed" data-testid="add-on-terms">{addOnTerms(sub, choice, to)}</Text>
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
 * the next renewal, nothing refunded). A suspended or closed customer can only lower it (more units are a sale).
 */
export function ChangeAddOnDialog<S extends AddOnSubscription>(props: DialogProps<S> & { addOn: AddOnView; lowerOnly: boolean }) {
  const { sub, addOn, basePath, to } = props;
  const [quantity, setQuantity] = useState<number | string>(addOn.pendingQuantity ?? addOn.quantity);
  const qty = typeof quantity === 'number' && Number.isInteger(quantity) && quantity >= 0 ? quantity : null;
  const change = qty === null ? null : quantityChange(sub, addOn, qty, to);
  const refusedRaise = props.lowerOnly && change?.kind === 'raise';
  const quoting = change?.kind === 'raise' && !refusedRaise;
  const addOnPath = `/add-ons/${encodeURIComponent(addOn.id)}`;
  const quote = useAddOnQuote(quoting ? subPath(basePath, sub, `${addOnPath}/quote`) : null, [...props.queryKey, sub.id, sub.version], { quantity: qty ?? 0 });
  const uncovered = quoting && quote.data?.coveredByPoints === false;
  const raise = change?.kind === 'raise';
  const { act, short } = useAddOnWrite(props, 'add-on-quantity', { method: 'PATCH', rest: addOnPath, body: { quantity: qty }, chargeKind: raise ? 'quantity_changed' : null }, (charged) => [
    `${addOnLabel(addOn)} on ${addOnLabel(sub)} was changed`,
    raise ? `It is now ${qty}. ${charged ? chargedText(charged, sub.currency, to) : unsaidChargeText(to)}` : change?.text ?? '',
  ]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (change && change.kind !== 'none' && !refusedRaise) act.mutate();
  };
  return (
    <Modal opened onClose={props.onClose} title={`Change ${addOnLabel(addOn)} on ${addOnLabel(sub)}`} centered>
      <form noValidate aria-label="Change the quantity" onSubmit={submit}>
        <Stack>
          <FormError error={act.error} fields={['quantity']} title={short ? 'Not enough points' : undefined} />
          {short && !uncovered ? <TopUpHint to={to} canTopUp={props.canTopUp} onNavigate={props.onClose} testId="add-on-top-up" /> : null}
          <Text size="sm">{addOnHasText(addOn, to)}</Text>
          <NumberInput
            label="Quantity"
            description={props.lowerOnly ? lowerOnlyText(to) : '0 removes it at the next renewal.'}
            min={0}
            max={props.lowerOnly ? addOn.quantity : 10000}
            allowDecimal={false}
            allowNegative={false}
            value={quantity}
            onChange={setQuantity}
            error={refusedRaise ? `At most ${addOn.quantity}` : fieldError(act.error, 'quantity')}
            data-autofocus
          />
          {quoting ? <AddOnQuoteNotice quote={quote} to={to} canTopUp={props.canTopUp} onNavigate={props.onClose} /> : null}
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

/** Which add-on dialog is open: Add on a subscription (`addOn` null), or Change on one of its add-ons. */
export interface AddOnEdit<S extends AddOnSubscription> {
  sub: S;
  addOn: AddOnView | null;
}

/**
 * The Add or the Change dialog, for the one subscription (and add-on) being edited, or nothing: the portal and the
 * Customer app open them alike. `lowerOnly` says whether only a lower quantity can be chosen (a customer sold nothing).
 */
export function AddOnEditDialog<S extends AddOnSubscription, C>(
  props: Omit<DialogProps<S>, 'sub'> & { edit: AddOnEdit<S> | null; catalog: AddOnCatalogSource<C>; lowerOnly: (s: S) => boolean },
) {
  const { edit, catalog, lowerOnly, ...common } = props;
  if (!edit) return null;
  return edit.addOn === null
    ? <AddAddOnDialog key={edit.sub.id} {...common} sub={edit.sub} catalog={catalog} />
    : <ChangeAddOnDialog key={edit.addOn.id} {...common} sub={edit.sub} addOn={edit.addOn} lowerOnly={lowerOnly(edit.sub)} />;
}
