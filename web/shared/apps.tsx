import {
  IconCash,
  IconDiscount,
  IconFileInvoice,
  IconHistory,
  IconPackage,
  IconSettings,
  IconShieldLock,
  IconUsers,
  type Icon,
} from '@tabler/icons-react';
import type { AppName } from './types.ts';

export interface AppInfo {
  name: AppName;
  label: string;
  path: string;
  icon: Icon;
  summary: string;
}

/** Admin-portal apps in sidebar order, with the labels staff know them by. */
export const APPS: readonly AppInfo[] = [
  { name: 'customer', label: 'Customer', path: '/admin/customer', icon: IconUsers, summary: 'Customer organisations, their users and every notification sent to them.' },
  { name: 'product', label: 'Product', path: '/admin/product', icon: IconPackage, summary: 'Products, variants and price lists per currency.' },
  { name: 'invoice', label: 'Invoice', path: '/admin/invoice', icon: IconFileInvoice, summary: 'Purchase, monthly and top-up invoices.' },
  { name: 'finance', label: 'Finance', path: '/admin/finance', icon: IconCash, summary: 'Payments received and credit notes.' },
  { name: 'audit', label: 'Audit', path: '/admin/audit', icon: IconHistory, summary: 'Who changed what, when, in every admin app; CSV export.' },
  { name: 'discount', label: 'Discount', path: '/admin/discount', icon: IconDiscount, summary: 'Customer discounts by product, variant and billing cycle.' },
  { name: 'settings', label: 'Portal Settings', path: '/admin/settings', icon: IconSettings, summary: 'What customers see in their portal; sign-in rules for staff.' },
  { name: 'access', label: 'Access Control', path: '/admin/access', icon: IconShieldLock, summary: 'Staff, their apps, invitations, API keys and access requests.' },
];

export function appInfo(name: AppName): AppInfo {
  const found = APPS.find((a) => a.name === name);
  if (!found) throw new Error(`unknown app ${name}`);
  return found;
}

const OTHER_AREAS: Record<string, string> = { auth: 'Sign-in', portal: 'User portal', operator: 'Operator' };

export function appLabel(name: string): string {
  return APPS.find((a) => a.name === name)?.label ?? OTHER_AREAS[name] ?? name;
}
