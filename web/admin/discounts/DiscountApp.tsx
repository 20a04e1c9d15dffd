import { Route, Routes } from 'react-router';
import { DiscountListPage } from './DiscountListPage.tsx';
import { DiscountFormPage } from './DiscountFormPage.tsx';
import { DiscountDetailPage } from './DiscountDetailPage.tsx';

/** The Discount app (`/admin/discount/*`, Discount grant): list, new discount with its margin preview, detail with history. */
export function DiscountApp() {
  return (
    <Routes>
      <Route index element={<DiscountListPage />} />
      <Route path="new" element={<DiscountFormPage />} />
      <Route path=":id" element={<DiscountDetailPage />} />
    </Routes>
  );
}
