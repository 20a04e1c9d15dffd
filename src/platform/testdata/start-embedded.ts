// Test fixture: start an embedded PostgreSQL, say "ready", then wait to be killed (see embedded-postgres.test.ts).
import { startEmbeddedPostgres } from '../embedded-postgres.ts';

const [dataDir, port] = process.argv.slice(2);
await startEmbeddedPostgres({ dataDir: dataDir!, port: Number(port), log: () => {} });
console.log('ready');
setInterval(() => {}, 60_000);
