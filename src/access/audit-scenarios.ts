import type { Session } from '../test/harness.ts';
import type { Scenario, ScenarioKit } from '../test/audit-scenarios.ts';

/**
 * One valid call for each state-changing route of the access, settings, customers and portal domains, for the audit
 * route-walk (`src/platform/audit-coverage.test.ts`). Spread into `scenarios` in `src/test/audit-scenarios.ts`.
 * Each scenario makes its own people and organisations, so it neither depends on nor disturbs the demo data other
 * scenarios use.
 */
const PASSWORD = 'folio-demo-2026';
let sequence = 0;
const uniqueEmail = (label: string, domain: string) => `${label}.${Date.now().toString(36)}${(sequence++).toString(36)}@${domain}`;

type Method = 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const call = (kit: ScenarioKit, who: Session | null, method: Method, url: string, payload?: object) =>
  kit.t.app.inject({ method, url, headers: who?.headers ?? {}, ...(payload ? { payload } : {}) });

async function accept(kit: ScenarioKit, email: string): Promise<void> {
  const token = await kit.mailedToken(email);
  await call(kit, null, 'POST', '/api/v1/auth/invitations/accept', { token, name: 'Scenario Person', password: PASSWORD });
}

/** A freshly invited (not yet accepted) Demo Telecom staff member. */
async function invitedStaff(kit: ScenarioKit, apps: string[] = []): Promise<{ userId: string; email: string; invitationId: string }> {
  const admin = await kit.signIn('admin@demo.test');
  const email = uniqueEmail('staff', 'demo.test');
  const res = await call(kit, admin, 'POST', '/api/v1/staff/invitations', { email, name: 'Scenario Staff', apps });
  const body = res.json<{ id: string; userId: string }>();
  return { userId: body.userId, email, invitationId: body.id };
}

/** A fresh, signed-in Demo Telecom staff member. */
async function activeStaff(kit: ScenarioKit): Promise<Session> {
  const { email } = await invitedStaff(kit);
  await accept(kit, email);
  return kit.signIn(email);
}

/** The signed-in owner of a fresh Northwind customer organisation. */
async function freshOwner(kit: ScenarioKit): Promise<Session> {
  const admin = await kit.signIn('admin@northwind.test');
  const ownerEmail = uniqueEmail('owner', 'scenario.test');
  await call(kit, admin, 'POST', '/api/v1/customers', { name: 'Scenario Pty Ltd', currency: 'AUD', ownerEmail, ownerName: 'Scenario Owner' });
  await accept(kit, ownerEmail);
  return kit.signIn(ownerEmail);
}

async function invitedMember(kit: ScenarioKit, owner: Session, role: 'admin' | 'member' | 'guest'): Promise<{ userId: string; email: string }> {
  const email = uniqueEmail(role, 'scenario.test');
  const res = await call(kit, owner, 'POST', '/api/v1/portal/members/invitations', { email, name: `Scenario ${role}`, role });
  return { userId: res.json<{ userId: string }>().userId, email };
}

async function pendingFinanceRequest(kit: ScenarioKit): Promise<string> {
  const staff = await activeStaff(kit);
  const res = await call(kit, staff, 'POST', '/api/v1/access-requests', { app: 'finance', note: 'scenario' });
  return res.json<{ id: string }>().id;
}

export const accessAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/auth/invitations/accept': async (kit) => {
    const { email } = await invitedStaff(kit);
    const token = await kit.mailedToken(email);
    return call(kit, null, 'POST', '/api/v1/auth/invitations/accept', { token, name: 'Accepted Person', password: PASSWORD });
  },

  'PATCH /api/v1/auth/me': async (kit) => call(kit, await activeStaff(kit), 'PATCH', '/api/v1/auth/me', { name: 'Renamed Person' }),

  'POST /api/v1/staff/invitations': async (kit) =>
    call(kit, await kit.signIn('admin@demo.test'), 'POST', '/api/v1/staff/invitations', { email: uniqueEmail('invitee', 'demo.test'), name: 'Invitee', apps: ['customer'] }),

  'POST /api/v1/staff/invitations/:id/revoke': async (kit) => {
    const { invitationId } = await invitedStaff(kit);
    return call(kit, await kit.signIn('admin@demo.test'), 'POST', `/api/v1/staff/invitations/${invitationId}/revoke`);
  },

  'PUT /api/v1/staff/:userId/apps/:app': async (kit) => {
    const { userId } = await invitedStaff(kit);
    return call(kit, await kit.signIn('admin@demo.test'), 'PUT', `/api/v1/staff/${userId}/apps/customer`);
  },

  'DELETE /api/v1/staff/:userId/apps/:app': async (kit) => {
    const { userId } = await invitedStaff(kit, ['customer']);
    return call(kit, await kit.signIn('admin@demo.test'), 'DELETE', `/api/v1/staff/${userId}/apps/customer`);
  },

  'POST /api/v1/staff/:userId/disable': async (kit) => {
    const { userId } = await invitedStaff(kit);
    return call(kit, await kit.signIn('admin@demo.test'), 'POST', `/api/v1/staff/${userId}/disable`);
  },

  'POST /api/v1/staff/:userId/enable': async (kit) => {
    const { userId } = await invitedStaff(kit);
    const admin = await kit.signIn('admin@demo.test');
    await call(kit, admin, 'POST', `/api/v1/staff/${userId}/disable`);
    return call(kit, admin, 'POST', `/api/v1/staff/${userId}/enable`);
  },

  'POST /api/v1/api-keys': async (kit) =>
    call(kit, await kit.signIn('admin@demo.test'), 'POST', '/api/v1/api-keys', { name: 'Scenario key', apps: ['customer'] }),

  'POST /api/v1/api-keys/:id/revoke': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    const key = (await call(kit, admin, 'POST', '/api/v1/api-keys', { name: 'Scenario key to revoke', apps: ['customer'] })).json<{ id: string }>();
    return call(kit, admin, 'POST', `/api/v1/api-keys/${key.id}/revoke`);
  },

  'POST /api/v1/access-requests': async (kit) =>
    call(kit, await activeStaff(kit), 'POST', '/api/v1/access-requests', { app: 'finance', note: 'month-end close' }),

  'POST /api/v1/operator/access-requests/:id/approve': async (kit) => {
    const requestId = await pendingFinanceRequest(kit);
    return call(kit, await kit.signIn('operator@folio.test'), 'POST', `/api/v1/operator/access-requests/${requestId}/approve`, { note: 'approved' });
  },

  'POST /api/v1/operator/access-requests/:id/decline': async (kit) => {
    const requestId = await pendingFinanceRequest(kit);
    return call(kit, await kit.signIn('operator@folio.test'), 'POST', `/api/v1/operator/access-requests/${requestId}/decline`, { note: 'declined' });
  },

  'PATCH /api/v1/settings/portal': async (kit) =>
    call(kit, await kit.signIn('admin@northwind.test'), 'PATCH', '/api/v1/settings/portal', { contactSalesEmail: uniqueEmail('sales', 'northwind.test') }),

  'POST /api/v1/customers': async (kit) =>
    call(kit, await kit.signIn('admin@northwind.test'), 'POST', '/api/v1/customers', {
      name: 'Scenario Customer', currency: 'AUD', ownerEmail: uniqueEmail('owner', 'scenario.test'), ownerName: 'Scenario Owner',
    }),

  'POST /api/v1/portal/members/invitations': async (kit) =>
    call(kit, await freshOwner(kit), 'POST', '/api/v1/portal/members/invitations', { email: uniqueEmail('member', 'scenario.test'), name: 'Scenario Member', role: 'member' }),

  'PATCH /api/v1/portal/members/:userId': async (kit) => {
    const owner = await freshOwner(kit);
    const { userId } = await invitedMember(kit, owner, 'member');
    return call(kit, owner, 'PATCH', `/api/v1/portal/members/${userId}`, { role: 'guest' });
  },

  'POST /api/v1/portal/members/:userId/remove': async (kit) => {
    const owner = await freshOwner(kit);
    const { userId } = await invitedMember(kit, owner, 'guest');
    return call(kit, owner, 'POST', `/api/v1/portal/members/${userId}/remove`);
  },

  'POST /api/v1/portal/ownership-transfer': async (kit) => {
    const owner = await freshOwner(kit);
    const { userId, email } = await invitedMember(kit, owner, 'admin');
    await accept(kit, email);
    return call(kit, owner, 'POST', '/api/v1/portal/ownership-transfer', { userId });
  },
};
