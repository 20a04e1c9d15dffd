import { Badge, Group, List, Paper, Stack, Text, ThemeIcon, Title } from '@mantine/core';
import { IconCircleCheck } from '@tabler/icons-react';
import { appInfo } from '../shared/apps.tsx';
import type { AppName } from '../shared/types.ts';

const PLANS: Partial<Record<AppName, { intro: string; points: string[] }>> = {
  product: {
    intro: 'The catalogue you sell from.',
    points: [
      'Products (SKUs) by type: app licence, number, usage and service',
      'Monthly and yearly billing cycles, with an optional one-time activation fee',
      'Pre-tax price and your cost for every currency you sell in (SGD, MYR, HKD, AUD, USD, VND)',
    ],
  },
  invoice: {
    intro: 'Invoices for every customer, in their currency.',
    points: [
      'Purchase, Monthly and Top-up invoices, numbered in your own sequence and format',
      'Draft → awaiting payment → partially paid → paid; overdue after your due days; void while nothing is paid',
      'Tax added on top of pre-tax prices; PDFs customers can download and pay from their portal',
    ],
  },
  finance: {
    intro: 'Money your customers send you, and the corrections you make.',
    points: [
      'Payment management: record bank transfers, GIRO, cheques, cash and card payments, assign them to customers and allocate them to invoices',
      'Reverse a bounced cheque: the invoices it paid reopen and the record stays',
      'Credit notes: reduce the amount due, credit the customer’s points, or refund the money',
    ],
  },
  discount: {
    intro: 'Discount management, moved here from the Customer app.',
    points: [
      'Discounts per customer: all products of a type, all variants of a product, all billing cycles of a variant, or one billing cycle',
      'Percent or fixed amount, pre-tax',
      'Unlimited, or for a dated period',
    ],
  },
};

/** A clean "coming soon" page naming what the app will do (built in a later issue). */
export function PlaceholderApp({ app }: { app: AppName }) {
  const info = appInfo(app);
  const plan = PLANS[app];
  return (
    <Stack maw={760} gap="lg">
      <Group gap="sm">
        <ThemeIcon size={40} radius="md" variant="light">
          <info.icon size={22} stroke={1.6} />
        </ThemeIcon>
        <Title order={2}>{info.label}</Title>
        <Badge variant="light" color="gray" radius="sm">
          Coming soon
        </Badge>
      </Group>
      <Paper withBorder radius="md" p="xl">
        <Text fw={500}>{plan?.intro ?? info.summary}</Text>
        <Text size="sm" c="dimmed" mt={4} mb="md">
          The {info.label} app is being built. When it arrives you will be able to:
        </Text>
        <List spacing="sm" size="sm" icon={<IconCircleCheck size={18} color="var(--mantine-color-teal-6)" />}>
          {(plan?.points ?? [info.summary]).map((p) => (
            <List.Item key={p}>{p}</List.Item>
          ))}
        </List>
      </Paper>
    </Stack>
  );
}
