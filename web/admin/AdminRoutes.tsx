import { Route, Routes } from 'react-router';
import { AdminLayout } from './AdminLayout.tsx';
import { AdminHome } from './AdminHome.tsx';
import { AppGate } from './AppGate.tsx';
import { AccessControlPage } from './access/AccessControlPage.tsx';
import { PortalSettingsPage } from './PortalSettingsPage.tsx';
import { CustomersPage } from './customer/CustomersPage.tsx';
import { CustomerDetailPage } from './customer/CustomerDetailPage.tsx';
import { ProductsApp } from './products/ProductsApp.tsx';
import { InvoicesApp } from './invoices/InvoicesApp.tsx';
import { FinanceApp } from './finance/FinanceApp.tsx';
import { DiscountApp } from './discounts/DiscountApp.tsx';
import { AuditPage } from './AuditPage.tsx';
import { ProfilePage } from '../shared/ProfilePage.tsx';
import { InAppNotFound } from '../shared/ui.tsx';

/** Staff: the admin portal, one app per granted app. Its own chunk, loaded when the area is first shown (App.tsx). */
export default function AdminRoutes() {
  return (
    <Routes>
      <Route element={<AdminLayout />}>
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
    </Routes>
  );
}
