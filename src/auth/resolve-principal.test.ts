import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { sha256Hex } from '../platform/crypto.ts';
import { newId, newSecret } from '../platform/ids.ts';
import { createTestDb, testConfig, wireRecordedPool, type TestDb } from '../test/harness.ts';
import { createSession } from './sessions.ts';
import { forgetApiKey, resolveApiKey, resolveSession } from './resolve-principal.ts';

const IDLE_MINUTES = 30;

describe('resolving a session cookie', () => {
  let db: TestDb;
  const users: Record<string, { id: string; partnerId: string | null; customerId: string | null }> = {};

  beforeAll(async () => {
    db = await createTestDb();
    for (const email of ['operator@folio.test', 'admin@demo.test', 'owner@acme.test', 'member@acme.test']) {
      users[email] = await db.owner.db.selectFrom('users').select(['id', 'partnerId', 'customerId']).where('email', '=', email).executeTakeFirstOrThrow();
    }
  });
  afterAll(async () => db.drop());

  const signIn = async (email: string) => {
    const user = users[email]!;
    const session = await db.owner.db.transaction().execute((trx) => createSession(trx, testConfig(), user, { ip: '127.0.0.1', userAgent: 'test' }));
    return session;
  };
  const sessionRow = (sessionId: string) =>
    db.owner.db.selectFrom('sessions').select(['lastSeenAt', 'idleExpiresAt', 'absoluteExpiresAt']).where('id', '=', sessionId).executeTakeFirstOrThrow();

  it('gives the principal of each kind of user: a customer’s role, a staff member’s granted apps, the operator', async () => {
    const owner = await signIn('owner@acme.test');
    const resolved = await resolveSession(db.app.db, owner.token, IDLE_MINUTES);
    expect(resolved).toEqual({
      csrfToken: owner.csrfToken,
      principal: expect.objectContaining({
        kind: 'customer', userId: users['owner@acme.test']!.id, partnerId: users['owner@acme.test']!.partnerId,
        customerId: users['owner@acme.test']!.customerId, role: 'owner', email: 'owner@acme.test', sessionId: owner.sessionId, authMethod: 'password',
      }),
    });
    expect((await resolveSession(db.app.db, (await signIn('member@acme.test')).token, IDLE_MINUTES))?.principal).toMatchObject({ kind: 'customer', role: 'member' });

    const staff = await signIn('admin@demo.test');
    const granted = (await db.owner.db.selectFrom('appGrants').select('app').where('userId', '=', users['admin@demo.test']!.id).execute()).map((g) => g.app);
    expect(granted.length).toBeGreaterThan(1);
    const principal = (await resolveSession(db.app.db, staff.token, IDLE_MINUTES))?.principal;
    expect(principal).toMatchObject({ kind: 'staff', partnerId: users['admin@demo.test']!.partnerId, email: 'admin@demo.test' });
    expect(principal?.kind === 'staff' ? [...principal.apps].sort() : null).toEqual([...granted].sort());

    // An app taken back is gone at the next request.
    await db.owner.db.deleteFrom('appGrants').where('userId', '=', users['admin@demo.test']!.id).where('app', '=', granted[0]!).execute();
    const after = (await resolveSession(db.app.db, staff.token, IDLE_MINUTES))?.principal;
    expect(after?.kind === 'staff' && after.apps.has(granted[0]!)).toBe(false);
    expect(after?.kind === 'staff' ? after.apps.size : 0).toBe(granted.length - 1);

    const operator = await resolveSession(db.app.db, (await signIn('operator@folio.test')).token, IDLE_MINUTES);
    expect(operator?.principal).toMatchObject({ kind: 'operator', email: 'operator@folio.test' });
  });

  it('refuses a revoked session, an idle or absolutely expired one, a disabled user, and tokens that are no session', async () => {
    const revoked = await signIn('member@acme.test');
    await db.owner.db.updateTable('sessions').set({ revokedAt: sql`now()` }).where('id', '=', revoked.sessionId).execute();
    expect(await resolveSession(db.app.db, revoked.token, IDLE_MINUTES)).toBeNull();

    const idle = await signIn('member@acme.test');
    await db.owner.db.updateTable('sessions').set({ idleExpiresAt: sql`now() - interval '1 second'` }).where('id', '=', idle.sessionId).execute();
    expect(await resolveSession(db.app.db, idle.token, IDLE_MINUTES)).toBeNull();

    const old = await signIn('member@acme.test');
    await db.owner.db.updateTable('sessions').set({ absoluteExpiresAt: sql`now() - interval '1 second'` }).where('id', '=', old.sessionId).execute();
    expect(await resolveSession(db.app.db, old.token, IDLE_MINUTES)).toBeNull();

    const disabled = await signIn('member@acme.test');
    expect(await resolveSession(db.app.db, disabled.token, IDLE_MINUTES)).not.toBeNull();
    await db.owner.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', users['member@acme.test']!.id).execute();
    try {
      expect(await resolveSession(db.app.db, disabled.token, IDLE_MINUTES)).toBeNull();
    } finally {
      await db.owner.db.updateTable('users').set({ status: 'active' }).where('id', '=', users['member@acme.test']!.id).execute();
    }

    expect(await resolveSession(db.app.db, 'short', IDLE_MINUTES)).toBeNull();
    expect(await resolveSession(db.app.db, `${disabled.token}x`, IDLE_MINUTES)).toBeNull();
    expect(await resolveSession(db.app.db, "not-a-token-but-long-enough'; select 1 --", IDLE_MINUTES)).toBeNull();
  });

  it('slides the idle expiry when the last request is over 30 s old, never past the absolute expiry; not before', async () => {
    const session = await signIn('owner@acme.test');
    await db.owner.db.updateTable('sessions')
      .set({ lastSeenAt: sql`now() - interval '31 seconds'`, idleExpiresAt: sql`now() + interval '1 minute'`, absoluteExpiresAt: sql`now() + interval '10 minutes'` })
      .where('id', '=', session.sessionId).execute();
    expect(await resolveSession(db.app.db, session.token, IDLE_MINUTES)).not.toBeNull();
    const slid = await sessionRow(session.sessionId);
    expect(Date.now() - slid.lastSeenAt.getTime()).toBeLessThan(5_000);
    expect(slid.idleExpiresAt.getTime()).toBe(slid.absoluteExpiresAt.getTime()); // now + 30 min, capped at the absolute 10

    // Another session (this process slid the first one just now, and slides a session at most every 30 s).
    const later = await signIn('owner@acme.test');
    await db.owner.db.updateTable('sessions')
      .set({ lastSeenAt: sql`now() - interval '31 seconds'`, idleExpiresAt: sql`now() + interval '1 minute'`, absoluteExpiresAt: sql`now() + interval '10 hours'` })
      .where('id', '=', later.sessionId).execute();
    await resolveSession(db.app.db, later.token, IDLE_MINUTES);
    const minutesLeft = ((await sessionRow(later.sessionId)).idleExpiresAt.getTime() - Date.now()) / 60_000;
    expect(minutesLeft).toBeGreaterThan(IDLE_MINUTES - 1);
    expect(minutesLeft).toBeLessThanOrEqual(IDLE_MINUTES);

    const recent = await signIn('owner@acme.test');
    await db.owner.db.updateTable('sessions')
      .set({ lastSeenAt: sql`now() - interval '5 seconds'`, idleExpiresAt: sql`now() + interval '1 minute'` })
      .where('id', '=', recent.sessionId).execute();
    const before = await sessionRow(recent.sessionId);
    await resolveSession(db.app.db, recent.token, IDLE_MINUTES);
    expect(await sessionRow(recent.sessionId)).toEqual(before);
  });

  it('a request that read the last-seen time from before this process slid the session writes nothing again', async () => {
    const session = await signIn('owner@acme.test');
    const rewind = () => db.owner.db.updateTable('sessions')
      .set({ lastSeenAt: sql`now() - interval '31 seconds'`, idleExpiresAt: sql`now() + interval '1 minute'` })
      .where('id', '=', session.sessionId).execute();
    await rewind();
    await resolveSession(db.app.db, session.token, IDLE_MINUTES);
    expect(Date.now() - (await sessionRow(session.sessionId)).lastSeenAt.getTime()).toBeLessThan(5_000);
    // As a request whose read ran while that write committed sees it: the old time again. No second write.
    await rewind();
    const before = await sessionRow(session.sessionId);
    expect(await resolveSession(db.app.db, session.token, IDLE_MINUTES)).not.toBeNull();
    expect(await sessionRow(session.sessionId)).toEqual(before);
  });

  it('slides the idle expiry once for the requests a page sends together', async () => {
    const { handle, sent } = wireRecordedPool(db, 4);
    try {
      const session = await signIn('member@acme.test');
      await db.owner.db.updateTable('sessions').set({ lastSeenAt: sql`now() - interval '31 seconds'` }).where('id', '=', session.sessionId).execute();
      await sql`select 1`.execute(handle.db);
      sent.length = 0;
      const resolved = await Promise.all(Array.from({ length: 6 }, () => resolveSession(handle.db, session.token, IDLE_MINUTES)));
      expect(resolved.map((r) => r?.principal.kind)).toEqual(Array(6).fill('customer'));
      expect(sent.filter((text) => text.startsWith("begin; select set_config('folio.scope', 'system'"))).toHaveLength(1);
      expect(Date.now() - (await sessionRow(session.sessionId)).lastSeenAt.getTime()).toBeLessThan(5_000);
    } finally {
      await handle.close();
    }
  });

  it('costs one round trip to the database when nothing is to be written', async () => {
    const { handle, sent } = wireRecordedPool(db, 1);
    try {
      const session = await signIn('admin@demo.test');
      await sql`select 1`.execute(handle.db);
      sent.length = 0;
      expect((await resolveSession(handle.db, session.token, IDLE_MINUTES))?.principal.kind).toBe('staff');
      expect(sent).toEqual([expect.stringMatching(/^prepare folio_read_0 as\s+select .* from sessions s\n.*; begin read only; .*; execute folio_read_0\('[0-9a-f]{64}'\); commit$/s)]);
    } finally {
      await handle.close();
    }
  });
});

describe('resolving an API key', () => {
  let db: TestDb;
  let partnerId: string;

  beforeAll(async () => {
    db = await createTestDb();
    partnerId = (await db.owner.db.selectFrom('users').select('partnerId').where('email', '=', 'admin@demo.test').executeTakeFirstOrThrow()).partnerId!;
  });
  afterAll(async () => db.drop());

  const addKey = async () => {
    const token = `fk_${newSecret()}`;
    const id = newId('key');
    await db.owner.db.insertInto('apiKeys').values({
      id, partnerId, name: 'switch', tokenPrefix: token.slice(0, 10), tokenHash: sha256Hex(token), apps: ['customer'], createdBy: null, lastUsedAt: null, revokedAt: null,
    }).execute();
    return { id, token };
  };
  // A lookup is one transaction in the system scope (the recorder sees its scripts: its begin, then each statement's sync).
  const keyLookups = (sent: readonly string[]) => sent.filter((text) => text.startsWith("begin; select set_config('folio.scope', 'system'")).length;

  it('answers sixteen requests that miss the cache at once with one lookup, its last use written once', async () => {
    const { handle, sent } = wireRecordedPool(db, 4);
    try {
      const key = await addKey();
      await sql`select 1`.execute(handle.db);
      sent.length = 0;
      const principals = await Promise.all(Array.from({ length: 16 }, () => resolveApiKey(handle.db, key.token)));
      expect(principals[0]).toMatchObject({ kind: 'api_key', keyId: key.id, partnerId });
      expect(new Set(principals).size).toBe(1);
      // One transaction: the key read, its last use written (its first use), the commit.
      expect(sent).toEqual([expect.stringMatching(/^begin; select set_config\('folio\.scope', 'system'/), '(sync)', '(sync)', 'commit']);
      expect(keyLookups(sent)).toBe(1);
      expect((await db.owner.db.selectFrom('apiKeys').select('lastUsedAt').where('id', '=', key.id).executeTakeFirstOrThrow()).lastUsedAt).not.toBeNull();
      // Cached afterwards: no statement at all.
      sent.length = 0;
      expect(await resolveApiKey(handle.db, key.token)).toBe(principals[0]);
      expect(sent).toEqual([]);
      // A wrong token shares nothing with the right one, and is refused.
      expect(await resolveApiKey(handle.db, `fk_${newSecret()}`)).toBeNull();
    } finally {
      await handle.close();
    }
  });

  it('does not keep what a lookup read when the key was forgotten while it ran: the next request reads again', async () => {
    const { handle, sent } = wireRecordedPool(db, 2);
    try {
      const key = await addKey();
      const running = resolveApiKey(handle.db, key.token);
      forgetApiKey(handle.db, key.id); // a revoke commits, then forgets the key, while this lookup still runs
      expect(await running).toMatchObject({ keyId: key.id }); // it read the key before the revoke: this request passes
      await db.owner.db.updateTable('apiKeys').set({ revokedAt: sql`now()` }).where('id', '=', key.id).execute();
      sent.length = 0;
      expect(await resolveApiKey(handle.db, key.token)).toBeNull();
      expect(keyLookups(sent)).toBe(1);
    } finally {
      await handle.close();
    }
  });

  it('starts a lookup of its own for a request that comes after a forget, not joining one begun before it', async () => {
    const { handle, sent } = wireRecordedPool(db, 2);
    try {
      const key = await addKey();
      await sql`select 1`.execute(handle.db);
      sent.length = 0;
      const before = resolveApiKey(handle.db, key.token);
      forgetApiKey(handle.db, key.id);
      const after = resolveApiKey(handle.db, key.token);
      const [first, second] = await Promise.all([before, after]);
      expect(second).toMatchObject({ keyId: key.id });
      expect(second).not.toBe(first);
      expect(keyLookups(sent)).toBe(2);
    } finally {
      await handle.close();
    }
  });
});
