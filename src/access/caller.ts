import type { Principal } from '../platform/context.ts';
import type { AppName, CustomerRole } from '../platform/db-types.ts';
import { DomainError } from '../platform/errors.ts';

/** Who is acting on a partner's admin routes: a staff member (session) or one of the partner's API keys. */
export interface PartnerCaller {
  partnerId: string;
  /** The staff member; null for an API key. */
  userId: string | null;
  /** Recorded as `invited_by`, `granted_by`, `created_by`: the user id or the API key id. */
  actorId: string;
  apps: ReadonlySet<AppName>;
}

export function partnerCaller(principal: Principal): PartnerCaller {
  if (principal.kind === 'staff') {
    return { partnerId: principal.partnerId, userId: principal.userId, actorId: principal.userId, apps: principal.apps };
  }
  if (principal.kind === 'api_key') {
    return { partnerId: principal.partnerId, userId: null, actorId: principal.keyId, apps: principal.apps };
  }
  throw new DomainError('forbidden', 'Only partner staff can do this');
}

export function staffCaller(principal: Principal): Extract<Principal, { kind: 'staff' }> {
  if (principal.kind !== 'staff') throw new DomainError('forbidden', 'Only partner staff can do this');
  return principal;
}

/** A user-portal user: their organisation, their role. */
export interface PortalCaller {
  partnerId: string;
  customerId: string;
  userId: string;
  role: CustomerRole;
}

export function portalCaller(principal: Principal): PortalCaller {
  if (principal.kind !== 'customer') throw new DomainError('forbidden', 'Only user-portal users can do this');
  return { partnerId: principal.partnerId, customerId: principal.customerId, userId: principal.userId, role: principal.role };
}

export function operatorCaller(principal: Principal): Extract<Principal, { kind: 'operator' }> {
  if (principal.kind !== 'operator') throw new DomainError('forbidden', 'Only the platform operator can do this');
  return principal;
}
