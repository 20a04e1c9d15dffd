import type { FolioApp, ServerDeps } from './server.ts';
import { authRoutes } from '../auth/auth.routes.ts';
import { walletRoutes } from '../wallet/wallet.routes.ts';
import { usageRoutes } from '../usage/usage.routes.ts';
import { notificationRoutes } from '../notifications/notifications.routes.ts';
import { auditRoutes } from '../audit/audit.routes.ts';
import { accessRoutes } from '../access/access.routes.ts';
import { accountRoutes } from '../access/account.routes.ts';
import { operatorAccessRoutes } from '../access/operator.routes.ts';
import { settingsRoutes } from '../settings/settings.routes.ts';
import { customerRoutes } from '../customers/customers.routes.ts';
import { portalRoutes } from '../portal/portal.routes.ts';
import { financeRoutes } from '../finance/finance.routes.ts';
import { productRoutes } from '../products/products.routes.ts';
import { liveCallRoutes } from '../usage/live-calls.routes.ts';
import { topUpRoutes } from '../topup/topup.routes.ts';
import { gatewayRoutes } from '../gateway/gateway.routes.ts';
import { dashboardRoutes } from '../dashboard/dashboard.routes.ts';
import { serviceRoutes } from '../services/services.routes.ts';
import { renewalRoutes } from '../subscriptions/renewals/renewals.routes.ts';
import { subscriptionRoutes } from '../subscriptions/subscriptions.routes.ts';

/** Every domain's routes, registered in one place. */
export function registerRoutes(app: FolioApp, deps: ServerDeps): void {
  authRoutes(app, deps);
  walletRoutes(app, deps);
  usageRoutes(app, deps);
  notificationRoutes(app, deps);
  auditRoutes(app, deps);
  accountRoutes(app, deps);
  accessRoutes(app, deps);
  operatorAccessRoutes(app, deps);
  settingsRoutes(app, deps);
  customerRoutes(app, deps);
  portalRoutes(app, deps);
  financeRoutes(app, deps);
  productRoutes(app, deps);
  liveCallRoutes(app, deps);
  topUpRoutes(app, deps);
  gatewayRoutes(app, deps);
  dashboardRoutes(app, deps);
  serviceRoutes(app, deps);
  subscriptionRoutes(app, deps);
  renewalRoutes(app, deps);
}
