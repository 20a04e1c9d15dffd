import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures in Stripe's scheme, used by the sandbox (and by the local Stripe fake in tests):
 * header `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. A receiver accepts a header with a
 * matching v1 signature whose timestamp is at most `toleranceSeconds` old.
 */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signWebhook(rawBody: string, secret: string, timestampSeconds: number): string {
  const signature = createHmac('sha256', secret).update(`${timestampSeconds}.${rawBody}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${signature}`;
}

export type SignatureCheck = 'ok' | 'missing' | 'malformed' | 'mismatch' | 'stale';

export function checkWebhookSignature(
  rawBody: string,
  header: string | undefined,
  secret: string,
  options: { nowMs: number; toleranceSeconds?: number },
): SignatureCheck {
  if (header === undefined || header === '') return 'missing';
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === null || signatures.length === 0) return 'malformed';
  const expected = Buffer.from(createHmac('sha256', secret).update(`${timestamp}.${rawBody}`, 'utf8').digest('hex'), 'utf8');
  const matches = signatures.some((s) => timingSafeEqual(Buffer.from(s, 'utf8'), expected));
  if (!matches) return 'mismatch';
  const ageSeconds = Math.floor(options.nowMs / 1000) - timestamp;
  if (ageSeconds > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return 'stale';
  return 'ok';
}
