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

/**
 * Nobody gives an app they do not hold (docs/adr/0039): a partner caller grants, or invites with, only apps it holds
 * itself: a staff member their granted apps, an API key the apps it may use (its own, bounded by its makers':
 * src/auth/resolve-principal.ts). Otherwise a holder of the Access Control app could give themselves, or a new account
 * they control, every other app. 403 `app_not_held` naming each field, before anything is written. The platform operator
 * is not a partner caller and is not bound by this.
 */
export function refuseAppsNotHeld(caller: PartnerCaller, fields: ReadonlyArray<{ app: AppName; path: string }>): void {
  const notHeld = fields.filter((f) => !caller.apps.has(f.app));
  if (notHeld.length === 0) return;
  throw new DomainError('app_not_held', `You can only give apps you hold yourself; ${notHeldWords(caller, notHeld.map((f) => f.app))}`,
    notHeld.map((f) => ({ path: f.path, message: `${f.app} is not held by the caller` })));
}

/** How an `app_not_held` refusal names the apps: "you do not hold: audit, settings" (an API key: "this API key may not use: ..."). */
export function notHeldWords(caller: PartnerCaller, apps: readonly AppName[]): string {
  const who = caller.userId === null ? 'this API key may not use' : 'you do not hold';
  return `${who}: ${[...new Set(apps)].join(', ')}`;
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

/** Owners and admins see and use company credits (points); members and guests do not (domain.md). */
export function seesCompanyCredits(role: CustomerRole): boolean {
  return role === 'owner' || role === 'admin';
}

export function operatorCaller(principal: Principal): Extract<Principal, { kind: 'operator' }> {
  if (principal.kind !== 'operator') throw new DomainError('forbidden', 'Only the platform operator can do this');
  return principal;
}
