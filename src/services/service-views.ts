import { z } from 'zod';
import { asRule, timestamp } from '../platform/schemas.ts';
import { WEEKDAYS, type BusinessHours, type Destination, type OutsideHours, type ServiceStatus, type Weekday } from './services.db-types.ts';

/**
 * The shapes of virtual lines and wallboards, in and out. Input schemas are strict (unknown fields are 400s naming them) and
 * check every rule that needs no database: number format, times, close after open, one entry per weekday, a known timezone,
 * known widgets, refresh bounds. Rules that need the database (the destination's users belong to the organisation, the
 * subscription is the organisation's) are checked by the use cases, naming the same paths.
 */

export const E164 = /^\+[1-9]\d{6,14}$/;
export const e164 = z.string().trim().regex(E164, 'an E.164 number such as +6561234567');
const userId = z.string().regex(/^usr_[0-9a-z]{10,40}$/, 'a usr_ id of a member of your organisation');
const serviceName = z.string().trim().min(1).max(100);
export const subscriptionId = z.string().regex(/^sub_[0-9a-z]{10,40}$/, 'a sub_ id of your subscription');
/** 00:00 to 23:59, and 24:00 as a closing time (open until midnight). */
const clock = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'a time HH:MM (00:00 to 24:00)');

let zones: Set<string> | null = null;
/** An IANA timezone this runtime knows (`Asia/Singapore`, `UTC`). */
export function isTimeZone(name: string): boolean {
  zones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC']);
  return zones.has(name);
}

const userDestination = z.strictObject({ type: z.literal('user'), userId });
const groupDestination = z.strictObject({
  type: z.literal('group'),
  name: serviceName,
  memberUserIds: z.array(userId).min(1).max(50),
}).superRefine((g, ctx) => {
  g.memberUserIds.forEach((id, i) => {
    if (g.memberUserIds.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: ['memberUserIds', i], message: 'listed twice' });
  });
});
const externalDestination = z.strictObject({ type: z.literal('external'), number: e164 });

export const destinationSchema = z.discriminatedUnion('type', [userDestination, groupDestination, externalDestination])
  .describe('Where calls go: a user of your organisation, a group of them, or an external number');
export const outsideHoursSchema = z.discriminatedUnion('type', [z.strictObject({ type: z.literal('voicemail') }), userDestination, groupDestination, externalDestination])
  .describe('Where calls go outside business hours: voicemail, or a destination');

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export const businessHoursSchema = z.strictObject({
  timezone: z.string().max(64).refine(isTimeZone, 'an IANA timezone such as Asia/Singapore'),
  days: z.array(z.strictObject({ day: z.enum(WEEKDAYS), open: clock, close: clock })).min(1).max(7)
    .describe('Open hours per weekday; days not listed are closed'),
  outsideHours: outsideHoursSchema,
}).superRefine((h, ctx) => {
  h.days.forEach((d, i) => {
    if (h.days.findIndex((o) => o.day === d.day) !== i) ctx.addIssue({ code: 'custom', path: ['days', i, 'day'], message: `${d.day} is listed twice` });
    if (d.open === '24:00') ctx.addIssue({ code: 'custom', path: ['days', i, 'open'], message: 'opening time must be before 24:00' });
    else if (/^\d\d:\d\d$/.test(d.open) && /^\d\d:\d\d$/.test(d.close) && minutes(d.close) <= minutes(d.open)) {
      // Two real times in the wrong order: well-formed, against a rule (422 when nothing else is wrong: docs/adr/0040).
      ctx.addIssue({ code: 'custom', path: ['days', i, 'close'], ...asRule(`closing time must be after the opening time (${d.open})`) });
    }
  });
}).describe('Business hours in a timezone; null: always open');

export const virtualLineCreateBody = z.strictObject({
  number: e164,
  name: serviceName,
  destination: destinationSchema,
  businessHours: businessHoursSchema.nullable().optional(),
  subscriptionId: subscriptionId.nullable().optional(),
});
export type VirtualLineCreateInput = z.infer<typeof virtualLineCreateBody>;

const versionField = z.number().int().min(1).max(2_147_483_647).describe('The version you read: a stale one is refused (409 stale_version)');

export const virtualLineUpdateBody = z.strictObject({
  version: versionField,
  number: e164.optional(),
  name: serviceName.optional(),
  destination: destinationSchema.optional(),
  businessHours: businessHoursSchema.nullable().optional(),
  subscriptionId: subscriptionId.nullable().optional(),
});
export type VirtualLineUpdateInput = z.infer<typeof virtualLineUpdateBody>;

export const removeBody = z.strictObject({ version: versionField });

export const WIDGETS = [
  'calls_waiting', 'longest_wait', 'agents_available', 'agents_busy', 'answered_today', 'abandoned_today',
  'abandoned_rate', 'service_level', 'average_wait', 'average_handle_time',
] as const;
export type Widget = (typeof WIDGETS)[number];
export const REFRESH_BOUNDS = { min: 5, max: 3600 } as const;

const queueName = z.string().trim().min(1).max(60);
const queuesSchema = z.array(queueName).min(1).max(20).superRefine((qs, ctx) => {
  qs.forEach((q, i) => {
    if (qs.findIndex((o) => o.toLowerCase() === q.toLowerCase()) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `${q} is listed twice` });
  });
}).describe('Names of the queues shown');
const widgetsSchema = z.array(z.enum(WIDGETS)).min(1).max(WIDGETS.length).superRefine((ws, ctx) => {
  ws.forEach((w, i) => {
    if (ws.indexOf(w) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `${w} is listed twice` });
  });
}).describe('Widgets shown, in order');
const refreshSchema = z.number().int().min(REFRESH_BOUNDS.min).max(REFRESH_BOUNDS.max).describe('Seconds between refreshes (5 to 3600)');

export const wallboardCreateBody = z.strictObject({
  name: serviceName,
  queues: queuesSchema,
  widgets: widgetsSchema,
  refreshIntervalSeconds: refreshSchema,
  subscriptionId: subscriptionId.nullable().optional(),
});
export type WallboardCreateInput = z.infer<typeof wallboardCreateBody>;

export const wallboardUpdateBody = z.strictObject({
  version: versionField,
  name: serviceName.optional(),
  queues: queuesSchema.optional(),
  widgets: widgetsSchema.optional(),
  refreshIntervalSeconds: refreshSchema.optional(),
  subscriptionId: subscriptionId.nullable().optional(),
});
export type WallboardUpdateInput = z.infer<typeof wallboardUpdateBody>;

// --- Views ---

const destinationView = z.union([
  z.object({ type: z.literal('user'), userId: z.string() }),
  z.object({ type: z.literal('group'), name: z.string(), memberUserIds: z.array(z.string()) }),
  z.object({ type: z.literal('external'), number: z.string() }),
]);
const outsideHoursView = z.union([z.object({ type: z.literal('voicemail') }), destinationView]);

export const virtualLineSchema = z.object({
  id: z.string(),
  customerId: z.string(),
  subscriptionId: z.string().nullable(),
  number: z.string(),
  name: z.string(),
  destination: destinationView,
  /** The destination in words, with people's names: "Olive Owner (owner@acme.test)", "Group Sales: ...". */
  destinationSummary: z.string(),
  businessHours: z.object({
    timezone: z.string(),
    days: z.array(z.object({ day: z.enum(WEEKDAYS), open: z.string(), close: z.string() })),
    outsideHours: outsideHoursView,
  }).nullable(),
  /** "Mon–Fri 09:00–18:00 (Asia/Singapore); outside hours: voicemail", or "Always open". */
  businessHoursSummary: z.string(),
  status: z.enum(['active', 'removed']),
  version: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
  removedAt: timestamp.nullable(),
});
export type VirtualLineView = z.infer<typeof virtualLineSchema>;

export const wallboardSchema = z.object({
  id: z.string(),
  customerId: z.string(),
  subscriptionId: z.string().nullable(),
  name: z.string(),
  queues: z.array(z.string()),
  widgets: z.array(z.string()),
  refreshIntervalSeconds: z.number().int(),
  status: z.enum(['active', 'removed']),
  version: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
  removedAt: timestamp.nullable(),
});
export type WallboardView = z.infer<typeof wallboardSchema>;

export const serviceListQuery = z.strictObject({
  status: z.enum(['active', 'removed', 'all']).default('active').describe('active (default), removed, or all'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^(vln|wbd)_[0-9a-z]{10,40}$/, 'the nextCursor of the previous page').optional(),
});
export type ServiceListQuery = z.infer<typeof serviceListQuery>;

// --- Rows to views ---

export interface PersonName {
  name: string;
  email: string;
  /** Whether calls can reach them: an active member. A removed member (or one invited and not joined) rings no one. */
  answers: boolean;
}
export type People = ReadonlyMap<string, PersonName>;

export interface VirtualLineRow {
  id: string;
  customerId: string;
  subscriptionId: string | null;
  number: string;
  name: string;
  destination: Destination;
  businessHours: BusinessHours | null;
  status: ServiceStatus;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  removedAt: Date | null;
}

export interface WallboardRow {
  id: string;
  customerId: string;
  subscriptionId: string | null;
  name: string;
  queues: string[];
  widgets: string[];
  refreshIntervalSeconds: number;
  status: ServiceStatus;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  removedAt: Date | null;
}

export const VIRTUAL_LINE_COLUMNS = [
  'id', 'customerId', 'subscriptionId', 'number', 'name', 'destination', 'businessHours', 'status', 'version', 'createdAt', 'updatedAt', 'removedAt',
] as const;
export const WALLBOARD_COLUMNS = [
  'id', 'customerId', 'subscriptionId', 'name', 'queues', 'widgets', 'refreshIntervalSeconds', 'status', 'version', 'createdAt', 'updatedAt', 'removedAt',
] as const;

/** Every user id a destination (and its outside-hours destination) names, with the field path naming it. */
export function userRefs(destination: Destination | OutsideHours, path: string): Array<{ userId: string; path: string }> {
  if (destination.type === 'user') return [{ userId: destination.userId, path: `${path}.userId` }];
  if (destination.type === 'group') return destination.memberUserIds.map((userId, i) => ({ userId, path: `${path}.memberUserIds.${i}` }));
  return [];
}

/** " (removed: rings no one)" after a person calls can no longer reach. */
const notAnswering = (p: PersonName | undefined) => (p && !p.answers ? ' (removed: rings no one)' : '');

function person(people: People, id: string): string {
  const p = people.get(id);
  return p ? `${p.name} (${p.email})${notAnswering(p)}` : id;
}

export function destinationSummary(d: Destination | OutsideHours, people: People): string {
  switch (d.type) {
    case 'voicemail':
      return 'voicemail';
    case 'user':
      return person(people, d.userId);
    case 'group':
      return `Group ${d.name}: ${d.memberUserIds.map((id) => `${people.get(id)?.name ?? id}${notAnswering(people.get(id))}`).join(', ')}`;
    case 'external':
      return `External ${d.number}`;
  }
}

const DAY_LABEL: Record<Weekday, string> = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };

/** "Mon–Fri 09:00–18:00, Sat 10:00–14:00 (Asia/Singapore); outside hours: voicemail": consecutive days with equal hours joined. */
export function businessHoursSummary(h: BusinessHours | null, people: People): string {
  if (!h) return 'Always open';
  const sorted = [...h.days].sort((a, b) => WEEKDAYS.indexOf(a.day) - WEEKDAYS.indexOf(b.day));
  const runs: Array<{ from: Weekday; to: Weekday; open: string; close: string }> = [];
  for (const d of sorted) {
    const last = runs[runs.length - 1];
    if (last && last.open === d.open && last.close === d.close && WEEKDAYS.indexOf(d.day) === WEEKDAYS.indexOf(last.to) + 1) last.to = d.day;
    else runs.push({ from: d.day, to: d.day, open: d.open, close: d.close });
  }
  const text = runs.map((r) => `${DAY_LABEL[r.from]}${r.from === r.to ? '' : `–${DAY_LABEL[r.to]}`} ${r.open}–${r.close}`).join(', ');
  return `${text} (${h.timezone}); outside hours: ${destinationSummary(h.outsideHours, people)}`;
}

export function toVirtualLineView(r: VirtualLineRow, people: People): VirtualLineView {
  return {
    id: r.id,
    customerId: r.customerId,
    subscriptionId: r.subscriptionId,
    number: r.number,
    name: r.name,
    destination: r.destination,
    destinationSummary: destinationSummary(r.destination, people),
    businessHours: r.businessHours,
    businessHoursSummary: businessHoursSummary(r.businessHours, people),
    status: r.status,
    version: r.version,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    removedAt: r.removedAt?.toISOString() ?? null,
  };
}

export function toWallboardView(r: WallboardRow): WallboardView {
  return {
    id: r.id,
    customerId: r.customerId,
    subscriptionId: r.subscriptionId,
    name: r.name,
    queues: r.queues,
    widgets: r.widgets,
    refreshIntervalSeconds: r.refreshIntervalSeconds,
    status: r.status,
    version: r.version,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    removedAt: r.removedAt?.toISOString() ?? null,
  };
}

/**
 * What the audit trail keeps of a line: the fields people read, destinations and hours in words (names as they were then).
 * Not the version: a counter is noise in the customer's Audit section.
 */
export function virtualLineAuditFields(v: VirtualLineView): Record<string, unknown> {
  return {
    number: v.number, name: v.name, destination: v.destinationSummary, businessHours: v.businessHoursSummary,
    subscriptionId: v.subscriptionId, status: v.status,
  };
}

export function wallboardAuditFields(v: WallboardView): Record<string, unknown> {
  return {
    name: v.name, queues: v.queues, widgets: v.widgets, refreshIntervalSeconds: v.refreshIntervalSeconds,
    subscriptionId: v.subscriptionId, status: v.status,
  };
}
