import { Route, Routes } from 'react-router';
import { PortalLayout } from './PortalLayout.tsx';
import { PortalHome } from './PortalHome.tsx';
import { MembersPage } from './MembersPage.tsx';
import { ServicesPage } from './services/ServicesPage.tsx';
import { ProfilePage } from '../shared/ProfilePage.tsx';
import { InAppNotFound } from '../shared/ui.tsx';

/** Customer users: the user portal. Its own chunk, loaded when the area is first shown (App.tsx). */
export default function PortalRoutes() {
  return (
    <Routes>
      <Route element={<PortalLayout />}>
        <Route index element={<PortalHome />} />
        <Route path="members" element={<MembersPage />} />
        <Route path="services" element={<ServicesPage />} />
        <Route path="profile" element={<ProfilePage />} />
        <Route path="*" element={<InAppNotFound />} />
      </Route>
    </Routes>
  );
}
