import type { PortalSubscription } from './types.ts';

/**
 * What Home's Subscriptions card says, from the organisation's subscriptions as the page read them (`hasMore`: the list
 * had more after them). It lists those that have not ended (terminated ones never come back), soonest expiry first. With
 * none to list it says what is true: `never` when the organisation never had one ("No subscriptions yet."), `allEnded`
 * when every one it had was terminated, with how many (never "yet": there were some).
 */
export type HomeSubscriptions =
  | { kind: 'list'; shown: PortalSubscription[] }
  | { kind: 'never' }
  | { kind: 'allEnded'; title: string; ended: string };

export function homeSubscriptions(subs: readonly PortalSubscription[], hasMore: boolean, limit: number): HomeSubscriptions {
  const current = subs.filter((s) => s.status !== 'terminated');
  if (current.length > 0) {
    return { kind: 'list', shown: [...current].sort((a, b) => (a.currentPeriodEnd ?? '').localeCompare(b.currentPeriodEnd ?? '')).slice(0, limit) };
  }
  if (subs.length === 0 && !hasMore) return { kind: 'never' };
  // Only the newest page was read: older ones after it may still be active, so the title says what was seen.
  const count = `${subs.length}${hasMore ? '+' : ''}`;
  return {
    kind: 'allEnded',
    title: hasMore ? `No active subscriptions among the latest ${subs.length}` : 'No active subscriptions',
    ended: `${count} ${subs.length === 1 && !hasMore ? 'subscription' : 'subscriptions'} ended.`,
  };
}
