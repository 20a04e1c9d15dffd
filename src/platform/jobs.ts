import { Logger as WorkerLogger, run, runOnce, type Runner, type TaskList } from 'graphile-worker';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Db } from './database.ts';
import { notificationTasks } from '../notifications/notification-tasks.ts';
import { createMailTransport, type MailTransport } from '../notifications/transport.ts';
import { IDEMPOTENCY_CLEANUP_CRONTAB, idempotencyTasks } from './idempotency.ts';
import { inScope } from './database.ts';
import { expireReservations } from '../wallet/reservations.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { gatewayOf } from '../topup/gateway-of.ts';
import { AUTO_TOP_UP_SWEEP_CRONTAB, SETTLE_STALE_TOP_UPS_CRONTAB, startSandboxDelivery, topUpTasks } from '../topup/topup-tasks.ts';
import { RENEWALS_CRONTAB, renewalTasks } from '../subscriptions/renewals/renewals-tasks.ts';
import { STATEMENTS_CRONTAB, statementTasks } from '../invoices/statements/statement-tasks.ts';
import { creditNoteTasks } from '../credit-notes/credit-note-tasks.ts';
import { payAttemptTasks, SETTLE_STALE_PAY_ATTEMPTS_CRONTAB } from '../invoices/pay-attempt-tasks.ts';
import { AUDIT_CHAIN_CHECK_CRONTAB, auditChainTasks } from '../audit/check-audit-chains.ts';
import { LEDGER_CHECK_CRONTAB, ledgerCheckTasks } from '../ledger/scheduled-ledger-check.ts';
import { TOP_UP_POLICY_NOTICES_CRONTAB, topUpPolicyNoticeTasks } from '../topup/top-up-policy-notices.ts';
import { LOW_BALANCE_SWEEP_CRONTAB, lowBalanceTasks } from '../wallet/low-balance-tasks.ts';
import { creditLimitTasks, CREDIT_LIMIT_EXPIRY_CRONTAB } from '../wallet/credit-limit-tasks.ts';
import { startAuditKeysUpkeep } from '../audit/audit-keys-upkeep.ts';
import type { BackgroundLoop } from './background-loop.ts';

/** Holds on points past their expiry are released every minute, a bounded batch at a time. */
const RESERVATION_EXPIRY_CRONTAB = '* * * * * expire_reservations ?max=1';
const RESERVATION_EXPIRY_BATCH = 1000;

/** The background worker: graphile-worker on the same PostgreSQL; jobs are enqueued inside business transactions. */
export async function startWorker(deps: { queuePool: pg.Pool; ownerDb: Db; db: Db; config: Config; log: Logger; gateway?: Gateway }): Promise<Runner> {
  // Top-up: auto top-up sweep; the sandbox gateway's settlements and webhook events (src/topup/topup-tasks.ts).
  const gateway = gatewayOf(deps);
  const transport = createMailTransport(deps.config.smtpUrl, deps.config.mailFrom);
  const taskList: TaskList = {
    ...notificationTasks({ db: deps.db, transport, log: deps.log }),
    ...idempotencyTasks({ db: deps.db, log: deps.log }),
    expire_reservations: async () => {
      const expired = await inScope(deps.db, { kind: 'system' }, (trx) => expireReservations(trx, RESERVATION_EXPIRY_BATCH));
      if (expired > 0) deps.log.info({ expired }, 'expired holds on points released');
    },
    ...topUpTasks({ db: deps.db, gateway, log: deps.log }),
    ...renewalTasks({ db: deps.db, gateway, log: deps.log }),
    ...statementTasks({ db: deps.db, log: deps.log }),
    ...auditChainTasks({ db: deps.db, log: deps.log, config: deps.config }),
    ...ledgerCheckTasks({ db: deps.db, ownerDb: deps.ownerDb, log: deps.log }),
    ...creditNoteTasks({ db: deps.db, gateway, log: deps.log }),
    ...payAttemptTasks({ db: deps.db, gateway, log: deps.log }),
    ...topUpPolicyNoticeTasks({ db: deps.db, log: deps.log }),
    ...lowBalanceTasks({ db: deps.db, log: deps.log }),
    ...creditLimitTasks({ db: deps.db, config: deps.config, log: deps.log }),
  };
  const runner = await run({
    crontab: [IDEMPOTENCY_CLEANUP_CRONTAB, RESERVATION_EXPIRY_CRONTAB, AUTO_TOP_UP_SWEEP_CRONTAB, LOW_BALANCE_SWEEP_CRONTAB, CREDIT_LIMIT_EXPIRY_CRONTAB, RENEWALS_CRONTAB, STATEMENTS_CRONTAB, TOP_UP_POLICY_NOTICES_CRONTAB, AUDIT_CHAIN_CHECK_CRONTAB, LEDGER_CHECK_CRONTAB, SETTLE_STALE_PAY_ATTEMPTS_CRONTAB, SETTLE_STALE_TOP_UPS_CRONTAB].join('\n'),
    pgPool: deps.queuePool,
    taskList,
    concurrency: deps.config.workerConcurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: workerLogger(deps.log),
  });
  // Timers in the worker process, stopped with the runner: the sandbox gateway settles delayed test cards and delivers
  // its webhook events every few seconds; the audit search keys' pending list is merged into its index every 2 seconds.
  const loops: BackgroundLoop[] = [startAuditKeysUpkeep({ owner: deps.ownerDb, log: deps.log })];
  const sandboxDelivery = startSandboxDelivery({ db: deps.db, gateway, log: deps.log });
  if (sandboxDelivery) loops.push(sandboxDelivery);
  const stopRunner = runner.stop.bind(runner);
  runner.stop = async (reason) => {
    await Promise.all(loops.map((loop) => loop.stop()));
    await stopRunner(reason);
  };
  return runner;
}

/** graphile-worker's own messages (job failures, shutdown) go through pino like the rest of Folio, with the job as context. */
export function workerLogger(log: Logger): WorkerLogger {
  return new WorkerLogger((scope) => {
    const child = log.child({ component: 'worker', ...scope });
    return (level, message, meta) => {
      const { error, ...rest } = meta ?? {};
      const fields = error === undefined ? rest : { ...rest, err: error };
      if (level === 'error') child.error(fields, message);
      else if (level === 'warning') child.warn(fields, message);
      else if (level === 'info') child.info(fields, message);
      else child.debug(fields, message);
    };
  });
}

/** Run every job that is due now, then return (tests; one-off catch-up runs). Uses the owner pool, as the worker does. */
export async function runDueJobs(deps: { queuePool: pg.Pool; db: Db; transport: MailTransport; log: Logger }): Promise<void> {
  await runOnce({
    pgPool: deps.queuePool,
    taskList: notificationTasks({ db: deps.db, transport: deps.transport, log: deps.log }),
    logger: workerLogger(deps.log),
    noHandleSignals: true,
  });
}
