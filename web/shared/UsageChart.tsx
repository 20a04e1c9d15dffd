import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { StatementView } from '../../src/invoices/invoice-view-types.ts';
import { formatMoney } from './money.ts';

/** Longest category name the chart writes in full beside its bar (the table beside the chart has every name whole). */
const LABEL_MAX_CHARS = 22;

function shortLabel(label: string): string {
  return label.length > LABEL_MAX_CHARS ? `${label.slice(0, LABEL_MAX_CHARS - 1)}…` : label;
}

/**
 * A statement's usage by category as horizontal bars, each category's name beside its bar (names such as "Singapore
 * mobile" do not fit under vertical bars, and the chart then skipped every other one). InvoiceStatement loads it on its
 * own: the chart library is large.
 */
export default function UsageChart({ usage, currency }: { usage: StatementView['usage']; currency: string }) {
  return (
    <ResponsiveContainer>
      {/* Number() only sizes the bars; every figure shown is the API's string. */}
      <BarChart layout="vertical" data={usage.map((u) => ({ ...u, value: Number(u.amount) }))} margin={{ top: 4, right: 16, left: 0, bottom: 0 }}>
        <CartesianGrid strokeDasharray="3 3" horizontal={false} />
        <XAxis type="number" fontSize={12} />
        <YAxis type="category" dataKey="label" interval={0} width={150} fontSize={12} tickFormatter={shortLabel} />
        <Tooltip formatter={(_v, _n, item) => [formatMoney((item.payload as { amount: string }).amount, currency), 'Amount']} />
        <Bar dataKey="value" name="Amount" fill="var(--mantine-color-cyan-5)" radius={[0, 3, 3, 0]} barSize={18} />
      </BarChart>
    </ResponsiveContainer>
  );
}
