import path from 'node:path';
import { boot } from './platform/boot.ts';
import { buildServer } from './platform/server.ts';
import { startWorker } from './platform/jobs.ts';
import { DEMO_LOGINS, seedDemo } from './platform/seed.ts';
import { createGateway, describeGatewayConfig, loadGatewayConfig } from './gateway/index.ts';

/**
 * `npm start` (mode all): embedded or external PostgreSQL, migrations, demo seed, API + portals + the worker in one process.
 * `npm run serve` (mode api): API and portals only.  `npm run worker` (mode worker): background jobs only.
 */
const mode = (process.argv[2] ?? 'all') as 'all' | 'api' | 'worker';
const started = Date.now();
const booted = await boot({ migrate: true });
const { config, log } = booted;

if (mode === 'all' && config.seedDemo) {
  if (await seedDemo(booted.owner.db, config.demoPassword, { config })) log.info('demo data seeded');
}
// The card gateway, once for the process: the API charges through it, the worker settles the sandbox's payments.
const gatewayConfig = loadGatewayConfig();
const gateway = createGateway(gatewayConfig, { db: booted.app.db });
log.info(describeGatewayConfig(gatewayConfig), 'card gateway');
const worker = mode === 'api' ? null : await startWorker({ queuePool: booted.owner.pool, ownerDb: booted.owner.db, db: booted.app.db, config, log, gateway });
const server = mode === 'worker' ? null : await buildServer({ config, db: booted.app.db, log, webDistDir: path.resolve('dist/web'), gateway });
if (server) await server.listen({ port: config.port, host: config.host });

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  await server?.close();
  await worker?.stop();
  await booted.shutdown();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
booted.embedded?.stopsItselfOnSignals(); // stop() stops it, after the server, the worker and the pools

if (server) {
  const url = `http://localhost:${config.port}`;
  const lines = [
    '',
    `Folio is running at ${url}  (started in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    `  admin portal ${url}/admin   user portal ${url}/portal   operator console ${url}/operator`,
    `  API ${url}/api/v1   OpenAPI ${url}/api/openapi.json   docs ${url}/api/docs   health ${url}/healthz`,
  ];
  if (config.seedDemo) {
    lines.push(`  demo logins (password "${config.demoPassword}"; sign-in codes arrive in the local mailbox at ${url}/mailbox):`);
    for (const l of DEMO_LOGINS) lines.push(`    ${l.email.padEnd(22)} ${l.who}`);
  }
  console.log(lines.join('\n') + '\n');
} else {
  log.info('worker running');
}
