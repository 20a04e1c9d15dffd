import { createGateway, loadGatewayConfig, type Gateway } from '../gateway/index.ts';
import type { Db } from '../platform/database.ts';

const created = new WeakMap<Db, Gateway>();

/**
 * The card gateway: the one created at boot (`ServerDeps.gateway`, src/main.ts), or, when a server was built without
 * one (tests that do not care), the configured gateway (`GATEWAY`, sandbox by default), created once per database.
 */
export function gatewayOf(deps: { db: Db; gateway?: Gateway | undefined }): Gateway {
  if (deps.gateway) return deps.gateway;
  let gateway = created.get(deps.db);
  if (!gateway) {
    gateway = createGateway(loadGatewayConfig(), { db: deps.db });
    created.set(deps.db, gateway);
  }
  return gateway;
}
