import type { AppName, CustomerRole } from './db-types.ts';
import type { PortalTabs } from './db-types.ts';

/**
 * Every route declares who may call it, in `config.access`. The server refuses to register a route without one.
 * - public: anyone (sign-in, password reset, health)
 * - signed_in: any signed-in person (their own session)
 * - staff: partner staff holding `app` (sessions) or an API key limited to include `app`
 * - customer: a user-portal user whose role is in `roles` (default all), behind portal tab `tab` when given
 * - operator: platform operator staff
 */
export type AccessPolicy =
  | { audience: 'public' }
  | { audience: 'signed_in' }
  | { audience: 'staff'; app: AppName | null; apiKeys?: boolean }
  | { audience: 'customer'; roles?: readonly CustomerRole[]; tab?: keyof PortalTabs }
  | { audience: 'operator' };

export const publicAccess: AccessPolicy = { audience: 'public' };
export const signedIn: AccessPolicy = { audience: 'signed_in' };
/** Partner staff holding `app`; API keys limited to that app may call it too. `null`: any staff member, no API keys. */
export const staffApp = (app: AppName | null): AccessPolicy => ({ audience: 'staff', app, apiKeys: app !== null });
export const customerPortal = (options: { roles?: readonly CustomerRole[]; tab?: keyof PortalTabs } = {}): AccessPolicy => ({
  audience: 'customer',
  ...options,
});
export const operatorOnly: AccessPolicy = { audience: 'operator' };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessPolicy;
    /** Audit action(s) a successful state change writes; the route-walk test checks each one is written. */
    audit?: string | readonly string[] | false;
    /** The body is raw bytes the handler reads itself (a logo, a signed webhook): no JSON body schema is added. */
    rawBody?: boolean;
  }
}
