import { useQuery } from '@tanstack/react-query';
import { api, isApiError } from '../../shared/api.ts';
import type { Page, PortalMember } from '../../shared/types.ts';
import { SERVICES_KEY, type PortalSubscription } from './types.ts';

/** True for an answer that means "there is no such list here (yet)": the route is missing, or the section is not for this user. */
export function isUnavailable(e: unknown): boolean {
  return isApiError(e) && (e.status === 404 || e.status === 403);
}

/**
 * The organisation's subscriptions (`GET /api/v1/portal/subscriptions`). Pages that show them render without them while the
 * route is missing or refused (`isUnavailable(error)`), and are not retried then.
 */
export function usePortalSubscriptions() {
  return useQuery({
    queryKey: [...SERVICES_KEY, 'subscriptions'],
    queryFn: ({ signal }) => api.get<Page<PortalSubscription>>('/api/v1/portal/subscriptions', { limit: 200 }, signal),
    retry: (count, e) => !isUnavailable(e) && count < 2,
    staleTime: 60_000,
  });
}

/** People calls can go to: the organisation's active members (not removed, nor invited and not joined yet). */
export function useMembers() {
  return useQuery({
    queryKey: [...SERVICES_KEY, 'members'],
    queryFn: ({ signal }) => api.get<{ data: PortalMember[] }>('/api/v1/portal/members', {}, signal),
    select: (d) => d.data.filter((m) => m.status === 'active'),
    staleTime: 30_000,
  });
}

export function subscriptionLabel(s: PortalSubscription): string {
  return `${s.productName}${s.variantName ? ` · ${s.variantName}` : ''}`;
}
