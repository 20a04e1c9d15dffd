import { crc32, deflateSync } from 'node:zlib';
import type { Scenario, ScenarioKit } from '../test/audit-scenarios.ts';

/**
 * One valid call for each state-changing route of the Invoice app and of Portal Settings > Invoicing, for the audit
 * route-walk (`src/platform/audit-coverage.test.ts`). Spread into `scenarios` in `src/test/audit-scenarios.ts`.
 */
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A real 1x1 PNG (one opaque pixel of `rgb`), for logo tests. */
export function tinyPng(rgb: [number, number, number] = [200, 30, 30]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from([0, ...rgb]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function draft(kit: ScenarioKit, extra: Record<string, unknown> = {}) {
  const admin = await kit.signIn('admin@demo.test');
  const res = await kit.t.app.inject({
    method: 'POST', url: '/api/v1/invoices', headers: admin.headers,
    payload: { customerId: kit.ids.acme, type: 'purchase', lines: [{ description: 'Installation on site', unitPrice: '120.00' }], ...extra },
  });
  return { id: res.json<{ id: string }>().id, headers: admin.headers };
}

export const invoiceAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/invoices': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    return kit.t.app.inject({
      method: 'POST', url: '/api/v1/invoices', headers: admin.headers,
      payload: { customerId: kit.ids.acme, type: 'purchase', lines: [{ description: 'Consulting, 1.5 hours', quantity: '1.5', unitPrice: '80.00' }] },
    });
  },

  'PATCH /api/v1/invoices/:id': async (kit) => {
    const d = await draft(kit);
    return kit.t.app.inject({ method: 'PATCH', url: `/api/v1/invoices/${d.id}`, headers: d.headers, payload: { notes: 'Thank you for your business', dueDays: 30 } });
  },

  'POST /api/v1/invoices/:id/issue': async (kit) => {
    const d = await draft(kit);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/invoices/${d.id}/issue`, headers: d.headers });
  },

  'POST /api/v1/invoices/:id/void': async (kit) => {
    const d = await draft(kit, { issue: true });
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/invoices/${d.id}/void`, headers: d.headers, payload: { reason: 'Raised in error' } });
  },

  'POST /api/v1/invoices/:id/resend': async (kit) => {
    const d = await draft(kit, { issue: true });
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/invoices/${d.id}/resend`, headers: d.headers });
  },

  'PUT /api/v1/settings/invoicing': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    return kit.t.app.inject({
      method: 'PUT', url: '/api/v1/settings/invoicing', headers: admin.headers,
      payload: { legalName: 'Demo Telecom Pte Ltd', taxId: 'GST M2-1234567-8', dueDays: 21 },
    });
  },

  'PUT /api/v1/settings/invoicing/logo': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    return kit.t.app.inject({ method: 'PUT', url: '/api/v1/settings/invoicing/logo', headers: { ...admin.headers, 'content-type': 'image/png' }, payload: tinyPng() });
  },

  'DELETE /api/v1/settings/invoicing/logo': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    await kit.t.app.inject({ method: 'PUT', url: '/api/v1/settings/invoicing/logo', headers: { ...admin.headers, 'content-type': 'image/png' }, payload: tinyPng([1, 2, 3]) });
    return kit.t.app.inject({ method: 'DELETE', url: '/api/v1/settings/invoicing/logo', headers: admin.headers });
  },
};
