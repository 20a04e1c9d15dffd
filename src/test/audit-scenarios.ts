import type { LightMyRequestResponse } from 'fastify';
import { DEMO_PASSWORD, lastMailTo, type Session, type TestApp } from './harness.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { accessAuditScenarios } from '../access/audit-scenarios.ts';
import { topUpAuditScenarios } from '../topup/audit-scenarios.ts';
import { financeAuditScenarios } from '../finance/audit-scenarios.ts';
import { productAuditScenarios } from '../products/audit-scenarios.ts';
import { liveCallAuditScenarios } from '../usage/live-calls.audit-scenarios.ts';
import { subscriptionAuditScenarios } from '../subscriptions/audit-scenarios.ts';
import { serviceAuditScenarios } from '../services/audit-scenarios.ts';
import { customerAuditScenarios } from '../customers/audit-scenarios.ts';
import { renewalAuditScenarios } from '../subscriptions/renewals/audit-scenarios.ts';
import { invoiceAuditScenarios } from '../invoices/audit-scenarios.ts';
import { portalInvoiceAuditScenarios } from '../invoices/portal-audit-scenarios.ts';
import { paymentAuditScenarios } from '../payments/audit-scenarios.ts';
import { creditNoteAuditScenarios } from '../credit-notes/audit-scenarios.ts';
import { bankStatementAuditScenarios } from '../bank-statements/audit-scenarios.ts';
import { discountAuditScenarios } from '../discounts/audit-scenarios.ts';
import { auditAppAuditScenarios } from '../audit/audit-scenarios.ts';
import { contactSalesAuditScenarios } from '../contact-sales/audit-scenarios.ts';
import { walletAuditScenarios } from '../wallet/audit-scenarios.ts';

/**
 * One valid call for every state-changing route, keyed `METHOD /url` exactly as the route is declared.
 * `src/platform/audit-coverage.test.ts` runs each and checks it wrote the audit event(s) the route declares.
 * Adding a state-changing route? Add its scenario here, or that test fails.
 */
export interface ScenarioKit {
  t: TestApp;
  signIn(email: string): Promise<Session>;
  /** The token inside the newest mailed link to `email` (`?token=...`). */
  mailedToken(email: string): Promise<string>;
  ids: { demo: string; northwind: string; acme: string };
}

export type Scenario = (kit: ScenarioKit) => Promise<LightMyRequestResponse>;

export async function mailedToken(t: TestApp, email: string): Promise<string> {
  const mail = await lastMailTo(t.db, email);
  const token = /token=([A-Za-z0-9_%-]+)/.exec(mail?.bodyText ?? '')?.[1];
  if (!token) throw new Error(`no link with a token mailed to ${email}`);
  return decodeURIComponent(token);
}

export const scenarios: Record<string, Scenario> = {
  ...customerAuditScenarios,
  ...accessAuditScenarios,
  ...topUpAuditScenarios,
  ...contactSalesAuditScenarios,
  ...financeAuditScenarios,
  ...productAuditScenarios,
  ...liveCallAuditScenarios,
  ...subscriptionAuditScenarios,
  ...serviceAuditScenarios,
  ...renewalAuditScenarios,
  ...invoiceAuditScenarios,
  ...portalInvoiceAuditScenarios,
  ...paymentAuditScenarios,
  ...creditNoteAuditScenarios,
  ...bankStatementAuditScenarios,
  ...discountAuditScenarios,
  ...auditAppAuditScenarios,
  ...walletAuditScenarios,
  'POST /api/v1/auth/login': ({ t }) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'owner@globex.test', password: 'folio-demo-2026' } }),

  'POST /api/v1/auth/login/verify': async ({ t }) => {
    const first = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'finance@demo.test', password: 'folio-demo-2026' } });
    const mail = await lastMailTo(t.db, 'finance@demo.test');
    const code = /(\d{6})/.exec(mail?.subject ?? '')?.[1] ?? '';
    return t.app.inject({ method: 'POST', url: '/api/v1/auth/login/verify', payload: { challengeId: first.json<{ challengeId: string }>().challengeId, code } });
  },

  'POST /api/v1/auth/logout': async (kit) => {
    const s = await kit.signIn('owner@initech.test');
    return kit.t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: s.headers });
  },

  'POST /api/v1/auth/sessions/revoke-others': async (kit) => {
    await kit.signIn('owner@initech.test');
    const s = await kit.signIn('owner@initech.test');
    return kit.t.app.inject({ method: 'POST', url: '/api/v1/auth/sessions/revoke-others', headers: s.headers });
  },

  'POST /api/v1/auth/password': async (kit) => {
    const s = await kit.signIn('owner@globex.test');
    const res = await kit.t.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: s.headers, payload: { currentPassword: DEMO_PASSWORD, newPassword: 'globex-changed-2026' } });
    // Put back, so that later scenarios sign in as before.
    await kit.t.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: s.headers, payload: { currentPassword: 'globex-changed-2026', newPassword: DEMO_PASSWORD } });
    return res;
  },

  'POST /api/v1/auth/password-reset': ({ t }) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { email: 'member@acme.test' } }),

  'POST /api/v1/auth/password-reset/confirm': async (kit) => {
    await kit.t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { email: 'owner@wombat.test' } });
    const token = await kit.mailedToken('owner@wombat.test');
    return kit.t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token, password: 'a-brand-new-password' } });
  },

  'POST /api/v1/auth/verify-email/resend': async (kit) => {
    await kit.t.db.owner.db.updateTable('users').set({ emailVerifiedAt: null }).where('email', '=', 'member@acme.test').execute();
    const s = await kit.signIn('member@acme.test');
    return kit.t.app.inject({ method: 'POST', url: '/api/v1/auth/verify-email/resend', headers: s.headers });
  },

  'POST /api/v1/auth/verify-email': async (kit) => {
    await kit.t.db.owner.db.updateTable('users').set({ emailVerifiedAt: null }).where('email', '=', 'owner@globex.test').execute();
    const s = await kit.signIn('owner@globex.test');
    await kit.t.app.inject({ method: 'POST', url: '/api/v1/auth/verify-email/resend', headers: s.headers });
    const token = await kit.mailedToken('owner@globex.test');
    return kit.t.app.inject({ method: 'POST', url: '/api/v1/auth/verify-email', payload: { token } });
  },

  'POST /api/v1/usage/calls': async ({ t, ids }) => {
    const token = 'fk_audit_scenario_switch_key_00000000';
    await t.db.owner.db.insertInto('apiKeys').values({ id: 'key_auditscenario000000001', partnerId: ids.demo, name: 'Switch', tokenPrefix: token.slice(0, 10), tokenHash: sha256Hex(token), apps: ['customer'], createdBy: null, lastUsedAt: null, revokedAt: null }).execute();
    return t.app.inject({
      method: 'POST', url: '/api/v1/usage/calls', headers: { authorization: `Bearer ${token}` },
      payload: { records: [{ callId: 'audit-1', customerId: ids.acme, from: '+6561234567', to: '+6562223333', startedAt: '2026-11-30T04:32:00Z', durationSeconds: 10, direction: 'outbound' }] },
    });
  },
};
