import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Db, Scope } from './database.ts';
import type { AppName, CustomerRole } from './db-types.ts';

export type SessionAuthMethod = 'password' | 'password_2fa';

/**
 * Who is calling. Resolved once per request from the session cookie or the API key. `authMethod`: how the session's
 * sign-in was made (kept on audit events; absent = password).
 */
export type Principal =
  | { kind: 'operator'; userId: string; email: string; name: string; sessionId: string; authMethod?: SessionAuthMethod }
  | { kind: 'staff'; userId: string; partnerId: string; email: string; name: string; apps: ReadonlySet<AppName>; sessionId: string; authMethod?: SessionAuthMethod }
  | { kind: 'api_key'; keyId: string; partnerId: string; name: string; apps: ReadonlySet<AppName> }
  | { kind: 'customer'; userId: string; partnerId: string; customerId: string; role: CustomerRole; email: string; name: string; sessionId: string; authMethod?: SessionAuthMethod }
  | { kind: 'system'; job: string };

/** Everything a use case needs: `(ctx, input) -> result`. */
export interface Ctx {
  db: Db;
  config: Config;
  log: Logger;
  principal: Principal;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
  /** The time every rule reads (`ctx.clock.now()`): the system clock, or a test's settable clock (src/platform/clock.ts). */
  clock: Clock;
}

/** Anonymous callers (sign-in, password reset) act as the system for row-level security, and are audited as such. */
export const ANONYMOUS: Principal = { kind: 'system', job: 'anonymous' };

export function scopeOf(principal: Principal): Scope {
  switch (principal.kind) {
    case 'staff':
    case 'api_key':
      return { kind: 'partner', partnerId: principal.partnerId };
    case 'customer':
      return { kind: 'customer', partnerId: principal.partnerId, customerId: principal.customerId };
    case 'operator':
    case 'system':
      return { kind: 'system' };
  }
}

export function partnerIdOf(principal: Principal): string {
  if (principal.kind === 'staff' || principal.kind === 'api_key' || principal.kind === 'customer') return principal.partnerId;
  throw new Error(`principal ${principal.kind} has no partner`);
}
