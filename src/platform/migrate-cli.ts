import { boot } from './boot.ts';

/** `npm run migrate`: apply pending migrations and exit. */
const booted = await boot({ migrate: true });
booted.log.info('database is migrated to the latest version');
await booted.shutdown();
