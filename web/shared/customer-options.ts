/**
 * A customer picker's options: its name (and whatever the picker adds, such as the currency), and where two customers
 * read the same, the end of each one's id after it ("Acme Pte Ltd · …k3x9q2"), so twins can be told apart. Customer
 * names are not unique: two organisations may trade under one name.
 */
export function customerOptions<T extends { id: string; name: string }>(rows: readonly T[], labelOf: (row: T) => string = (r) => r.name): { value: string; label: string }[] {
  const labels = rows.map(labelOf);
  const seen = new Map<string, number>();
  for (const label of labels) seen.set(label, (seen.get(label) ?? 0) + 1);
  return rows.map((row, i) => {
    const label = labels[i]!;
    return { value: row.id, label: seen.get(label)! > 1 ? `${label} · …${row.id.slice(-6)}` : label };
  });
}
