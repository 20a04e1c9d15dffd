import type { Db, Trx } from './database.ts';
import { hashPassword } from './crypto.ts';
import { newId } from './ids.ts';
import type { AppName, CustomerRole } from './db-types.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { seedUsageDemo } from '../products/demo-usage.ts';
import { seedCatalogDemo } from '../products/demo-catalog.ts';
import { seedServicesDemo } from '../services/demo-services.ts';
import { dateDemoInvoices, seedInvoiceBrandingDemo, seedInvoicesDemo, type DemoInvoiceEntry } from '../invoices/demo-invoices.ts';
import { seedDiscountsDemo } from '../discounts/demo-discounts.ts';
import { addDemoSwitchKey, seedStatementDemo } from '../invoices/statements/demo-statement.ts';
import { loadConfig, type Config } from './config.ts';

export const DEMO_LOGINS = [
  { email: 'operator@folio.test', who: 'platform operator (operator console)', portal: '/operator' },
  { email: 'admin@demo.test', who: 'Demo Telecom staff, every app except Finance', portal: '/admin' },
  { email: 'finance@demo.test', who: 'Demo Telecom staff with the Finance app', portal: '/admin' },
  { email: 'owner@acme.test', who: 'owner of Acme Pte Ltd (user portal)', portal: '/portal' },
  { email: 'member@acme.test', who: 'member of Acme Pte Ltd (user portal)', portal: '/portal' },
] as const;

const SEED_ACTOR = { principal: { kind: 'system' as const, job: 'seed' }, requestId: null, ip: null, userAgent: null };

async function addUser(
  trx: Trx,
  passwordHash: string,
  u: { email: string; name: string; kind: 'operator' | 'staff' | 'customer'; partnerId: string | null; customerId?: string; role?: CustomerRole; apps?: AppName[] },
): Promise<string> {
  const id = newId('usr');
  await trx
    .insertInto('users')
    .values({
      id, kind: u.kind, partnerId: u.partnerId, customerId: u.customerId ?? null, customerRole: u.role ?? null, email: u.email, name: u.name,
      passwordHash, status: 'active', emailVerifiedAt: new Date(), lockedUntil: null, lastLoginAt: null, updatedAt: new Date(),
    })
    .execute();
  for (const app of u.apps ?? []) {
    await trx.insertInto('appGrants').values({ partnerId: u.partnerId!, userId: id, app, grantedBy: null }).execute();
  }
  await recordAudit(trx, SEED_ACTOR, {
    partnerId: u.partnerId, customerId: u.customerId ?? null, app: u.kind === 'customer' ? 'customer' : 'access', action: 'user.created', targetType: 'user', targetId: id,
    changes: { email: { after: u.email }, kind: { after: u.kind }, ...(u.role ? { role: { after: u.role } } : {}), ...(u.apps ? { apps: { after: u.apps } } : {}) },
  });
  return id;
}

async function addPartner(trx: Trx, name: string, slug: string, currency: string): Promise<string> {
  const id = newId('ptn');
  await trx.insertInto('partners').values({ id, name, slug, defaultCurrency: currency, status: 'active' }).execute();
  await trx.insertInto('partnerSettings').values({ partnerId: id, contactSalesEmail: `sales@${slug}.test`, updatedAt: new Date() }).execute();
  await recordAudit(trx, SEED_ACTOR, { partnerId: id, app: 'operator', action: 'partner.created', targetType: 'partner', targetId: id, changes: { name: { after: name } } });
  return id;
}

async function addCustomer(trx: Trx, partnerId: string, name: string, currency: string): Promise<string> {
  const id = newId('cus');
  await trx.insertInto('customers').values({ id, partnerId, name, currency }).execute();
  await recordAudit(trx, SEED_ACTOR, { partnerId, customerId: id, app: 'customer', action: 'customer.created', targetType: 'customer', targetId: id, changes: { name: { after: name }, currency: { after: currency } } });
  return id;
}

/**
 * Demo data for a first run: idempotent (does nothing when the demo partner exists). Runs as the database owner.
 * `activity: false` seeds the people, customers and catalog without what they did (rate plan, points, calls, subscriptions):
 * the test template starts there, and each test makes the activity it asserts on.
 * With activity, Acme's last month (its points, its calls) is made after the main transaction, by the use cases in
 * transactions of their own, then dated and stated: a process stopped in between leaves a demo without all of it.
 */
export async function seedDemo(db: Db, demoPassword: string, options: { activity?: boolean; config?: Config } = {}): Promise<boolean> {
  const activity = options.activity ?? true;
  const exists = await db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirst();
  if (exists) return false;
  const passwordHash = await hashPassword(demoPassword);
  let invoiceEntries: DemoInvoiceEntry[] = [];
  const lastMonth = await db.transaction().execute(async (trx) => {
    await addUser(trx, passwordHash, { email: 'operator@folio.test', name: 'Olivia Operator', kind: 'operator', partnerId: null });

    const demo = await addPartner(trx, 'Demo Telecom', 'demo-telecom', 'SGD');
    const allButFinance: AppName[] = ['customer', 'product', 'invoice', 'audit', 'discount', 'settings', 'access'];
    const adminId = await addUser(trx, passwordHash, { email: 'admin@demo.test', name: 'Adam Admin', kind: 'staff', partnerId: demo, apps: allButFinance });
    const financeId = await addUser(trx, passwordHash, { email: 'finance@demo.test', name: 'Fiona Finance', kind: 'staff', partnerId: demo, apps: ['finance', 'invoice', 'customer'] });

    const acme = await addCustomer(trx, demo, 'Acme Pte Ltd', 'SGD');
    await addUser(trx, passwordHash, { email: 'owner@acme.test', name: 'Olive Owner', kind: 'customer', partnerId: demo, customerId: acme, role: 'owner' });
    await addUser(trx, passwordHash, { email: 'member@acme.test', name: 'Max Member', kind: 'customer', partnerId: demo, customerId: acme, role: 'member' });
    const globex = await addCustomer(trx, demo, 'Globex Sdn Bhd', 'MYR');
    await addUser(trx, passwordHash, { email: 'owner@globex.test', name: 'Gina Globex', kind: 'customer', partnerId: demo, customerId: globex, role: 'owner' });
    const initech = await addCustomer(trx, demo, 'Initech Pte Ltd', 'SGD');
    await addUser(trx, passwordHash, { email: 'owner@initech.test', name: 'Ian Initech', kind: 'customer', partnerId: demo, customerId: initech, role: 'owner' });

    // A second tenant, so that tenancy can be seen (and tested) from the first day.
    const north = await addPartner(trx, 'Northwind Comms', 'northwind', 'AUD');
    await addUser(trx, passwordHash, { email: 'admin@northwind.test', name: 'Nora North', kind: 'staff', partnerId: north, apps: [...allButFinance] });
    const wombat = await addCustomer(trx, north, 'Wombat Pty Ltd', 'AUD');
    await addUser(trx, passwordHash, { email: 'owner@wombat.test', name: 'Will Wombat', kind: 'customer', partnerId: north, customerId: wombat, role: 'owner' });

    // Usage demo: a default SGD rate plan (src/products/demo-usage.ts).
    if (activity) await seedUsageDemo(trx, { partnerId: demo });
    await seedCatalogDemo(trx, { partnerId: demo }); // Demo Telecom's SGD catalog and 9% GST (src/products/demo-catalog.ts)
    await seedServicesDemo(trx, { partnerId: demo, customerId: acme }); // Acme's virtual lines and wallboard (src/services)
    await seedInvoiceBrandingDemo(trx, { partnerId: demo }); // how Demo Telecom appears on invoices (src/invoices)
    if (activity) invoiceEntries = await seedInvoicesDemo(trx, { partnerId: demo, acmeId: acme }); // Acme's open Purchase invoices
    if (activity) await seedDiscountsDemo(trx, { partnerId: demo, initechId: initech }); // Initech's 10% off Teams licences (src/discounts)
    return activity ? { partnerId: demo, acmeId: acme, financeUserId: financeId, switchKeyId: await addDemoSwitchKey(trx, { partnerId: demo, createdBy: adminId }) } : null;
  });
  await dateDemoInvoices(db, invoiceEntries); // their entries at their issue dates, as the trial balance at a past day reads them
  // Last month on Acme's points (its first points, calls) and its Monthly statement (src/invoices/statements/demo-statement.ts).
  if (lastMonth) await seedStatementDemo(db, { ...lastMonth, config: options.config ?? loadConfig() });
  return true;
}
