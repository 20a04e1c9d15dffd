import { useState, type FormEvent, type ReactNode } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { Alert, Anchor, Button, Group, List, Modal, Stack, Switch, Text, Textarea } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { versionEtag } from '../../../src/platform/version-etag.ts';
import { api, apiRequest, errorMessage, isApiError, isFinalRefusal, isStale, newIdempotencyKey } from '../../shared/api.ts';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { formatDate } from '../../shared/format.ts';
import { formatMoney } from '../../shared/money.ts';
import { useSession } from '../../shared/session.tsx';
import { INVOICES_KEY, POINTS_KEY } from '../invoices/invoice-types.ts';
import { subscriptionLabel } from './queries.ts';
import { TerminationQuoteNotice, useTerminationQuote } from '../../shared/TerminationQuoteNotice.tsx';
import {
  cardState, offeredActions, terminationOutcome, terminationTerms, utcToday, type OfferedActions, type SavedCardSummary,
} from './subscription-actions.ts';
import { AddOnEditDialog, AddOnList, TopUpHint, type AddOnCatalogSource, type AddOnEdit } from '../../shared/AddOnDialogs.tsx';
import { SERVICES_KEY, type PortalCatalogItem, type PortalSubscription } from './types.ts';

/** What an owner or admin is told when a subscription changed between their reading it and their action on it (412). */
export const STALE_SUBSCRIPTION = 'This subscription was changed meanwhile; it has been reloaded. Check it and try again.';

const BASE = '/api/v1/portal/subscriptions';
const path = (s: PortalSubscription, action = '') => `${BASE}/${encodeURIComponent(s.id)}${action}`;

/** What an add-on can be chosen from: the portal catalog (Buy's query, same key), on sale in the organisation's currency. */
const CATALOG: AddOnCatalogSource<PortalCatalogItem> = { queryKey: [...SERVICES_KEY, 'catalog'], path: '/api/v1/portal/catalog', products: (rows) => rows };

/** The organisation's saved cards: the Points tab's query (same key), read here to know whether renewal by card can be turned on. */
const SAVED_CARDS_KEY = [...POINTS_KEY, 'saved-cards'] as const;

/**
 * What a change to a subscription changes elsewhere in the portal: the subscriptions (Services, Home's card), the points
 * and their transactions (a refund, a reactivation's or an add-on's charge), the invoices (their Purchase invoices, a
 * pending one voided) and the activity.
 */
async function refreshAfterChange(queryClient: QueryClient): Promise<void> {
  await Promise.all([
    queryClient.invalidateQueries({ queryKey: SERVICES_KEY }),
    queryClient.invalidateQueries({ queryKey: POINTS_KEY }),
    queryClient.invalidateQueries({ queryKey: INVOICES_KEY }),
    queryClient.invalidateQueries({ queryKey: ['portal', 'audit-events'] }),
  ]);
}

type Notice = { kind: 'stale' | 'done' | 'error'; title: string; message: ReactNode; testId?: string };

/** Renewal by card was refused for want of a saved card: where to save one (a top-up in Points), or whom to ask. */
function CardNeeded({ canTopUp }: { canTopUp: boolean }) {
  return canTopUp ? (
    <>
      It needs a saved card that has not expired.{' '}
      <Anchor component={Link} to="/portal?tab=points" inherit>
        Save one in Points
      </Anchor>
      : tick “Save this card” when you top up, then turn it on again.
    </>
  ) : (
    'It needs a saved card. Cards are saved with a top-up under Points, which your provider has hidden: ask them.'
  );
}

/**
 * Owners' and admins' changes to their subscriptions (Home > Services): auto-renew and renewal by card on or off,
 * add-ons and their quantities, terminate, reactivate. Each names the subscription as its row showed it (If-Match: its
 * listed version's ETag), so one changed meanwhile (by someone else, or by the renewal job) is refused (412) instead of
 * changed blind: the list is then read again and the section says so above it. What the API would refuse the
 * organisation (ADR 0038), or refuse for want of a saved card, is not offered (`offeredActions`).
 */
export function useSubscriptionManagement() {
  const queryClient = useQueryClient();
  const session = useSession();
  const account = session.customer?.status ?? 'active';
  const role = session.customer?.role;
  const canManage = role === 'owner' || role === 'admin';
  // Cards are saved (and listed) under Points: with Points hidden the page cannot tell, and the API answers for it.
  const canTopUp = session.portalTabs?.points !== false;
  const cards = useQuery({
    queryKey: SAVED_CARDS_KEY,
    queryFn: ({ signal }) => api.get<{ data: SavedCardSummary[] }>('/api/v1/portal/saved-cards', {}, signal),
    enabled: canManage && canTopUp,
    retry: false,
  });
  const card = cardState(cards.data?.data ?? null, utcToday());
  const [notice, setNotice] = useState<Notice | null>(null);
  const [terminating, setTerminating] = useState<{ sub: PortalSubscription; open: boolean } | null>(null);
  const [reactivating, setReactivating] = useState<PortalSubscription | null>(null);
  const [editing, setEditing] = useState<AddOnEdit<PortalSubscription> | null>(null);

  const stale = async (s: PortalSubscription) => {
    setNotice({ kind: 'stale', title: `${subscriptionLabel(s)} was changed`, message: STALE_SUBSCRIPTION });
    await queryClient.invalidateQueries({ queryKey: SERVICES_KEY });
  };
  const toggle = useMutation({
    mutationFn: async ({ sub, autoRenew }: { sub: PortalSubscription; autoRenew: boolean }) =>
      (await apiRequest<PortalSubscription>(path(sub), { method: 'PATCH', body: { autoRenew }, headers: { 'if-match': versionEtag(sub.version) } })).data,
    onSuccess: async (after) => {
      setNotice(null);
      notifications.show({
        color: 'teal',
        message: after.autoRenew
          ? `Auto-renew is on: ${subscriptionLabel(after)} renews on ${formatDate(after.currentPeriodEnd)}.`
          : `Auto-renew is off: ${subscriptionLabel(after)} ends on ${formatDate(after.currentPeriodEnd)}.`,
      });
      await refreshAfterChange(queryClient);
    },
    onError: async (e, { sub }) => {
      if (isStale(e)) return stale(sub);
      setNotice({ kind: 'error', title: `Auto-renew of ${subscriptionLabel(sub)} was not changed`, message: errorMessage(e) });
      await queryClient.invalidateQueries({ queryKey: SERVICES_KEY });
    },
  });

  const byCard = useMutation({
    mutationFn: async ({ sub, renewByCard }: { sub: PortalSubscription; renewByCard: boolean }) =>
      (await apiRequest<PortalSubscription>(path(sub), { method: 'PATCH', body: { renewByCard }, headers: { 'if-match': versionEtag(sub.version) } })).data,
    onSuccess: async (after) => {
      setNotice(null);
      notifications.show({
        color: 'teal',
        message: after.renewByCard
          ? `Renewal by card is on: when your points do not cover a renewal of ${subscriptionLabel(after)}, your saved card tops up exactly the fee.`
          : `Renewal by card is off: renewals of ${subscriptionLabel(after)} are paid from your points only.`,
      });
      await refreshAfterChange(queryClient);
    },
    onError: async (e, { sub }) => {
      if (isStale(e)) return stale(sub);
      if (isApiError(e) && e.code === 'saved_card_required') {
        // The cards the page read said otherwise (removed or expired since): said with where to save one, and read again.
        setNotice({ kind: 'error', title: `Renewal by card of ${subscriptionLabel(sub)} needs a saved card`, message: <CardNeeded canTopUp={canTopUp} />, testId: 'subscription-card-needed' });
        await Promise.all([queryClient.invalidateQueries({ queryKey: SAVED_CARDS_KEY }), queryClient.invalidateQueries({ queryKey: SERVICES_KEY })]);
        return;
      }
      setNotice({ kind: 'error', title: `Renewal by card of ${subscriptionLabel(sub)} was not changed`, message: errorMessage(e) });
      await queryClient.invalidateQueries({ queryKey: SERVICES_KEY });
    },
  });
  const offered = (s: PortalSubscription): OfferedActions => offeredActions(s, account, utcToday(), card);
  const addOnDone = async (title: string, message: string) => {
    setEditing(null);
    setNotice({ kind: 'done', title, message });
    await refreshAfterChange(queryClient);
  };
  const addOnStale = async (s: PortalSubscription) => {
    setEditing(null);
    await stale(s);
  };

  return {
    offered,
    notice: notice ? <SubscriptionNotice notice={notice} onClose={() => setNotice(null)} /> : null,
    /**
     * The renewal-by-card switch, captioned "By card" (it sits under the auto-renew switch, or beside it on a phone;
     * `place` keeps the ids of the two copies apart). Without a usable saved card it stays off and says where to save
     * one, rather than letting the API refuse it.
     */
    renewByCardSwitch: (s: PortalSubscription, place: 'row' | 'phone' = 'row') => {
      const a = offered(s).renewByCard;
      if (!a || (!a.canChange && !a.needsCard)) return null;
      const busy = byCard.isPending && byCard.variables.sub.id === s.id;
      const hint = `renew-by-card-hint-${place}-${s.id}`;
      const control = (
        <Switch
          size="sm"
          label="By card"
          // Captioned as the auto-renew switch is beside it on a phone: small and dimmed.
          styles={{ label: { fontSize: 'var(--mantine-font-size-xs)', color: 'var(--mantine-color-dimmed)', paddingInlineStart: 6 } }}
          aria-label={`Renewal by card ${subscriptionLabel(s)}`}
          aria-describedby={a.needsCard ? hint : undefined}
          checked={busy ? byCard.variables.renewByCard : a.on}
          disabled={byCard.isPending || !a.canChange}
          onChange={(e) => byCard.mutate({ sub: s, renewByCard: e.currentTarget.checked })}
        />
      );
      return (
        <Stack gap={2}>
          {control}
          {a.needsCard ? (
            <Text size="xs" c="dimmed" id={hint} data-testid="renew-by-card-needs-card" maw={150}>
              Needs a saved card.{' '}
              <Anchor component={Link} to="/portal?tab=points" size="xs">
                Save one in Points
              </Anchor>
            </Text>
          ) : null}
        </Stack>
      );
    },
    /** A subscription's add-ons under its name; owners and admins can change their quantities when the API would. */
    addOnList: (s: PortalSubscription) => {
      const change = canManage ? offered(s).addOns.change : null;
      return <AddOnList s={s} onChange={change ? (a) => setEditing({ sub: s, addOn: a }) : undefined} />;
    },
    autoRenewSwitch: (s: PortalSubscription) => {
      const a = offered(s).autoRenew;
      if (!a?.canChange) return null;
      const busy = toggle.isPending && toggle.variables.sub.id === s.id;
      return (
        <Switch
          size="sm"
          aria-label={`Auto-renew ${subscriptionLabel(s)}`}
          checked={busy ? toggle.variables.autoRenew : a.on}
          disabled={toggle.isPending}
          onChange={(e) => toggle.mutate({ sub: s, autoRenew: e.currentTarget.checked })}
        />
      );
    },
    buttons: (s: PortalSubscription) => {
      const a = offered(s);
      if (!a.terminate && !a.reactivate && !a.addOns.add) return null;
      // They wrap rather than widen the table past a tablet's width.
      return (
        <Group gap={4} justify="flex-end">
          {a.addOns.add ? (
            <Button size="compact-xs" variant="light" aria-label={`Add an add-on to ${subscriptionLabel(s)}`} onClick={() => setEditing({ sub: s, addOn: null })}>
              Add-on
            </Button>
          ) : null}
          {a.reactivate ? (
            <Button size="compact-xs" variant="light" aria-label={`Reactivate ${subscriptionLabel(s)}`} onClick={() => setReactivating(s)}>
              Reactivate
            </Button>
          ) : null}
          {a.terminate ? (
            <Button
              size="compact-xs"
              variant="subtle"
              color="red"
              aria-label={`Terminate ${subscriptionLabel(s)}`}
              // The same subscription again (after a 412) keeps the dialog and its reason; its row's new version is sent.
              onClick={() => setTerminating({ sub: s, open: true })}
            >
              Terminate
            </Button>
          ) : null}
        </Group>
      );
    },
    dialogs: (
      <>
        {terminating ? (
          <TerminateDialog
            key={terminating.sub.id}
            sub={terminating.sub}
            opened={terminating.open}
            onClose={() => setTerminating((t) => (t ? { ...t, open: false } : t))}
            onStale={async (s) => {
              setTerminating((t) => (t ? { ...t, open: false } : t));
              await stale(s);
            }}
            onDone={async (before, after) => {
              setTerminating(null);
              setNotice({ kind: 'done', title: `${subscriptionLabel(after)} was terminated`, message: terminationOutcome(before.status, after) });
              await refreshAfterChange(queryClient);
            }}
          />
        ) : null}
        <AddOnEditDialog
          edit={editing}
          basePath={BASE}
          to="you"
          queryKey={SERVICES_KEY}
          catalog={CATALOG}
          lowerOnly={(s) => offered(s).addOns.change === 'lower'}
          canTopUp={canTopUp}
          onClose={() => setEditing(null)}
          onStale={addOnStale}
          onDone={addOnDone}
        />
        {reactivating ? (
          <ReactivateDialog
            key={reactivating.id}
            sub={reactivating}
            canTopUp={canTopUp}
            onClose={() => setReactivating(null)}
            onStale={async (s) => {
              setReactivating(null);
              await stale(s);
            }}
            onDone={async (after) => {
              setReactivating(null);
              setNotice({
                kind: 'done',
                title: `${subscriptionLabel(after)} is active again`,
                message: `A full period was charged from your points; it now runs to ${formatDate(after.currentPeriodEnd)}. Its Purchase invoice is under Invoices.`,
              });
              await refreshAfterChange(queryClient);
            }}
          />
        ) : null}
      </>
    ),
  };
}

function SubscriptionNotice({ notice, onClose }: { notice: Notice; onClose: () => void }) {
  const color = notice.kind === 'done' ? 'teal' : notice.kind === 'stale' ? 'orange' : 'red';
  return (
    <Alert
      color={color}
      variant="light"
      role={notice.kind === 'done' ? 'status' : 'alert'}
      title={notice.title}
      withCloseButton
      closeButtonLabel="Dismiss"
      onClose={onClose}
      mb="sm"
      data-testid={notice.testId ?? `subscription-${notice.kind}`}
    >
      {notice.message}
    </Alert>
  );
}

/**
 * Terminate on request: what happens (it ends now; the refund rule in words, the API having no preview of the amount),
 * a reason (required by the API, kept in the history and told to the provider), and a red button. One Idempotency-Key per
 * attempt; a refusal ends the attempt. Refused because the subscription changed (412): the dialog closes, keeping the
 * reason typed for the next try on the same subscription.
 */
function TerminateDialog(props: {
  sub: PortalSubscription;
  opened: boolean;
  onClose: () => void;
  onStale: (s: PortalSubscription) => Promise<void>;
  onDone: (before: PortalSubscription, after: PortalSubscription) => Promise<void>;
}) {
  const { sub } = props;
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(false);
  const [key, setKey] = useState(() => newIdempotencyKey('terminate'));
  // What terminating now gives back, as the server computes it, read each time the dialog opens.
  const { quote, refused } = useTerminationQuote(path(sub, '/termination-quote'), [...SERVICES_KEY, sub.id, sub.version], props.opened);
  const act = useMutation({
    mutationFn: async () =>
      (await apiRequest<PortalSubscription>(path(sub, '/terminate'), {
        method: 'POST', body: { reason: reason.trim() }, headers: { 'idempotency-key': key, 'if-match': versionEtag(sub.version) },
      })).data,
    onSuccess: (after) => props.onDone(sub, after),
    onError: async (e) => {
      if (isFinalRefusal(e)) setKey(newIdempotencyKey('terminate'));
      if (isStale(e)) {
        act.reset();
        await props.onStale(sub);
      }
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (reason.trim() === '') {
      setMissing(true);
      return;
    }
    act.mutate();
  };
  const close = () => {
    act.reset();
    props.onClose();
  };
  const label = subscriptionLabel(sub);
  return (
    <Modal opened={props.opened} onClose={close} title={`Terminate ${label}?`} centered>
      <form noValidate aria-label="Terminate subscription" onSubmit={submit}>
        <Stack>
          <FormError error={act.error} fields={['reason']} />
          <TerminationQuoteNotice quote={quote} to="you" />
          <List size="sm" spacing={4} data-testid="terminate-terms">
            {terminationTerms(sub).map((t) => (
              <List.Item key={t}>{t}</List.Item>
            ))}
          </List>
          <Textarea
            label="Reason"
            description="Kept in the subscription's history and your account's activity, and told to your provider."
            value={reason}
            onChange={(e) => {
              setReason(e.currentTarget.value);
              setMissing(false);
            }}
            error={missing ? 'Required' : fieldError(act.error, 'reason')}
            required
            autosize
            minRows={2}
            maxLength={500}
            data-autofocus
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" color="red" loading={act.isPending} disabled={refused}>
              Terminate
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/**
 * Reactivate an expired subscription: the charge named as the list gives it (the renewal price, before tax, plus tax), from
 * the points now. Points that fall short are said with where to top up (or whom to ask, when the provider hides points).
 */
function ReactivateDialog(props: {
  sub: PortalSubscription;
  canTopUp: boolean;
  onClose: () => void;
  onStale: (s: PortalSubscription) => Promise<void>;
  onDone: (after: PortalSubscription) => Promise<void>;
}) {
  const { sub } = props;
  const [key, setKey] = useState(() => newIdempotencyKey('reactivate'));
  const act = useMutation({
    mutationFn: async () =>
      (await apiRequest<PortalSubscription>(path(sub, '/reactivate'), {
        method: 'POST', body: {}, headers: { 'idempotency-key': key, 'if-match': versionEtag(sub.version) },
      })).data,
    onSuccess: (after) => props.onDone(after),
    onError: async (e) => {
      if (isFinalRefusal(e)) setKey(newIdempotencyKey('reactivate'));
      if (isStale(e)) await props.onStale(sub);
    },
  });
  const short = isApiError(act.error) && act.error.code === 'insufficient_points';
  const label = subscriptionLabel(sub);
  return (
    <Modal opened onClose={props.onClose} title={`Reactivate ${label}?`} centered>
      <Stack>
        <FormError error={act.error} title={short ? 'Not enough points' : undefined} />
        {short ? <TopUpHint canTopUp={props.canTopUp} onNavigate={props.onClose} testId="reactivate-top-up" /> : null}
        <Text size="sm">
          A full period is charged from your points now: <strong>{formatMoney(sub.renewalPrice, sub.currency)} plus tax</strong> (the renewal price, before
          tax). Its new period runs on from the day it expired, {formatDate(sub.currentPeriodEnd)}, so it keeps its renewal date.
        </Text>
        {sub.reactivatableUntil ? (
          <Text size="xs" c="dimmed">
            It can be reactivated until {formatDate(sub.reactivatableUntil)}; after that it is terminated.
          </Text>
        ) : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={props.onClose}>
            Cancel
          </Button>
          <Button loading={act.isPending} onClick={() => act.mutate()}>
            Reactivate
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
