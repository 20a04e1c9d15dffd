import { chromium } from 'playwright-core';
const base = 'http://127.0.0.1:3997';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless','--no-sandbox','--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const who = process.argv[2] ?? 'admin@demo.test';
await page.goto(base + '/login');
await page.getByRole('textbox', { name: 'Email', exact: true }).fill(who);
await page.getByRole('textbox', { name: 'Password', exact: true }).fill('folio-demo-2026');
await page.getByRole('button', { name: 'Sign in' }).click();
await page.getByRole('heading', { name: 'Check your email' }).waitFor();
await page.waitForTimeout(800);
const mails = await (await page.request.get(base + '/api/v1/dev/mailbox?to=' + encodeURIComponent(who))).json();
const m = mails.data.filter(x => x.kind === 'two_factor_code').sort((a,b)=>a.createdAt<b.createdAt?1:-1)[0];
const code = /\b(\d{6})\b/.exec(m.subject)?.[1] ?? /\b(\d{6})\b/.exec(m.bodyText)?.[1];
await page.getByRole('textbox', { name: 'Sign-in code' }).fill(code);
await page.getByRole('button', { name: 'Verify and sign in' }).click();
await page.waitForURL(/admin/);
await page.waitForTimeout(1500);
await page.screenshot({ path: `/tmp/shots/a-home.png`, fullPage: true });
for (const p of (process.argv[3] ?? '/admin/customer,/admin/product,/admin/invoice,/admin/audit,/admin/discount,/admin/settings,/admin/access').split(',')) {
  await page.goto(base + p); await page.waitForTimeout(1500);
  await page.screenshot({ path: `/tmp/shots/a${p.replace(/\//g,'_')}.png`, fullPage: true });
}
await browser.close();
