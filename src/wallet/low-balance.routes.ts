import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { customerPortal } from '../platform/access-policy.ts';
import { problems } from '../platform/schemas.ts';
import { lowBalanceAlertSchema, portalGetLowBalanceAlert, portalUpdateLowBalanceAlert } from './low-balance.ts';

/**
 * A decimal string; its decimals, sign and size are checked against the currency by the use case: not a decimal string
 * is a 400 naming the field, a number against those rules a 422 rule_violation naming it (docs/adr/0040).
 */
const decimal = z.string().min(1).max(40); // read by parseDecimal, strictly: " 5.00" is refused, not trimmed

/** The portal's low balance alert (low-balance.ts): owners and admins, behind the Points tab, as company credits are. */
export function lowBalanceRoutes(app: FolioApp, deps: ServerDeps): void {
  const companyCredits = customerPortal({ roles: ['owner', 'admin'], tab: 'points' });

  app.get('/api/v1/portal/low-balance-alert', {
    config: { access: companyCredits },
    schema: {
      operationId: 'portalGetLowBalanceAlert', tags: ['Portal'], summary: 'Your organisation\'s low balance alert',
      response: { 200: lowBalanceAlertSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await portalGetLowBalanceAlert(ctxOf(req, deps))));

  app.put('/api/v1/portal/low-balance-alert', {
    config: { access: companyCredits, audit: 'points.low_balance_alert_changed' },
    schema: {
      operationId: 'portalUpdateLowBalanceAlert', tags: ['Portal'],
      summary: 'Set the low balance alert: an email once when usable points fall to the threshold (null: the currency\'s default), again after they rose above it',
      description: 'A closed organisation\'s alert can be read but not changed: 409 state_conflict, nothing written (a suspended one may change it).',
      body: z.strictObject({ enabled: z.boolean(), threshold: decimal.nullable() }),
      response: { 200: lowBalanceAlertSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await portalUpdateLowBalanceAlert(ctxOf(req, deps), req.body)));
}
