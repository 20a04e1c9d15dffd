import { Alert, Text } from '@mantine/core';
import { IconInfoCircle } from '@tabler/icons-react';

/** The precedence rule, as the app states it (docs/adr/0016-discount-precedence.md). */
export function PrecedenceHelp({ compact = false }: { compact?: boolean }) {
  return (
    <Alert variant="light" color="blue" icon={<IconInfoCircle size={18} />} title="Which discount applies" aria-label="Which discount applies">
      <Text size="sm">
        Discounts never add up: each charge gets the <b>most specific</b> discount in force on its day. A discount for <b>one customer</b> beats any
        discount for every customer; then the narrowest scope wins: <b>billing cycle</b> &gt; <b>variant</b> &gt; <b>product</b> &gt; <b>product type</b>.
      </Text>
      {compact ? null : (
        <Text size="sm" mt={4}>
          A purchase is judged on its day, a renewal on the first day of the period it pays for. Two discounts with the same customer and scope
          cannot overlap in time. Prices are pre-tax; a fixed amount never takes a price below zero; activation fees are not discounted.
          Ending a discount never changes invoices already issued.
        </Text>
      )}
    </Alert>
  );
}
