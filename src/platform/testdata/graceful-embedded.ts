// Test fixture: a process that stops its embedded PostgreSQL itself on SIGTERM, after work of its own, as src/main.ts
// does (see embedded-postgres.test.ts).
import { openDatabase } from '../database.ts';
import { startEmbeddedPostgres } from '../embedded-postgres.ts';

const [dataDir, port] = process.argv.slice(2);
const embedded = await startEmbeddedPostgres({ dataDir: dataDir!, port: Number(port), log: () => {} });
const errors: string[] = [];
const handle = openDatabase(embedded.url, { appRole: false, max: 3, onError: (err) => errors.push(err.message) });
await Promise.all([1, 2, 3].map(() => handle.pool.query('select pg_sleep(0.02)'))); // three open connections
process.on('SIGTERM', () => {
  void (async () => {
    await new Promise((resolve) => setTimeout(resolve, 500)); // still answering a request
    try {
      const { rows } = await handle.pool.query<{ one: number }>('select 1 as one');
      console.log(`query during shutdown: ${rows[0]!.one}`);
    } catch (err) {
      console.log(`query during shutdown failed: ${(err as Error).message}`);
    }
    await handle.close();
    await embedded.stop();
    console.log(`stopped; pool errors: ${errors.length}`);
    process.exit(0);
  })();
});
embedded.stopsItselfOnSignals();
console.log('ready');
setInterval(() => {}, 60_000);
