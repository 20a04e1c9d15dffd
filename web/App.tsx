import { Navigate, Route, Routes, Link } from 'react-router';
import { Button, Center, Stack, Text, Title } from '@mantine/core';
import { isSignedOut } from './shared/api.ts';
import { RequireSession, homeFor, useSessionQuery } from './shared/session.tsx';
import { LoadingState } from './shared/ui.tsx';
import { ProfilePage } from './shared/ProfilePage.tsx';
import { LoginPage } from './public/LoginPage.tsx';
import { ForgotPasswordPage, ResetPasswordPage } from './public/PasswordPages.tsx';
import { VerifyEmailPage } from './public/VerifyEmailPage.tsx';
import { AcceptInvitationPage } from './public/AcceptInvitationPage.tsx';
import { MailboxPage } from './public/MailboxPage.tsx';
import { AdminLayout } from './admin/AdminLayout.tsx';
import { AdminHome } from './admin/AdminHome.tsx';
import { AppGate } from './admin/AppGate.tsx';
import { AccessControlPage } from './admin/access/AccessControlPage.tsx';
import { PortalSettingsPage } from './admin/PortalSettingsPage.tsx';
import { CustomersPage } from './admin/customer/CustomersPage.tsx';
import { CustomerDetailPage } from './admin/customer/CustomerDetailPage.tsx';
import { ProductsApp } from './admin/products/ProductsApp.tsx';
import { InvoicesApp } from './admin/invoices/InvoicesApp.tsx';
import { FinanceApp } from './admin/finance/FinanceApp.tsx';
import { DiscountApp } from './admin/discounts/DiscountApp.tsx';
import { AuditPage } from './admin/AuditPage.tsx';
import { PortalLayout } from './portal/PortalLayout.tsx';
import { PortalHome } from './portal/PortalHome.tsx';
import { MembersPage } from './portal/MembersPage.tsx';
import { ServicesPage } from './portal/services/ServicesPage.tsx';
import { OperatorLayout } from './operator/OperatorLayout.tsx';
import { PartnersPage } from './operator/PartnersPage.tsx';
import { AccessRequestsPage } from './operator/AccessRequestsPage.tsx';
import { OperatorMailboxPage } from './operator/OperatorMailboxPage.tsx';
import { OperatorAuditPage } from './operator/OperatorAuditPage.tsx';

/** `/`: signed-in people go to their own area, others to sign-in. */
function RootRedirect() {
  const q = useSessionQuery();
  if (q.data) return <Navigate to={homeFor(q.data.user.kind)} replace />;
  if (q.isError && isSignedOut(q.error)) return <Navigate to="/login" replace />;
  if (q.isError) return <Navigate to="/login" replace />;
  return (
    <Center h="100vh">
      <LoadingState />
    </Center>
  );
}

function NotFound() {
  return (
    <Center mih="100vh" p="xl">
      <Stack align="center" gap="sm">
        <Text c="dimmed" fw={700} size="xl">
          404
        </Text>
        <Title order={1} size="h3">
          Page not found
        </Title>
        <Text c="dimmed" size="sm">
          The page you asked for does not exist.
        </Text>
        <Button component={Link} to="/" variant="light">
          Go home
        </Button>
      </Stack>
    </Center>
  );
}

function InAppNotFound() {
  return (
    <Stack gap="sm" py="xl">
      <Title order={2}>Page not found</Title>
      <Text c="dimmed">There is nothing at this address.</Text>
    </Stack>
  );
}

export function App() {
  return (
    <Routes>
      <Route path="/" element={<RootRedirect />} />
      <Route path="/login" element={<LoginPage />} />
      <Route path="/forgot-password" element={<ForgotPasswordPage />} />
      <Route path="/reset-password" element={<ResetPasswordPage />} />
      <Route path="/verify-email" element={<VerifyEmailPage />} />
      <Route path="/accept-invitation" element={<AcceptInvitationPage />} />
      <Route path="/mailbox" element={<MailboxPage />} />

      <Route
        path="/admin"
        element={
          <RequireSession kind="staff">
            <AdminLayout />
          </RequireSession>
        }
      >
        <Route index element={<AdminHome />} />
        <Route path="profile" element={<ProfilePage />} />
        <Route path="customer" element={<AppGate app="customer"><CustomersPage /></AppGate>} />
        <Route path="customer/:id" element={<AppGate app="customer"><CustomerDetailPage /></AppGate>} />
        <Route path="product/*" element={<AppGate app="product"><ProductsApp /></AppGate>} />
        <Route path="invoice/*" element={<AppGate app="invoice"><InvoicesApp /></AppGate>} />
        <Route path="finance/*" element={<AppGate app="finance"><FinanceApp /></AppGate>} />
        <Route path="audit" element={<AppGate app="audit"><AuditPage /></AppGate>} />
        <Route path="discount/*" element={<AppGate app="discount"><DiscountApp /></AppGate>} />
        <Route path="settings" element={<AppGate app="settings"><PortalSettingsPage /></AppGate>} />
        <Route path="access" element={<AppGate app="access"><AccessControlPage /></AppGate>} />
        <Route path="*" element={<InAppNotFound />} />
      </Route>

      <Route
        path="/portal"
        element={
          <RequireSession kind="customer">
            <PortalLayout />
          </RequireSession>
        }
      >
        <Route index element={<PortalHome />} />
        <Route path="members" element={<MembersPage />} />
        <Route path="services" element={<ServicesPage />} />
        <Route path="profile" element={<ProfilePage />} />
        <Route path="*" element={<InAppNotFound />} />
      </Route>

      <Route
        path="/operator"
        element={
          <RequireSession kind="operator">
            <OperatorLayout />
          </RequireSession>
        }
      >
        <Route index element={<PartnersPage />} />
        <Route path="access-requests" element={<AccessRequestsPage />} />
        <Route path="mailbox" element={<OperatorMailboxPage />} />
        <Route path="audit" element={<OperatorAuditPage />} />
        <Route path="profile" element={<ProfilePage />} />
        <Route path="*" element={<InAppNotFound />} />
      </Route>

      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
