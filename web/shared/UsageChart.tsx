import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { StatementView } from '../../src/invoices/invoice-view-types.ts';
import { formatMoney } from './money.ts';

/** A statement's usage by category as bars (InvoiceStatement loads it on its own: the chart library is large). */
export default function UsageChart({ usage, currency }: { usage: StatementView['usage']; currency: string }) {
  return (
    <ResponsiveContainer>
      {/* Number() only sizes the bars; every figure shown is the API's string. */}
      <BarChart data={usage.map((u) => ({ ...u, value: Number(u.amount) }))} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="label" fontSize={12} />
        <YAxis fontSize={12} width={56} />
        <Tooltip formatter={(_v, _n, item) => [formatMoney((item.payload as { amount: string }).amount, currency), 'Amount']} />
        <Bar dataKey="value" name="Amount" fill="var(--mantine-color-cyan-5)" radius={[3, 3, 0, 0]} />
      </BarChart>
    </ResponsiveContainer>
  );
}
