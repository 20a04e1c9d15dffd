import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, customerIdOf, expectUnknownId, signIn, type Session, type TestApp } from '../test/harness.ts';
import { expectSound, invoiceState, newCustomer, newInvoice, pointsOf } from '../payments/payments.test-kit.ts';
import type { BankLineView, BankStatementView } from './bank-statement-views.ts';

let t: TestApp;
let finance: Session;
let admin: Session;

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

type Detail = BankStatementView & { lines: { data: BankLineView[]; nextCursor: string | null } };
let fileSeq = 0;

async function upload(csv: string, fileName = `statement-${++fileSeq}.csv`) {
  return api(t, finance, 'POST', '/api/v1/bank-statements', { fileName, csv });
}
async function imported(csv: string): Promise<Detail> {
  const res = await upload(csv);
  expect(res.statusCode, res.body).toBe(201);
  return detail(res.json<BankStatementView>().id);
}
async function detail(id: string, query = ''): Promise<Detail> {
  const res = await api(t, finance, 'GET', `/api/v1/bank-statements/${id}${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Detail>();
}
const lineNo = (d: Detail, n: number) => d.lines.data.find((l) => l.lineNo === n)!;
const accept = (d: Detail, line: BankLineView, body: Record<string, unknown> = {}) =>
  api(t, finance, 'POST', `/api/v1/bank-statements/${d.id}/lines/${line.id}/accept`, body);
const paymentCount = async () => Number((await t.db.owner.db.selectFrom('payments').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

/** A fresh customer with open invoices of the given amounts (oldest first: due in 10, 20, 30 ... days). */
async function customerWith(amounts: string[]) {
  const customerId = await newCustomer(t, finance);
  const invoices = [];
  for (const [i, amount] of amounts.entries()) invoices.push(await newInvoice(t, finance, customerId, amount, { dueDays: 10 * (i + 1) }));
  const name = (await t.db.owner.db.selectFrom('customers').select('name').where('id', '=', customerId).executeTakeFirstOrThrow()).name;
  return { customerId, name, invoices };
}

describe('matching', () => {
  it('proposes by reference, by exact amount, by a combination and by payer name; says why; leaves the rest unmatched', async () => {
    const a = await customerWith(['1111.11', '222.22', '333.33']);
    const b = await customerWith(['4444.17']);
    const c = await customerWith(['55.51', '66.62', '77.73']);
    const d = await customerWith([]);
    const csv = [
      'Date,Description,Amount,Payer',
      `2026-11-02,"Payment ${a.invoices[0]!.number} and ${a.invoices[1]!.number!.toLowerCase()}.",1333.33,Someone`,
      '2026-11-02,Transfer from B,4444.17,B Corp',
      '2026-11-02,Settlement,122.13,C Corp',
      '2026-11-02,Settlement all,199.86,C Corp',
      `2026-11-02,Top up,10.00,${d.name}`,
      '2026-11-02,Mystery,98765.43,Nobody',
      '2026-11-02,Bank charges,-2.50,',
    ].join('\n');
    const st = await imported(csv);
    expect(st.counts).toMatchObject({ suggested: 5, unmatched: 1, ignored: 1, duplicate: 0, confident: 1 });

    const ref = lineNo(st, 2);
    expect(ref).toMatchObject({ status: 'suggested', matchKind: 'reference', confidence: 'high', customer: { id: a.customerId } });
    expect(ref.invoices.map((i) => i.id)).toEqual([a.invoices[0]!.id, a.invoices[1]!.id]);
    expect(ref.reason).toContain(`reference names ${a.invoices[0]!.number}, ${a.invoices[1]!.number}`);

    expect(lineNo(st, 3)).toMatchObject({ matchKind: 'amount', confidence: 'medium', customer: { id: b.customerId }, reason: `amount matches 1 open invoice (${b.invoices[0]!.number})` });
    expect(lineNo(st, 3).invoices).toEqual([expect.objectContaining({ id: b.invoices[0]!.id, amountDue: '4444.17' })]);
    const two = lineNo(st, 4);
    expect(two).toMatchObject({ matchKind: 'combination', customer: { id: c.customerId }, reason: 'amount equals the 2 oldest open invoices of the customer' });
    expect(two.invoices.map((i) => i.id)).toEqual([c.invoices[0]!.id, c.invoices[1]!.id]);
    expect(lineNo(st, 5)).toMatchObject({ matchKind: 'combination', reason: 'amount equals all 3 open invoices of the customer' });
    expect(lineNo(st, 6)).toMatchObject({ matchKind: 'payer_name', confidence: 'low', customer: { id: d.customerId }, invoices: [] });
    expect(lineNo(st, 7)).toMatchObject({ status: 'unmatched', customer: null, reason: 'no open invoice matches the reference or the amount' });
    expect(lineNo(st, 8)).toMatchObject({ status: 'ignored', amount: '-2.50' });
  });

  it('an amount owed by two customers is not guessed, unless the payer name picks one (then high)', async () => {
    const x = await customerWith(['808.08']);
    await customerWith(['808.08']);
    const st = await imported(`date,amount,reference,payer\n2026-11-03,808.08,Invoice payment,Unknown\n2026-11-03,808.08,Invoice payment 2,${x.name}\n`);
    expect(lineNo(st, 2)).toMatchObject({ status: 'unmatched', reason: 'amount matches open invoices of several customers: choose the customer' });
    expect(lineNo(st, 3)).toMatchObject({ status: 'suggested', confidence: 'high', customer: { id: x.customerId } });
    expect(lineNo(st, 3).reason).toContain('payer name matches the customer');
  });

  it('never proposes another partner\'s customer or invoice, even by its number and amount', async () => {
    const north = await signIn(t, 'admin@northwind.test');
    const wombat = await customerIdOf(t.db, 'Wombat Pty Ltd');
    const inv = await newInvoice(t, north, wombat, '919.19');
    const st = await imported(`date,amount,currency,reference\n2026-11-04,919.19,AUD,Paying ${inv.number}\n2026-11-04,919.19,SGD,Paying ${inv.number} again\n`);
    for (const line of st.lines.data) {
      expect(line.customer?.id).not.toBe(wombat);
      expect(line.invoices.map((i) => i.id)).not.toContain(inv.id);
    }
    expect(lineNo(st, 2)).toMatchObject({ status: 'unmatched', customer: null });
  });

  it('a reference naming a paid invoice still names its customer, with medium confidence', async () => {
    const p = await customerWith(['12.12']);
    const first = await imported(`date,amount,reference\n2026-11-05,12.12,${p.invoices[0]!.number}\n`);
    expect((await accept(first, first.lines.data[0]!)).statusCode).toBe(200);
    const again = await imported(`date,amount,reference\n2026-11-06,12.12,${p.invoices[0]!.number} second time\n`);
    expect(again.lines.data[0]).toMatchObject({ status: 'suggested', confidence: 'medium', customer: { id: p.customerId }, invoices: [] });
    expect(again.lines.data[0]!.reason).toContain('no longer open');
  });
});

describe('accept, edit, reject', () => {
  it('accepting a suggestion records an ordinary bank transfer and pays the proposed invoices, audited', async () => {
    const a = await customerWith(['300.00', '200.00']);
    const st = await imported(`date,amount,reference\n2026-11-10,350.00,"${a.invoices[0]!.number}, ${a.invoices[1]!.number}"\n`);
    const line = st.lines.data[0]!;
    const res = await accept(st, line);
    expect(res.statusCode, res.body).toBe(200);
    const accepted = res.json<BankLineView>();
    expect(accepted).toMatchObject({ status: 'accepted', paymentId: expect.stringMatching(/^pay_/) });
    const payment = await api(t, finance, 'GET', `/api/v1/payments/${accepted.paymentId}`);
    expect(payment.json()).toMatchObject({
      method: 'bank_transfer', amount: '350.00', currency: 'SGD', receivedOn: '2026-11-10', reference: `${a.invoices[0]!.number}, ${a.invoices[1]!.number}`,
      customer: { id: a.customerId }, status: 'allocated', unallocated: '0.00',
    });
    expect(await invoiceState(t, a.invoices[0]!.id)).toMatchObject({ status: 'paid' });
    expect(await invoiceState(t, a.invoices[1]!.id)).toMatchObject({ status: 'partially_paid', amountDueMicros: '150000000' });
    const [event] = await auditEventsOf(t.db, 'bank_statement_line.accepted');
    expect(event).toMatchObject({ app: 'finance', targetId: line.id, customerId: a.customerId, changes: { paymentId: { after: accepted.paymentId } } });
    expect((await detail(st.id)).counts).toMatchObject({ accepted: 1, suggested: 0 });
    await expectSound(t);
  });

  it('edits: another customer, chosen invoices and amounts, leftover to points', async () => {
    const wrong = await customerWith(['61.00']);
    const right = await customerWith(['40.00', '25.00']);
    const st = await imported('date,amount,reference\n2026-11-11,61.00,Payment\n');
    expect(st.lines.data[0]!.customer?.id).toBe(wrong.customerId);
    const pointsBefore = await pointsOf(t, right.customerId);
    const res = await accept(st, st.lines.data[0]!, {
      customerId: right.customerId, allocations: [{ invoiceId: right.invoices[1]!.id, amount: '25.00' }, { invoiceId: right.invoices[0]!.id, amount: '30.00' }], leftover: 'points',
    });
    expect(res.statusCode, res.body).toBe(200);
    const payment = (await api(t, finance, 'GET', `/api/v1/payments/${res.json<BankLineView>().paymentId}`)).json();
    expect(payment).toMatchObject({ customer: { id: right.customerId }, allocated: '55.00', toPoints: '6.00', unallocated: '0.00' });
    expect(await pointsOf(t, right.customerId)).toBe(pointsBefore + 6_000_000n);
    expect(await invoiceState(t, wrong.invoices[0]!.id)).toMatchObject({ status: 'awaiting_payment' });
    await expectSound(t);
  });

  it('lists a chosen customer\'s open invoices for the edit dialog; an unknown or another partner\'s customer is 422 customer_not_found naming customerId', async () => {
    const a = await customerWith(['11.00', '22.00']);
    const st = await imported('date,amount,reference\n2026-11-11,5.55,For the dialog\n');
    const line = st.lines.data[0]!;
    const res = await api(t, finance, 'GET', `/api/v1/bank-statements/${st.id}/lines/${line.id}/open-invoices?customerId=${a.customerId}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ customerId: a.customerId, currency: 'SGD', more: false });
    expect(res.json().data.map((i: { id: string; amountDue: string }) => [i.id, i.amountDue])).toEqual([[a.invoices[0]!.id, '11.00'], [a.invoices[1]!.id, '22.00']]);
    const wombat = await customerIdOf(t.db, 'Wombat Pty Ltd');
    const openOf = (customerId: string) => api(t, finance, 'GET', `/api/v1/bank-statements/${st.id}/lines/${line.id}/open-invoices?customerId=${customerId}`);
    expectUnknownId([await openOf(wombat), await openOf('cus_00000000000000000000000000')], 'customer_not_found', 'customerId');
    // The line is the path's: unknown, 404.
    expect((await api(t, finance, 'GET', `/api/v1/bank-statements/${st.id}/lines/bsl_00000000000000000000000000/open-invoices?customerId=${a.customerId}`)).statusCode).toBe(404);
  });

  it('accepting with no customer records an unassigned payment', async () => {
    const st = await imported('date,amount,reference\n2026-11-12,77.71,Who is this\n');
    const res = await accept(st, st.lines.data[0]!, {});
    expect(res.statusCode, res.body).toBe(200);
    const payment = (await api(t, finance, 'GET', `/api/v1/payments/${res.json<BankLineView>().paymentId}`)).json();
    expect(payment).toMatchObject({ status: 'unassigned', customer: null, amount: '77.71' });
  });

  it('bad edits are refused and write nothing: another partner\'s invoice, more than the line, another currency, unassigned with allocations', async () => {
    const a = await customerWith(['90.00']);
    const north = await signIn(t, 'admin@northwind.test');
    const foreign = await newInvoice(t, north, await customerIdOf(t.db, 'Wombat Pty Ltd'), '90.00');
    const globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
    const st = await imported(`date,amount,reference\n2026-11-13,90.00,${a.invoices[0]!.number}\n`);
    const line = st.lines.data[0]!;
    const before = await paymentCount();
    const attempts = [
      [{ allocations: [{ invoiceId: foreign.id, amount: '90.00' }] }, 422],
      [{ allocations: [{ invoiceId: a.invoices[0]!.id, amount: '90.00' }, { invoiceId: foreign.id, amount: '1.00' }] }, 422],
      [{ customerId: a.customerId, allocations: [{ invoiceId: a.invoices[0]!.id, amount: '95.00' }] }, 422],
      [{ allocations: [{ invoiceId: a.invoices[0]!.id, amount: '9.999' }] }, 422], // too many decimals for SGD: a rule (docs/adr/0040)
      [{ allocations: [{ invoiceId: a.invoices[0]!.id, amount: '0.00' }] }, 422],
      [{ allocations: [{ invoiceId: a.invoices[0]!.id, amount: 'nine' }] }, 400],
      [{ customerId: globex }, 422],
      [{ customerId: null, allocations: [{ invoiceId: a.invoices[0]!.id, amount: '1.00' }] }, 400],
      [{ surprise: 1 }, 400],
    ] as const;
    for (const [body, status] of attempts) {
      const res = await accept(st, line, body);
      expect(res.statusCode, `${JSON.stringify(body)}: ${res.body}`).toBe(status);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
    // An unknown or another partner's customer, an unknown or another partner's invoice: the same 422 each, naming the field.
    const wombat = await customerIdOf(t.db, 'Wombat Pty Ltd');
    expectUnknownId([await accept(st, line, { customerId: wombat }), await accept(st, line, { customerId: 'cus_00000000000000000000000000' })], 'customer_not_found', 'customerId');
    const second = (invoiceId: string) => accept(st, line, { customerId: a.customerId, allocations: [{ invoiceId: a.invoices[0]!.id, amount: '89.00' }, { invoiceId, amount: '1.00' }] });
    expectUnknownId([await second(foreign.id), await second('inv_00000000000000000000000000')], 'invoice_not_found', 'allocations.1.invoiceId');
    expect(await paymentCount()).toBe(before);
    expect(await invoiceState(t, a.invoices[0]!.id)).toMatchObject({ status: 'awaiting_payment' });
    expect((await detail(st.id)).lines.data[0]).toMatchObject({ status: 'suggested', paymentId: null });
  });

  it('reject: the line is closed, audited, and can no longer be accepted; a debit or duplicate line cannot be accepted', async () => {
    const st = await imported('date,amount,reference\n2026-11-14,13.57,Refund from supplier\n2026-11-14,-20.00,Fee\n');
    const res = await api(t, finance, 'POST', `/api/v1/bank-statements/${st.id}/lines/${lineNo(st, 2).id}/reject`, { reason: 'Supplier refund, not a customer payment' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'rejected', rejectReason: 'Supplier refund, not a customer payment' });
    expect((await auditEventsOf(t.db, 'bank_statement_line.rejected'))[0]).toMatchObject({ targetId: lineNo(st, 2).id });
    const again = await accept(st, lineNo(st, 2));
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'bank_line_decided' });
    expect((await accept(st, lineNo(st, 3))).json()).toMatchObject({ code: 'bank_line_decided' });
    expect((await api(t, finance, 'POST', `/api/v1/bank-statements/${st.id}/lines/${lineNo(st, 3).id}/reject`, {})).statusCode).toBe(409);
  });

  it('concurrent accepts of one line record one payment', async () => {
    const a = await customerWith(['246.80']);
    const st = await imported(`date,amount,reference\n2026-11-15,246.80,${a.invoices[0]!.number}\n`);
    const before = await paymentCount();
    const results = await Promise.all(Array.from({ length: 6 }, () => accept(st, st.lines.data[0]!)));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([200, 409, 409, 409, 409, 409]);
    expect(await paymentCount()).toBe(before + 1);
    expect(await invoiceState(t, a.invoices[0]!.id)).toMatchObject({ status: 'paid' });
    await expectSound(t);
  });

  it('accept-confident takes the high-confidence lines only, each as proposed', async () => {
    const a = await customerWith(['31.00']);
    const b = await customerWith(['32.00']);
    const c = await customerWith(['33.33']);
    const st = await imported(`date,amount,reference\n2026-11-16,31.00,${a.invoices[0]!.number}\n2026-11-16,32.00,${b.invoices[0]!.number}\n2026-11-16,33.33,by amount only\n`);
    expect(st.counts.confident).toBe(2);
    const res = await api(t, finance, 'POST', `/api/v1/bank-statements/${st.id}/accept-confident`, {});
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ accepted: 2, failed: [], remaining: 0 });
    const after = await detail(st.id);
    expect(after.counts).toMatchObject({ accepted: 2, suggested: 1, confident: 0 });
    expect(await invoiceState(t, a.invoices[0]!.id)).toMatchObject({ status: 'paid' });
    expect(await invoiceState(t, c.invoices[0]!.id)).toMatchObject({ status: 'awaiting_payment' });
    expect((await api(t, finance, 'POST', `/api/v1/bank-statements/${st.id}/accept-confident`, {})).json()).toEqual({ accepted: 0, failed: [], remaining: 0 });
    await expectSound(t);
  });
});

describe('imports', () => {
  it('the same file twice: a warning, every line a duplicate, nothing paid twice; the same lines in another file are duplicates too', async () => {
    const a = await customerWith(['512.00']);
    const csv = `date,amount,reference\n2026-11-17,512.00,${a.invoices[0]!.number}\n2026-11-17,5.00,Same\n2026-11-17,5.00,Same\n`;
    const first = await imported(csv);
    expect(first.counts).toMatchObject({ suggested: 1, unmatched: 2, duplicate: 0 });
    const second = await imported(csv);
    expect(second.warnings[0]).toMatch(/imported before/);
    expect(second.counts).toMatchObject({ duplicate: 3, suggested: 0, unmatched: 0 });
    expect(lineNo(second, 2).duplicateOf).toBe(lineNo(first, 2).id);
    expect((await accept(second, lineNo(second, 2))).json()).toMatchObject({ code: 'bank_line_decided' });
    // Same lines, another file (a new line added): only the new line is imported; the repeated "Same" line counts per occurrence.
    const third = await imported(`${csv}2026-11-17,5.00,Same\n`);
    expect(third.counts).toMatchObject({ duplicate: 3, unmatched: 1 });
    expect(third.warnings[0]).toMatch(/3 line\(s\) were imported before/);
  });

  it('per-line errors are kept with the import; a file that is not a statement is a 400 naming csv', async () => {
    const res = await upload('date,amount,currency,reference\n2026-11-18,10.00,SGD,ok\n2026-11-18,10.005,SGD,x\n2026-11-18,1.00,ABC,y\nnot-a-date,1.00,SGD,z\n');
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      recordCount: 4, errorCount: 3,
      errors: [{ line: 3, field: 'amount' }, { line: 4, field: 'currency' }, { line: 5, field: 'date' }],
    });
    for (const csv of ['this is not a bank statement', '\u0000\u0001binary', 'date,amount\n']) {
      const bad = await upload(csv);
      expect(bad.statusCode, csv).toBe(400);
      expect(bad.json().errors[0].path).toBe('csv');
    }
    const empty = await api(t, finance, 'POST', '/api/v1/bank-statements', { fileName: 'x.csv', csv: '' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().errors[0].path).toBe('csv');
  });

  it('lists imports newest first with counts, pages lines, and filters them by state', async () => {
    const st = await imported('date,amount,reference\n2026-11-19,1.01,a\n2026-11-19,1.02,b\n2026-11-19,-1.03,c\n');
    const list = await api(t, finance, 'GET', '/api/v1/bank-statements?limit=2');
    expect(list.statusCode).toBe(200);
    expect(list.json().data[0]).toMatchObject({ id: st.id, counts: { unmatched: 2, ignored: 1 }, uploadedBy: { name: 'Fiona Finance' } });
    expect(list.json().nextCursor).toEqual(expect.any(String));
    const page1 = await detail(st.id, '?limit=2');
    expect(page1.lines.data.map((l) => l.lineNo)).toEqual([2, 3]);
    const page2 = await detail(st.id, `?limit=2&cursor=${page1.lines.nextCursor}`);
    expect(page2.lines.data.map((l) => l.lineNo)).toEqual([4]);
    expect(page2.lines.nextCursor).toBeNull();
    expect((await detail(st.id, '?status=ignored')).lines.data.map((l) => l.lineNo)).toEqual([4]);
  });

  it('is the Finance app\'s only: staff without it get 403; an unknown import is 404', async () => {
    const st = await imported('date,amount,reference\n2026-11-20,2.02,a\n');
    expect((await api(t, admin, 'GET', '/api/v1/bank-statements')).statusCode).toBe(403);
    expect((await api(t, admin, 'POST', '/api/v1/bank-statements', { fileName: 'a.csv', csv: 'date,amount\n2026-11-01,1.00\n' })).statusCode).toBe(403);
    expect((await api(t, admin, 'POST', `/api/v1/bank-statements/${st.id}/lines/${st.lines.data[0]!.id}/accept`, {})).statusCode).toBe(403);
    const other = await api(t, finance, 'GET', '/api/v1/bank-statements/bst_00000000000000000000000000');
    expect(other.statusCode).toBe(404);
  });
});
