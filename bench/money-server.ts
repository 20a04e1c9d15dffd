// The API server alone, for bench/money.ts: built as `src/main.ts` builds it in `api` mode (boot, card gateway, buildServer),
// with the one piece of the worker that keeps the API's own writes cheap: the audit search keys' upkeep loop (a deployment
// runs the worker beside the API; without it the keys' pending list is merged inside the requests, as before migration 0049),
// against the benchmark's database (DATABASE_URL), listening on 127.0.0.1 and a random port. Run as a child process so that
// its memory (VmHWM) is measured alone. Reports `{ port }` over IPC once listening; stops on SIGTERM, or when the parent goes.
import { writeFileSync } from 'node:fs';
import { Session as InspectorSession } from 'node:inspector';
import path from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { boot } from '../src/platform/boot.ts';
import { buildServer } from '../src/platform/server.ts';
import { createGateway, loadGatewayConfig } from '../src/gateway/index.ts';
import { startAuditKeysUpkeep } from '../src/audit/audit-keys-upkeep.ts';

if (!process.send) {
  console.error('bench/money-server.ts is started by bench/money.ts (it needs an IPC channel)');
  process.exit(2);
}
if (!process.env.DATABASE_URL) {
  console.error('bench/money-server.ts needs DATABASE_URL');
  process.exit(2);
}

const booted = await boot({ migrate: true });
const { config, log } = booted;
const gateway = createGateway(loadGatewayConfig(), { db: booted.app.db });
const server = await buildServer({ config, db: booted.app.db, log, webDistDir: path.resolve('dist/web'), gateway });
const auditKeysUpkeep = startAuditKeysUpkeep({ owner: booted.owner.db, log });
await server.listen({ port: 0, host: '127.0.0.1' });
const address = server.server.address();
if (!address || typeof address === 'string') throw new Error('server has no TCP address');

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(code), 5_000);
  force.unref();
  try {
    await server.close();
    await auditKeysUpkeep.stop();
    await booted.shutdown();
  } finally {
    process.exit(code);
  }
}
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
process.on('disconnect', () => void stop(0));
// The parent asks where memory goes (heap vs buffers vs the rest) at a few points of the run, and what held the event
// loop up during a run (`probe: 'start' | 'stop'`): the loop's delay percentiles and V8's garbage-collection pauses.
let loopDelay: ReturnType<typeof monitorEventLoopDelay> | null = null;
let gcPausesMs: number[] = [];
let gcByKind: Record<string, { pauses: number; totalMs: number; maxMs: number }> = {};
/** V8's kinds of collection (perf_hooks constants NODE_PERFORMANCE_GC_*). */
const GC_KINDS: Record<number, string> = { 1: 'scavenge', 2: 'markCompact', 4: 'incremental', 8: 'weakCallbacks' };
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcPausesMs.push(entry.duration);
    const kind = GC_KINDS[((entry as unknown as { detail?: { kind?: number } }).detail)?.kind ?? 0] ?? 'other';
    const k = (gcByKind[kind] ??= { pauses: 0, totalMs: 0, maxMs: 0 });
    k.pauses++;
    k.totalMs = Math.round((k.totalMs + entry.duration) * 100) / 100;
    k.maxMs = Math.max(k.maxMs, Math.round(entry.duration * 100) / 100);
  }
});
// BENCH_PROFILE_DIR: the parent asks for a CPU profile of a phase (`cpuProfile: 'start'`, then `{ cpuProfile: 'stop', file }`),
// written as a .cpuprofile (Chrome DevTools' format) by V8's sampling profiler, through the inspector, and beside it a
// .heapprofile of what the phase allocated (V8's sampling heap profiler).
let profiler: InspectorSession | null = null;
const post = <T,>(method: string): Promise<T> => new Promise((resolve, reject) => {
  profiler!.post(method, (err, result) => (err ? reject(err) : resolve(result as T)));
});
const postWith = (method: string, params: object): Promise<void> => new Promise((resolve, reject) => {
  profiler!.post(method, params, (err) => (err ? reject(err) : resolve()));
});
async function cpuProfile(m: { cpuProfile: 'start' | 'stop'; file?: string }): Promise<void> {
  if (m.cpuProfile === 'start') {
    profiler ??= new InspectorSession();
    profiler.connect();
    await post('Profiler.enable');
    await post('Profiler.start');
    // Every allocation sampled (one per 16 KB on average), also of objects the young generation's collections freed: what
    // the phase allocated, not what it kept.
    await postWith('HeapProfiler.startSampling', { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  } else if (profiler) {
    const { profile } = await post<{ profile: unknown }>('Profiler.stop');
    const { profile: heap } = await post<{ profile: unknown }>('HeapProfiler.stopSampling');
    if (m.file) {
      writeFileSync(m.file, JSON.stringify(profile));
      writeFileSync(m.file.replace(/\.cpuprofile$/, '') + '.heapprofile', JSON.stringify(heap));
    }
    profiler.disconnect();
    profiler = null;
    process.send?.({ cpuProfileWritten: m.file ?? null });
  }
}
process.on('message', (m: { memory?: boolean; probe?: 'start' | 'stop'; cpuProfile?: 'start' | 'stop'; file?: string }) => {
  if (m.memory) process.send?.({ memory: process.memoryUsage() });
  if (m.cpuProfile) void cpuProfile({ cpuProfile: m.cpuProfile, file: m.file });
  if (m.probe === 'start') {
    loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    gcPausesMs = [];
    gcByKind = {};
    gcObserver.observe({ entryTypes: ['gc'] });
  } else if (m.probe === 'stop' && loopDelay) {
    loopDelay.disable();
    gcObserver.disconnect();
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    const sorted = [...gcPausesMs].sort((a, b) => a - b);
    process.send?.({
      probe: {
        loopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) },
        gc: { pauses: sorted.length, totalMs: Math.round(sorted.reduce((a, b) => a + b, 0) * 100) / 100, maxMs: Math.round((sorted.at(-1) ?? 0) * 100) / 100, over2Ms: sorted.filter((d) => d > 2).length, byKind: gcByKind },
      },
    });
    loopDelay = null;
  }
});
process.send({ port: address.port, pid: process.pid });
