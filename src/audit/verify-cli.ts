import fs from 'node:fs';
import path from 'node:path';
import { boot } from '../platform/boot.ts';
import { loadConfig } from '../platform/config.ts';
import type { Ctx } from '../platform/context.ts';
import { PLATFORM_CHAIN, verifyAuditChain, type ChainReport } from './verify-chain.ts';

/**
 * `npm run audit:verify`: verify every audit chain (one per partner, plus the platform's) through the OWNER connection,
 * which reads all chains without row-level security. One line per chain, then the first bad event by id.
 * Exit code 0: intact; 1: a chain has a problem; 2: the check could not run.
 */
const events = (n: number) => `${n} event${n === 1 ? '' : 's'}`;

/**
 * With the embedded database, a running Folio owns the PostgreSQL server. Booting here would take that server for an
 * orphan of a crashed run and stop it under the running app, so refuse instead.
 */
function liveEmbeddedServer(): { pid: number; pidFile: string } | null {
  const config = loadConfig();
  if (config.databaseUrl) return null;
  const pidFile = path.join(config.dataDir, 'pg', 'postmaster.pid');
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return { pid, pidFile };
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? { pid, pidFile } : null;
  }
}

const live = liveEmbeddedServer();
if (live) {
  console.error(
    `Folio's embedded PostgreSQL is running (pid ${live.pid}, ${live.pidFile}); verifying now would stop it.\n` +
      'Stop Folio first, or set DATABASE_URL to that server (the owner connection) and run again.',
  );
  process.exit(2);
}

const booted = await boot({ migrate: false });
let exitCode = 0;
try {
  const ctx: Ctx = {
    db: booted.owner.db, config: booted.config, log: booted.log,
    principal: { kind: 'system', job: 'audit-verify' }, requestId: null, ip: null, userAgent: null,
  };
  const result = await verifyAuditChain(ctx);
  const partners = await booted.owner.db.selectFrom('partners').select(['id', 'name']).execute();
  const names = new Map(partners.map((p) => [p.id, p.name]));
  const label = (c: ChainReport) => (c.chain === PLATFORM_CHAIN ? 'platform' : `${c.chain} (${names.get(c.chain) ?? 'unknown partner'})`);
  for (const c of result.chains) {
    if (c.ok) console.log(`ok       ${label(c)}: ${events(c.checked)}, chain intact`);
    else {
      const p = c.firstProblem!;
      console.log(`PROBLEM  ${label(c)}: ${p.kind} at seq ${p.seq}${p.eventId ? ` (event ${p.eventId})` : ''} after ${events(c.checked)}: ${p.detail}`);
    }
  }
  const bad = result.chains.find((c) => !c.ok);
  if (bad?.firstProblem) {
    const p = bad.firstProblem;
    console.log(
      p.eventId
        ? `FIRST BAD EVENT: ${p.eventId} (chain ${label(bad)}, seq ${p.seq}, ${p.kind})`
        : `FIRST BAD EVENT: none left in chain ${label(bad)}; events from seq ${p.seq} are ${p.kind}`,
    );
    exitCode = 1;
  } else {
    console.log(`audit trail intact: ${events(result.checked)} in ${result.chains.length} chains`);
  }
} catch (err) {
  booted.log.error({ err }, 'the audit trail could not be verified');
  exitCode = 2;
} finally {
  await booted.shutdown();
}
process.exit(exitCode);
