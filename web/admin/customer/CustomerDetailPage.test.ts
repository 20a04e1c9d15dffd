import { describe, expect, it } from 'vitest';
import { customerTabs } from './CustomerDetailPage.tsx';

describe('the customer page\'s tabs', () => {
  it('show the Timeline (the Audit app\'s customer timeline) only to staff holding the Audit app', () => {
    const values = (apps: Parameters<typeof customerTabs>[0]) => customerTabs(apps).map((t) => t.value);
    expect(values(['customer', 'audit'])).toContain('timeline');
    expect(values(['customer'])).not.toContain('timeline');
    expect(values(['customer', 'finance', 'invoice'])).toEqual(['profile', 'points', 'subscriptions', 'transactions', 'notifications', 'members']);
  });
});
