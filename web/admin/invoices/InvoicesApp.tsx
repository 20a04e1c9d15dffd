import { Route, Routes } from 'react-router';
import { InvoiceListPage } from './InvoiceListPage.tsx';
import { InvoiceDetailPage } from './InvoiceDetailPage.tsx';
import { InvoiceEditorPage } from './InvoiceEditorPage.tsx';

/**
 * The Invoice app (`/admin/invoice/*`): the list with search, filters, headline figures and CSV; an invoice's detail
 * with its actions (issue, edit, void, resend, PDF); creating a Purchase or Top-up invoice by hand and editing drafts.
 * Mounted once in web/App.tsx; its own routes live here.
 */
export function InvoicesApp() {
  return (
    <Routes>
      <Route index element={<InvoiceListPage />} />
      <Route path="new" element={<InvoiceEditorPage />} />
      <Route path=":id" element={<InvoiceDetailPage />} />
      <Route path=":id/edit" element={<InvoiceEditorPage />} />
    </Routes>
  );
}
