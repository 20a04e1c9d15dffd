import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function newestMtime(target: string): number {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(target)) {
    if (entry === 'node_modules') continue;
    newest = Math.max(newest, newestMtime(path.join(target, entry)));
  }
  return newest;
}

/** Build the web app (`npm run build`) when dist/web is missing or older than its sources. */
export function ensureWebBuilt(root: string): void {
  const built = fs.statSync(path.join(root, 'dist/web/index.html'), { throwIfNoEntry: false });
  const sources = Math.max(newestMtime(path.join(root, 'web')), newestMtime(path.join(root, 'vite.config.ts')), newestMtime(path.join(root, 'package-lock.json')));
  if (built && built.mtimeMs >= sources) return;
  console.log(built ? 'dist/web is older than web/: building the web app' : 'dist/web is missing: building the web app');
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status ?? r.signal})`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Remove data dirs of earlier runs whose PostgreSQL is no longer running (a running one is left alone). */
export function removeStaleDataDirs(parent: string, prefix: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(parent).filter((e) => e.startsWith(prefix) && /^[0-9a-f]{12}$/.test(e.slice(prefix.length)));
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = path.join(parent, entry);
    const pidFiles = [path.join(dir, 'pg', 'postmaster.pid'), path.join(dir, 'postmaster.pid')];
    const running = pidFiles.some((f) => {
      try {
        const pid = Number(fs.readFileSync(f, 'utf8').split('\n')[0]);
        return Number.isInteger(pid) && pid > 0 && pidAlive(pid);
      } catch {
        return false;
      }
    });
    if (!running) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The port of the e2e server's embedded PostgreSQL (playwright.config.ts starts it there; FOLIO_E2E_PG_PORT, else
 * 54350), which a journey's own database step (e2e/support/database.ts) connects to.
 */
export function e2ePgPort(): number {
  return Number(process.env.FOLIO_E2E_PG_PORT ?? 54350);
}
