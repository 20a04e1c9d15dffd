import { Badge } from '@mantine/core';
import type { DiscountStatus } from './discount-types.ts';

const COLORS: Record<DiscountStatus, string> = { active: 'teal', scheduled: 'blue', ended: 'gray' };
const LABELS: Record<DiscountStatus, string> = { active: 'Active', scheduled: 'Scheduled', ended: 'Ended' };

export function DiscountStatusBadge({ status }: { status: DiscountStatus }) {
  return (
    <Badge color={COLORS[status]} variant="light" radius="sm" style={{ minWidth: 'max-content' }}>
      {LABELS[status]}
    </Badge>
  );
}
