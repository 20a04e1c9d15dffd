import { Route, Routes, useSearchParams } from 'react-router';
import { Tabs } from '@mantine/core';
import { IconPackage, IconPhoneCall } from '@tabler/icons-react';
import { PageHeader } from '../../shared/ui.tsx';
import { ProductListTab } from './ProductListTab.tsx';
import { ProductDetailPage } from './ProductDetailPage.tsx';
import { RatePlansTab } from './RatePlansTab.tsx';

/**
 * The Product app (`/admin/product/*`): the catalogue (products, variants, prices per cycle and currency, with cost and
 * margin) and the call rate plans (rate tables, CSV import). Mounted once in web/App.tsx; its own routes live here.
 */
export function ProductsApp() {
  return (
    <Routes>
      <Route index element={<ProductsHome />} />
      <Route path=":id" element={<ProductDetailPage />} />
    </Routes>
  );
}

function ProductsHome() {
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'rates' ? 'rates' : 'products';
  return (
    <>
      <PageHeader mb="lg" title="Products" description="What you sell: products with their prices and your cost, and the call rates usage is charged at." />
      <Tabs value={tab} onChange={(v) => v && setParams(v === 'products' ? {} : { tab: v }, { replace: true })} keepMounted={false}>
        <Tabs.List mb="md" aria-label="Product app sections">
          <Tabs.Tab value="products" leftSection={<IconPackage size={16} />}>
            Catalogue
          </Tabs.Tab>
          <Tabs.Tab value="rates" leftSection={<IconPhoneCall size={16} />}>
            Rate plans
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="products">
          <ProductListTab />
        </Tabs.Panel>
        <Tabs.Panel value="rates">
          <RatePlansTab />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
