// `npm test`: typecheck, lint, unit + API tests (vitest, real PostgreSQL), then browser end-to-end tests (Playwright + Debian Chromium).
// Browser tests run when a Chromium is found; with CI=true they are mandatory. Ends with one line: `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ci = process.env.CI === 'true' || process.env.CI === '1';
const results = [];
let passed = 0;
let failed = 0;
fs.mkdirSync('test-results', { recursive: true });

function run(name, cmd, args, env = {}) {
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  const ok = r.status === 0;
  results.push({ name, ok, seconds: ((Date.now() - started) / 1000).toFixed(1) });
  return ok;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

const bin = (name) => path.join('node_modules', '.bin', name);

if (run('typecheck', bin('tsc'), ['-p', '.'])) passed++; else failed++;
if (run('lint', bin('eslint'), ['.', '--max-warnings=0'])) passed++; else failed++;

const vitestJson = 'test-results/vitest.json';
fs.rmSync(vitestJson, { force: true });
const unitOk = run('unit and API tests', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestJson}`]);
const vitest = readJson(vitestJson);
if (vitest) {
  // A test file that fails to load has no failed test in it: count each such file as one failure.
  const brokenFiles = (vitest.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'));
  for (const f of brokenFiles) console.error(`!!! ${f.name} failed to run: ${String(f.message).split('\n')[0]}`);
  passed += vitest.numPassedTests;
  failed += vitest.numFailedTests + brokenFiles.length + (unitOk || vitest.numFailedTests + brokenFiles.length > 0 ? 0 : 1);
} else {
  failed++;
}

const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const skipE2e = process.env.FOLIO_SKIP_E2E === 'true' && !ci;
if (skipE2e) {
  console.log('\n!!! FOLIO_SKIP_E2E=true: browser tests NOT run');
} else if (!fs.existsSync(chromium)) {
  const msg = `\n!!! No Chromium at ${chromium}: browser end-to-end tests NOT run. Install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH.`;
  if (ci) {
    console.error(msg + ' CI=true makes them mandatory.');
    failed++;
  } else {
    console.warn(msg);
  }
} else {
  const pwJson = 'test-results/playwright.json';
  fs.rmSync(pwJson, { force: true });
  const e2eOk = run('browser end-to-end tests', bin('playwright'), ['test'], { PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson, CHROMIUM_PATH: chromium });
  const pw = readJson(pwJson);
  if (pw?.stats) {
    passed += pw.stats.expected + (pw.stats.flaky ?? 0);
    failed += pw.stats.unexpected + (e2eOk || pw.stats.unexpected > 0 ? 0 : 1);
  } else {
    failed++;
  }
}

console.log('\n=== summary');
for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.seconds} s)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
