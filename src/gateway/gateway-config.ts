/**
 * The card gateway's settings, read from the environment here (not in src/platform/config.ts).
 * Rows for the README's configuration table:
 *
 * | variable | default | meaning |
 * | --- | --- | --- |
 * | `GATEWAY` | `sandbox` | Card gateway: `sandbox` (local simulator, test cards only, docs/test-cards.md; no real money) or `stripe`. |
 * | `STRIPE_SECRET_KEY` | — | Required when `GATEWAY=stripe`: the secret API key (`sk_live_...`, `sk_test_...` or `rk_...`). Never logged. |
 * | `STRIPE_WEBHOOK_SECRET` | — | Required when `GATEWAY=stripe`: the webhook endpoint's signing secret (`whsec_...`). Never logged. |
 * | `STRIPE_API_BASE` | `https://api.stripe.com` | Optional: another Stripe API address, e.g. a local fake (`http://` only on a loopback address). |
 * | `GATEWAY_WEBHOOK_TOLERANCE_SECONDS` | `300` | Oldest webhook signature accepted, in seconds (both gateways). |
 * | `GATEWAY_SANDBOX_SETTLE_SECONDS` | `5` | How long the sandbox's delayed test cards stay pending before they settle. |
 * | `GATEWAY_SANDBOX_WEBHOOK_SECRET` | `whsec_folio_sandbox_local` | Key the sandbox signs its webhook events with. |
 */
export type GatewayConfig =
  | {
    kind: 'sandbox';
    settleAfterMs: number;
    webhookSecret: string;
    webhookToleranceSeconds: number;
  }
  | {
    kind: 'stripe';
    secretKey: string;
    webhookSecret: string;
    apiBase: string | undefined;
    webhookToleranceSeconds: number;
  };

export const GATEWAY_ENV_VARS = [
  'GATEWAY', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_API_BASE',
  'GATEWAY_WEBHOOK_TOLERANCE_SECONDS', 'GATEWAY_SANDBOX_SETTLE_SECONDS', 'GATEWAY_SANDBOX_WEBHOOK_SECRET',
] as const;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  return value;
}

function apiBaseFromEnv(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('STRIPE_API_BASE must be a URL such as https://api.stripe.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('STRIPE_API_BASE must be an http(s) URL');
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) throw new Error('STRIPE_API_BASE may use http only on a loopback address (a local fake)');
  if (url.pathname !== '/' || url.search !== '' || url.username !== '' || url.password !== '') {
    throw new Error('STRIPE_API_BASE is a scheme, host and port only (no path, query or credentials)');
  }
  return url.origin;
}

/** Read the gateway's settings. Errors name the variable, never a secret's value. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const kind = env.GATEWAY || 'sandbox';
  const webhookToleranceSeconds = intFromEnv(env, 'GATEWAY_WEBHOOK_TOLERANCE_SECONDS', 300, 10, 3600);
  if (kind === 'sandbox') {
    return {
      kind,
      settleAfterMs: intFromEnv(env, 'GATEWAY_SANDBOX_SETTLE_SECONDS', 5, 0, 3600) * 1000,
      webhookSecret: env.GATEWAY_SANDBOX_WEBHOOK_SECRET || 'whsec_folio_sandbox_local',
      webhookToleranceSeconds,
    };
  }
  if (kind === 'stripe') {
    const secretKey = env.STRIPE_SECRET_KEY || '';
    const webhookSecret = env.STRIPE_WEBHOOK_SECRET || '';
    const missing = [secretKey ? null : 'STRIPE_SECRET_KEY', webhookSecret ? null : 'STRIPE_WEBHOOK_SECRET'].filter((n) => n !== null);
    if (missing.length > 0) throw new Error(`GATEWAY=stripe needs ${missing.join(' and ')}`);
    if (!/^(sk|rk)_(live|test)_\S+$/.test(secretKey)) throw new Error('STRIPE_SECRET_KEY must be a Stripe secret key (sk_live_..., sk_test_... or rk_...)');
    if (!/^whsec_\S+$/.test(webhookSecret)) throw new Error('STRIPE_WEBHOOK_SECRET must be a webhook signing secret (whsec_...)');
    return { kind, secretKey, webhookSecret, apiBase: apiBaseFromEnv(env.STRIPE_API_BASE), webhookToleranceSeconds };
  }
  throw new Error(`GATEWAY must be "sandbox" or "stripe", got "${kind}"`);
}

/** The settings as they may be logged: secrets left out. */
export function describeGatewayConfig(config: GatewayConfig): Record<string, unknown> {
  return config.kind === 'sandbox'
    ? { gateway: 'sandbox', settleAfterMs: config.settleAfterMs, webhookToleranceSeconds: config.webhookToleranceSeconds }
    : { gateway: 'stripe', apiBase: config.apiBase ?? 'https://api.stripe.com', liveMode: config.secretKey.includes('_live_'), webhookToleranceSeconds: config.webhookToleranceSeconds };
}
