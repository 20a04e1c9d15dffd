import { sql } from 'kysely';
import { readInScope, type Db } from '../platform/database.ts';
import type { PortalConfig } from './portal-config.ts';

type PortalTabs = PortalConfig['portalTabs'];

/**
 * The partner's portal tabs, kept for a few seconds: every portal request of a tabbed page checks its tab (a hidden tab
 * answers 403 tab_hidden), and that check was a transaction of its own per request. A change made through this process
 * is seen at once (`forgetPortalTabs`, after the change commits); another server process sees it within
 * PORTAL_TABS_CACHE_MS — as with API keys (src/auth/resolve-principal.ts). A miss costs one round trip (`readInScope`).
 */
export const PORTAL_TABS_CACHE_MS = 5_000;
const MAX_CACHED_PARTNERS = 1_000;

interface PartnerTabs {
  /** Bumped by every forget: a read that started before it must not store what it read. */
  generation: number;
  value?: { tabs: PortalTabs | null; until: number };
}
const caches = new WeakMap<Db, Map<string, PartnerTabs>>();

function entryOf(db: Db, partnerId: string): PartnerTabs {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  let entry = cache.get(partnerId);
  if (!entry) {
    if (cache.size >= MAX_CACHED_PARTNERS) cache.delete(cache.keys().next().value!);
    cache.set(partnerId, (entry = { generation: 0 }));
  }
  return entry;
}

/** The tabs the partner shows (null: no settings row yet, every tab shown). */
export async function portalTabsOf(db: Db, partnerId: string, now = Date.now()): Promise<PortalTabs | null> {
  const entry = entryOf(db, partnerId);
  if (entry.value && entry.value.until > now) return entry.value.tabs;
  const generation = entry.generation;
  const [row] = await readInScope(db, { kind: 'partner', partnerId },
    sql<{ portalTabs: PortalTabs }>`select portal_tabs as "portalTabs" from partner_settings where partner_id = ${partnerId}`);
  const tabs = row?.portalTabs ?? null;
  if (entry.generation === generation) entry.value = { tabs, until: Date.now() + PORTAL_TABS_CACHE_MS };
  return tabs;
}

/** Forget what this process knows of a partner's tabs (call after a change has committed). */
export function forgetPortalTabs(db: Db, partnerId: string): void {
  const entry = entryOf(db, partnerId);
  entry.generation++;
  delete entry.value;
}
