// What the benchmarks share. Not part of `npm test`; type-checked with the rest.
import fs from 'node:fs';
import path from 'node:path';
import { stopServerOnDataDir } from '../src/platform/embedded-postgres.ts';

/**
 * Before a run: stop a PostgreSQL that an earlier, killed run of the same bench left in `/tmp/<prefix>*` on `port` (another
 * run's server on another port is not ours to touch), and remove those temp dirs.
 */
export async function removeLeftovers(prefix: string, port: number, log: (line: string) => void): Promise<void> {
  for (const name of fs.readdirSync('/tmp')) {
    if (!name.startsWith(prefix)) continue;
    const dir = path.join('/tmp', name);
    const pidFile = path.join(dir, 'pg', 'postmaster.pid');
    if (fs.existsSync(pidFile) && Number(fs.readFileSync(pidFile, 'utf8').split('\n')[3]) !== port) continue;
    await stopServerOnDataDir(path.join(dir, 'pg'), log);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Bound a bench run: on SIGINT or SIGTERM, or once `maxMinutes` have passed, run `cleanup` and exit (130 on a signal,
 * 1 on the time bound). Returns the release to call when the run ends by itself (handlers removed, timer cleared).
 */
export function guardRun(name: string, maxMinutes: number, cleanup: () => Promise<void>, log: (line: string) => void): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    log(`\n${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(() => {
    log(`\n${name}: over ${maxMinutes} minutes, stopping`);
    void cleanup().finally(() => process.exit(1));
  }, maxMinutes * 60_000);
  watchdog.unref();
  return () => {
    clearTimeout(watchdog);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
