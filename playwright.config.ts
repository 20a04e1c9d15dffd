import { defineConfig } from '@playwright/test';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { e2ePgPort, ensureWebBuilt, removeStaleDataDirs } from './e2e/support/prepare.ts';

/**
 * Browser end-to-end tests: Debian's Chromium (never a downloaded browser) against the real server, started here with its own
 * embedded PostgreSQL in a fresh temporary data dir. The web app is built first when dist/web is missing or older than web/.
 * The server is stopped with SIGTERM, which also stops its PostgreSQL.
 */
const PORT = Number(process.env.FOLIO_E2E_PORT ?? 3110);
const PG_PORT = e2ePgPort();
const baseURL = `http://127.0.0.1:${PORT}`;

// The config is loaded again in each worker; the main process decides the data dir once and passes it on through the env.
if (!process.env.FOLIO_E2E_DATA_DIR) {
  removeStaleDataDirs(os.tmpdir(), 'folio-e2e-');
  const dir = path.join(os.tmpdir(), `folio-e2e-${crypto.randomBytes(6).toString('hex')}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755); // PostgreSQL runs as its own user and must reach the data dir
  process.env.FOLIO_E2E_DATA_DIR = dir;
  ensureWebBuilt(import.meta.dirname);
}

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  forbidOnly: !!process.env.CI,
  reporter: [['list'], ['json', { outputFile: process.env.PLAYWRIGHT_JSON_OUTPUT_NAME ?? 'test-results/playwright.json' }]],
  outputDir: 'test-results/playwright',
  use: {
    baseURL,
    browserName: 'chromium',
    viewport: { width: 1366, height: 860 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: {
    command: 'node_modules/.bin/node src/main.ts all',
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 90_000,
    stdout: 'ignore',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 },
    env: {
      ...(process.env as Record<string, string>),
      PORT: String(PORT),
      HOST: '127.0.0.1',
      FOLIO_PG_PORT: String(PG_PORT),
      FOLIO_DATA_DIR: process.env.FOLIO_E2E_DATA_DIR,
      FOLIO_PUBLIC_URL: baseURL,
      LOG_LEVEL: 'warn',
    },
  },
});
