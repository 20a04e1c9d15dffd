import type { FolioApp, ServerDeps } from './server.ts';
import { authRoutes } from '../auth/auth.routes.ts';

/** Every domain's routes, registered in one place. */
export function registerRoutes(app: FolioApp, deps: ServerDeps): void {
  authRoutes(app, deps);
}
