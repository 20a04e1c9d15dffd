import type { TaskList } from 'graphile-worker';
import type { Principal } from '../platform/context.ts';
import type { TopUpDeps } from './charge-top-up.ts';
import type { AuditActor } from './complete-top-up.ts';
import { runAutoTopUpSweep } from './auto-top-up-sweep.ts';
import { SETTLE_STALE_TOP_UPS_TASK, settleStaleTopUps } from './settle-stale-top-ups.ts';
import { handleGatewayWebhook } from './handle-gateway-webhook.ts';
import { startBackgroundLoop, type BackgroundLoop } from '../platform/background-loop.ts';

/**
 * The worker's top-up work (wired in src/platform/jobs.ts):
 * - `auto_top_up_sweep`, a graphile-worker cron task every minute: one bounded batch of due automatic top-ups
 *   (auto-top-up-sweep.ts).
 * - Sandbox only: every few seconds, settle the delayed test cards that are due and deliver the sandbox's webhook events
 *   to the same code as the webhook route. graphile-worker's cron has one-minute steps, and a job every few seconds
 *   would churn its queue table and log a line each time, so this is a timer in the worker process; several workers
 *   may run it at once (the sandbox delivers each event under a row lock, SKIP LOCKED).
 */
export const AUTO_TOP_UP_SWEEP_TASK = 'auto_top_up_sweep';
export const AUTO_TOP_UP_SWEEP_CRONTAB = `* * * * * ${AUTO_TOP_UP_SWEEP_TASK} ?max=1`;
/**
 * Every 5 minutes, on its own named queue so runs never overlap: top-ups whose charge answer was lost, asked about at the
 * gateway once 10 minutes old (settle-stale-top-ups.ts).
 */
export const SETTLE_STALE_TOP_UPS_CRONTAB = `*/5 * * * * ${SETTLE_STALE_TOP_UPS_TASK} ?max=1&queue=${SETTLE_STALE_TOP_UPS_TASK}`;
export const SANDBOX_DELIVERY_INTERVAL_MS = 2_000;
const AUTO_TOP_UP_BATCH = 200;

/** Who the trail names for webhook events the worker delivers (the route names the same job, with its request id). */
export const WEBHOOK_ACTOR: AuditActor = { principal: { kind: 'system', job: 'gateway_webhook' } satisfies Principal, requestId: null, ip: null, userAgent: null };

export function topUpTasks(deps: TopUpDeps): TaskList {
  return {
    [AUTO_TOP_UP_SWEEP_TASK]: async () => {
      await runAutoTopUpSweep(deps, { limit: AUTO_TOP_UP_BATCH });
    },
    [SETTLE_STALE_TOP_UPS_TASK]: async () => {
      const result = await settleStaleTopUps(deps);
      if (result.examined > 0) deps.log.info({ ...result }, 'stale top-ups asked about at the card gateway');
    },
  };
}

/** Settle and deliver the sandbox's due events once; returns how many were delivered (0 for a gateway without events to deliver). */
export async function deliverSandboxEvents(deps: TopUpDeps, options: { now?: Date } = {}): Promise<number> {
  if (!deps.gateway.deliverDueEvents) return 0;
  return deps.gateway.deliverDueEvents(async (d) => {
    await handleGatewayWebhook(deps, WEBHOOK_ACTOR, d.rawBody, d.signatureHeader);
  }, options);
}

/** The sandbox's settlement and webhook delivery loop, or null for a gateway that sends its own webhooks (Stripe). */
export function startSandboxDelivery(deps: TopUpDeps, intervalMs = SANDBOX_DELIVERY_INTERVAL_MS): BackgroundLoop | null {
  if (!deps.gateway.deliverDueEvents) return null;
  return startBackgroundLoop({
    name: 'sandbox webhook delivery', intervalMs, log: deps.log,
    round: async () => {
      const delivered = await deliverSandboxEvents(deps);
      if (delivered > 0) deps.log.debug({ delivered }, 'sandbox webhook events delivered');
    },
  });
}
