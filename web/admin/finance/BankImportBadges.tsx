import { Badge, Group } from '@mantine/core';
import { LINE_STATES, type BankStatementView } from './bank-import-types.ts';

/** Counts of a statement's lines by state, as small badges (zero counts left out). */
export function LineCountBadges({ statement }: { statement: BankStatementView }) {
  const shown = LINE_STATES.filter((s) => statement.counts[s.value] > 0);
  return (
    <Group gap={4} wrap="wrap">
      {shown.map((s) => (
        <Badge key={s.value} color={s.color} variant="light" tt="none" size="sm" data-testid={`count-${s.value}`}>
          {s.label}: {statement.counts[s.value]}
        </Badge>
      ))}
      {statement.errorCount > 0 ? (
        <Badge color="red" variant="light" tt="none" size="sm" data-testid="count-errors">
          Unreadable: {statement.errorCount}
        </Badge>
      ) : null}
    </Group>
  );
}
