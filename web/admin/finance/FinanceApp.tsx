import { Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { Stack, Tabs, Text, Title } from '@mantine/core';
import { IconChartBar, IconFileInvoice, IconReceipt, IconTransfer, IconUserQuestion } from '@tabler/icons-react';
import { BankImportPage } from './BankImportPage.tsx';
import { CreditNotesPage } from './CreditNotesPage.tsx';
import { PaymentListPage, UnassignedPage } from './PaymentListPage.tsx';
import { RecordPaymentPage } from './RecordPaymentPage.tsx';
import { PaymentDetailPage } from './PaymentDetailPage.tsx';
import { ReportsPage } from './ReportsPage.tsx';

const SECTIONS = [
  { value: 'payments', label: 'Payments', icon: <IconReceipt size={16} /> },
  { value: 'unassigned', label: 'Unassigned', icon: <IconUserQuestion size={16} /> },
  { value: 'bank-import', label: 'Bank import', icon: <IconTransfer size={16} /> },
  { value: 'credit-notes', label: 'Credit notes', icon: <IconFileInvoice size={16} /> },
  { value: 'reports', label: 'Reports', icon: <IconChartBar size={16} /> },
] as const;

function FinanceNotFound() {
  return (
    <Stack gap="sm" py="xl">
      <Title order={2}>Page not found</Title>
      <Text c="dimmed">There is nothing at this address in the Finance app.</Text>
    </Stack>
  );
}

/**
 * The Finance app (`/admin/finance/*`), for staff holding the Finance grant (AppGate in web/App.tsx): payments
 * (record, assign, allocate, reverse, receipts), the unassigned ones, bank statement import, credit notes and the
 * reports (AR aging, trial balance). Its sections are tabs; its own routes live here.
 */
export function FinanceApp() {
  const location = useLocation();
  const navigate = useNavigate();
  const section = /^\/admin\/finance\/([^/]+)/.exec(location.pathname)?.[1] ?? 'payments';
  return (
    <Stack gap="md">
      <Tabs value={SECTIONS.some((s) => s.value === section) ? section : null} onChange={(v) => v && void navigate(`/admin/finance/${v}`)}>
        <Tabs.List aria-label="Finance sections">
          {SECTIONS.map((s) => (
            <Tabs.Tab key={s.value} value={s.value} leftSection={s.icon}>
              {s.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
      </Tabs>
      <Routes>
        <Route index element={<Navigate to="payments" replace />} />
        <Route path="payments" element={<PaymentListPage />} />
        <Route path="payments/new" element={<RecordPaymentPage />} />
        <Route path="payments/:paymentId" element={<PaymentDetailPage />} />
        <Route path="unassigned" element={<UnassignedPage />} />
        <Route path="bank-import" element={<BankImportPage />} />
        <Route path="bank-import/:importId" element={<BankImportPage />} />
        <Route path="credit-notes" element={<CreditNotesPage />} />
        <Route path="credit-notes/:creditNoteId" element={<CreditNotesPage />} />
        <Route path="reports" element={<ReportsPage />} />
        <Route path="*" element={<FinanceNotFound />} />
      </Routes>
    </Stack>
  );
}
