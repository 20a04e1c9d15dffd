import { Route, Routes } from 'react-router';
import { OperatorLayout } from './OperatorLayout.tsx';
import { PartnersPage } from './PartnersPage.tsx';
import { AccessRequestsPage } from './AccessRequestsPage.tsx';
import { OperatorMailboxPage } from './OperatorMailboxPage.tsx';
import { OperatorAuditPage } from './OperatorAuditPage.tsx';
import { ProfilePage } from '../shared/ProfilePage.tsx';
import { InAppNotFound } from '../shared/ui.tsx';

/** The platform operator. Its own chunk, loaded when the area is first shown (App.tsx). */
export default function OperatorRoutes() {
  return (
    <Routes>
      <Route element={<OperatorLayout />}>
        <Route index element={<PartnersPage />} />
        <Route path="access-requests" element={<AccessRequestsPage />} />
        <Route path="mailbox" element={<OperatorMailboxPage />} />
        <Route path="audit" element={<OperatorAuditPage />} />
        <Route path="profile" element={<ProfilePage />} />
        <Route path="*" element={<InAppNotFound />} />
      </Route>
    </Routes>
  );
}
