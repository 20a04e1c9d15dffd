import type { Scenario, ScenarioKit } from '../test/audit-scenarios.ts';
import type { Session } from '../test/harness.ts';

/** One valid call for each state-changing route of the Product app's rate plans (see src/platform/audit-coverage.test.ts). */
export const productAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/rate-plans': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    return kit.t.app.inject({
      method: 'POST', url: '/api/v1/rate-plans', headers: admin.headers, payload: { name: 'Scenario plan', currency: 'USD', increment: '30/6' },
    });
  },

  'PUT /api/v1/rate-plans/:id/rates': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    const plan = await kit.t.app.inject({
      method: 'POST', url: '/api/v1/rate-plans', headers: admin.headers, payload: { name: 'Scenario rates', currency: 'USD', increment: '1/1' },
    });
    return kit.t.app.inject({
      method: 'PUT', url: `/api/v1/rate-plans/${plan.json<{ id: string }>().id}/rates`, headers: admin.headers,
      payload: { rates: [{ prefix: '1', description: 'United States', pricePerMinute: '0.02', costPerMinute: '0.008' }] },
    });
  },

  'POST /api/v1/rate-plans/:id/imports': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    const plan = await kit.t.app.inject({ method: 'POST', url: '/api/v1/rate-plans', headers: admin.headers, payload: { name: 'Scenario import', currency: 'SGD', increment: '60/60' } });
    return kit.t.app.inject({
      method: 'POST', url: `/api/v1/rate-plans/${plan.json<{ id: string }>().id}/imports`, headers: admin.headers,
      payload: { fileName: 'rates.csv', csv: 'prefix,description,pricePerMinute,costPerMinute\n65,Singapore,0.03,0.01\n' },
    });
  },

  'POST /api/v1/rate-imports/:id/apply': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    const plan = await kit.t.app.inject({ method: 'POST', url: '/api/v1/rate-plans', headers: admin.headers, payload: { name: 'Scenario apply', currency: 'SGD', increment: '60/60' } });
    const upload = await kit.t.app.inject({
      method: 'POST', url: `/api/v1/rate-plans/${plan.json<{ id: string }>().id}/imports`, headers: admin.headers,
      payload: { fileName: 'rates.csv', csv: '65,Singapore,0.03,0.01\n' },
    });
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/rate-imports/${upload.json<{ id: string }>().id}/apply`, headers: admin.headers, payload: {} });
  },

  'POST /api/v1/products': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    return kit.t.app.inject({ method: 'POST', url: '/api/v1/products', headers: admin.headers, payload: { sku: 'SCN-CREATE', name: 'Scenario product', type: 'service' } });
  },

  'PATCH /api/v1/products/:id': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    const id = await scenarioProduct(kit, admin, 'SCN-PATCH');
    return kit.t.app.inject({ method: 'PATCH', url: `/api/v1/products/${id}`, headers: admin.headers, payload: { name: 'Renamed scenario product' } });
  },

  'POST /api/v1/products/:id/archive': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    const id = await scenarioProduct(kit, admin, 'SCN-ARCHIVE');
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/products/${id}/archive`, headers: admin.headers });
  },

  'POST /api/v1/products/:id/unarchive': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    const id = await scenarioProduct(kit, admin, 'SCN-UNARCHIVE');
    await kit.t.app.inject({ method: 'POST', url: `/api/v1/products/${id}/archive`, headers: admin.headers });
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/products/${id}/unarchive`, headers: admin.headers });
  },

  'POST /api/v1/products/:id/variants': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    const id = await scenarioProduct(kit, admin, 'SCN-VARIANT');
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/products/${id}/variants`, headers: admin.headers, payload: { name: 'Basic' } });
  },

  'PUT /api/v1/variants/:id/prices/:cycle/:currency': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    const variantId = await scenarioVariant(kit, admin, 'SCN-PRICE');
    return kit.t.app.inject({ method: 'PUT', url: `/api/v1/variants/${variantId}/prices/monthly/SGD`, headers: admin.headers, payload: { price: '25.00', cost: '10.00' } });
  },

  'POST /api/v1/prices/:id/archive': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    const variantId = await scenarioVariant(kit, admin, 'SCN-PRICE-ARCHIVE');
    const price = await kit.t.app.inject({ method: 'PUT', url: `/api/v1/variants/${variantId}/prices/yearly/SGD`, headers: admin.headers, payload: { price: '250.00', cost: '100.00' } });
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/prices/${price.json<{ id: string }>().id}/archive`, headers: admin.headers });
  },
};

async function scenarioProduct(kit: ScenarioKit, admin: Session, sku: string): Promise<string> {
  const res = await kit.t.app.inject({ method: 'POST', url: '/api/v1/products', headers: admin.headers, payload: { sku, name: `Scenario ${sku}`, type: 'service' } });
  return res.json<{ id: string }>().id;
}

async function scenarioVariant(kit: ScenarioKit, admin: Session, sku: string): Promise<string> {
  const id = await scenarioProduct(kit, admin, sku);
  const res = await kit.t.app.inject({ method: 'POST', url: `/api/v1/products/${id}/variants`, headers: admin.headers, payload: { name: 'Basic' } });
  return res.json<{ id: string }>().id;
}
