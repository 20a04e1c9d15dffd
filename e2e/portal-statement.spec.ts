import fs from 'node:fs';
import { expect, test } from '@playwright/test';
import { pdfText } from '../src/invoices/pdf/pdf-text.ts';
import { SHOTS, signIn } from './support/folio.ts';

/**
 * Last month's Monthly statement in the user portal (issue 5 §1): the demo seed charges Acme's calls of the month that
 * ended last and makes the statement the job makes on the 1st (src/invoices/statements/demo-statement.ts). The owner
 * finds it under Monthly, with nothing to pay, opens it and reads the month as its first and last day, the opening and
 * closing points, and the usage by category as a chart (a chunk of its own, fetched only now) and a table; the PDF
 * says the same.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The month that ended last, as the screen writes its first and last day: "1 Nov 2026 – 30 Nov 2026". */
function lastMonthShown(now = new Date()): string {
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0));
  const day = (d: Date) => `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  return `${day(first)} – ${day(last)}`;
}

test('an owner opens last month’s Monthly statement: points in and out, usage by category as a chart and a table, the same in the PDF', async ({ page }) => {
  const chartChunks: string[] = [];
  page.on('request', (r) => {
    if (/\/assets\/UsageChart-[^/]+\.js$/.test(r.url())) chartChunks.push(r.url());
  });
  await signIn(page, 'owner@acme.test', /\/portal$/, { twoFactor: false });
  await page.goto('/portal?tab=invoices');
  await page.getByRole('radiogroup', { name: 'Type' }).getByText('Monthly', { exact: true }).click();
  const rows = page.getByRole('table', { name: 'Invoices' }).getByRole('row');
  await expect(rows).toHaveCount(2); // the header and the one statement
  const row = rows.nth(1);
  await expect(row).toContainText('Monthly');
  await expect(row).toContainText('Informational');
  await expect(row).toContainText('SGD 2.92'); // 2.68 of calls and 9% GST on it, rounded once (ADR 0012, 0032)
  await expect(row.getByRole('button', { name: /^Pay / })).toHaveCount(0);
  const number = ((await row.getByText(/^STM-/).textContent()) ?? '').trim();
  expect(number).toMatch(/^STM-\d{6}-\d{6}$/);
  expect(chartChunks, 'the chart is not fetched before a statement with usage is opened').toEqual([]);

  // At 1280 px the dialog's card is too narrow for the chart and the table side by side: the table, under the chart,
  // keeps every column in the card ("Of which tax" was cut off).
  await page.setViewportSize({ width: 1280, height: 860 });
  await row.getByText(number).click();
  const dialog = page.getByRole('dialog', { name: `Invoice ${number}` });
  await expect(dialog).toContainText(`period ${lastMonthShown()}`);
  await expect(dialog).toContainText('Nothing is due');
  await expect(dialog.getByRole('heading', { name: `Statement ${lastMonthShown()}` })).toBeVisible();
  await expect(dialog.getByTestId('statement-opening')).toHaveText('SGD 0.00');
  await expect(dialog.getByTestId('statement-closing')).toHaveText('SGD 47.0788');
  // The calls of the month stand beside the other movements, so opening and movements add up to closing (50.00 credited - 2.9212 of calls).
  await expect(dialog.getByTestId('statement-calls')).toHaveText('SGD 2.9212');

  // The table: each category's calls, billed time, what the points paid and the tax in it (the seed's 14 calls, 2.68
  // in all before 9% GST).
  const table = dialog.getByRole('table', { name: 'Usage by category' });
  const expected = [
    ['Singapore mobile', '7', '21 min', '1.3734', '0.1134'],
    ['Singapore fixed', '3', '27 min', '0.8829', '0.0729'],
    ['United Kingdom', '2', '7 min', '0.3815', '0.0315'],
    ['United States', '2', '13 min', '0.2834', '0.0234'],
  ];
  await expect(table.getByRole('row')).toHaveCount(expected.length + 1);
  const card = dialog.getByRole('region', { name: /^Statement / });
  const [cardBox, tableBox, taxBox] = await Promise.all([card.boundingBox(), table.boundingBox(), table.getByRole('columnheader', { name: 'Of which tax' }).boundingBox()]);
  expect(tableBox!.x + tableBox!.width, 'the table ends inside its card').toBeLessThanOrEqual(cardBox!.x + cardBox!.width);
  expect(taxBox!.x + taxBox!.width, '"Of which tax" is inside the card').toBeLessThanOrEqual(cardBox!.x + cardBox!.width);
  for (const [i, cells] of expected.entries()) {
    await expect(table.getByRole('row').nth(i + 1).getByRole('cell')).toHaveText(cells);
  }

  // The chart: a bar per category, and every category's name written beside its bar.
  const chart = dialog.getByRole('figure', { name: 'Usage by category' });
  await expect(chart.locator('.recharts-bar-rectangle')).toHaveCount(expected.length);
  await expect(chart.locator('.recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value')).toHaveText(expected.map(([label]) => label!));
  expect(chartChunks).toHaveLength(1);
  await chart.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${SHOTS}/portal-monthly-statement.png`, fullPage: true });

  const downloading = page.waitForEvent('download');
  await dialog.getByRole('link', { name: 'Download PDF' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(`${number}.pdf`);
  const { text } = await pdfText(fs.readFileSync(await download.path()));
  expect(text).toContain(number);
  expect(text).toContain(`Statement for ${lastMonthShown()}`);
  for (const [label, calls, time, amount, tax] of expected) expect(text).toContain(`${label} ${calls} ${time} ${amount} ${tax}`);
});
