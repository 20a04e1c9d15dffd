import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes, Link } from 'react-router';
import { Button, Center, Stack, Text, Title } from '@mantine/core';
import { RequireSession, homeFor, useSessionQuery } from './shared/session.tsx';
import { LoadingState } from './shared/ui.tsx';
import { LoginPage } from './public/LoginPage.tsx';
import { ForgotPasswordPage, ResetPasswordPage } from './public/PasswordPages.tsx';
import { VerifyEmailPage } from './public/VerifyEmailPage.tsx';
import { AcceptInvitationPage } from './public/AcceptInvitationPage.tsx';
import { MailboxPage } from './public/MailboxPage.tsx';

/**
 * Each area is a chunk of its own, loaded when it is first shown: a customer's browser never downloads the admin apps,
 * nor staff the operator's pages. The area of the address the app starts on starts loading at once, beside the
 * session check, instead of after it.
 */
const loadAdmin = () => import('./admin/AdminRoutes.tsx');
const loadPortal = () => import('./portal/PortalRoutes.tsx');
const loadOperator = () => import('./operator/OperatorRoutes.tsx');
const AdminRoutes = lazy(loadAdmin);
const PortalRoutes = lazy(loadPortal);
const OperatorRoutes = lazy(loadOperator);
const startArea = window.location.pathname.split('/')[1];
if (startArea === 'admin') void loadAdmin();
else if (startArea === 'portal') void loadPortal();
else if (startArea === 'operator') void loadOperator();

/** The whole screen while a session or an area's code loads. */
function PageLoading() {
  return (
    <Center h="100vh">
      <LoadingState />
    </Center>
  );
}

/** `/`: signed-in people go to their own area; anyone else (signed out, or the session could not be read) to sign-in. */
function RootRedirect() {
  const q = useSessionQuery();
  if (q.data) return <Navigate to={homeFor(q.data.user.kind)} replace />;
  if (q.isError) return <Navigate to="/login" replace />;
  return <PageLoading />;
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
        path="/admin/*"
        element={
          <RequireSession kind="staff">
            <Suspense fallback={<PageLoading />}>
              <AdminRoutes />
            </Suspense>
          </RequireSession>
        }
      />

      <Route
        path="/portal/*"
        element={
          <RequireSession kind="customer">
            <Suspense fallback={<PageLoading />}>
              <PortalRoutes />
            </Suspense>
          </RequireSession>
        }
      />

      <Route
        path="/operator/*"
        element={
          <RequireSession kind="operator">
            <Suspense fallback={<PageLoading />}>
              <OperatorRoutes />
            </Suspense>
          </RequireSession>
        }
      />

      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
