import type { Db } from '../platform/database.ts';
import type { Gateway } from './gateway.ts';
import type { GatewayConfig } from './gateway-config.ts';
import { SandboxGateway } from './sandbox.ts';
import { StripeGateway } from './stripe.ts';

export type {
  ChargeInput, ChargeResult, ChargeStatus, CreateCustomerInput, CreateCustomerResult, Gateway, GatewayEvent, RefundInput, RefundResult,
  SaveCardInput, SaveCardResult, SavedCard, WebhookDelivery,
} from './gateway.ts';
export { loadGatewayConfig, describeGatewayConfig, type GatewayConfig } from './gateway-config.ts';
export { SANDBOX_TEST_CARDS, sandboxTokenForCardNumber } from './test-cards.ts';

/**
 * The card gateway chosen by configuration (`GATEWAY`, gateway-config.ts): the sandbox by default, Stripe when asked.
 * The sandbox keeps its state in the app's database (`db`, the `folio_app` role is enough); Stripe needs none.
 */
export function createGateway(config: GatewayConfig, deps: { db: Db; clock?: () => Date }): Gateway {
  switch (config.kind) {
    case 'sandbox':
      return new SandboxGateway({
        db: deps.db, webhookSecret: config.webhookSecret, settleAfterMs: config.settleAfterMs,
        webhookToleranceSeconds: config.webhookToleranceSeconds, ...(deps.clock ? { clock: deps.clock } : {}),
      });
    case 'stripe':
      return new StripeGateway({
        secretKey: config.secretKey, webhookSecret: config.webhookSecret, webhookToleranceSeconds: config.webhookToleranceSeconds,
        ...(config.apiBase ? { apiBase: config.apiBase } : {}), ...(deps.clock ? { clock: deps.clock } : {}),
      });
  }
}
