import { z } from 'zod';
import fs from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import path from 'node:path';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import helmet from 'helmet';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Db } from './database.ts';
import { portalTabsOf } from '../settings/portal-tabs.ts';
import { ANONYMOUS, type Ctx, type Principal } from './context.ts';
import { DomainError, problem, type FieldError } from './errors.ts';
import { newRequestId } from './ids.ts';
import { CSRF_HEADER, SESSION_COOKIE, resolveApiKey, resolveSession } from '../auth/resolve-principal.ts';
import type { AccessPolicy } from './access-policy.ts';
import { registerRoutes } from './routes.ts';
import { registerIdempotency } from './idempotency.ts';
import { findUnstorableText } from './nul-text.ts';
import './validation-messages.ts';
import { RetryLater } from './retry-later.ts';
import { answersRetryAfter, isRuleIssue, retryAfterHeader } from './schemas.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { systemClock, type Clock } from './clock.ts';
import { MASK } from '../notifications/notification-view.ts';

export type FolioApp = FastifyInstance<Server, IncomingMessage, ServerResponse, Logger, ZodTypeProvider>;

export interface RouteEntry {
  method: string;
  url: string;
  access: AccessPolicy;
  audit: string | readonly string[] | false | undefined;
  operationId: string | undefined;
  hasBody: boolean;
  /** The route's own body limit, when it differs from the server's. */
  bodyLimit: number | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every /api/v1 route with its declared access policy and audit actions (walked by tests). */
    routeCatalog: RouteEntry[];
  }
  interface FastifyRequest {
    principal: Principal | null;
    csrfToken: string | null;
    viaCookie: boolean;
    /** An `Authorization: Bearer` key was sent that is unknown or revoked: refused by any route that is not public. */
    apiKeyRefused: boolean;
  }
}

export interface ServerDeps {
  config: Config;
  db: Db;
  log: Logger;
  /** Where the built web app lives; absent in API-only tests. */
  webDistDir?: string;
  /** The card gateway, created once at boot; absent: the routes that need it create the configured one (src/topup/gateway-of.ts). */
  gateway?: Gateway;
  /** The clock use cases read (`ctx.clock`); absent: the system clock. Tests pass a settable one (src/platform/clock.ts). */
  clock?: Clock;
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The built web app's files: those under assets/ have their content's hash in their names, so a browser keeps them for
 * a year without asking again; anything else (index.html, which names them) is checked with the server every time.
 */
function webCacheControl(webDistDir: string, filePath: string): string {
  return path.relative(webDistDir, filePath).startsWith(`assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
}

/**
 * Send a success answer our own code assembled field by field, as JSON, without the route's zod encode (ADR 0005
 * amendments: the transactions feed, a calls batch's results). The route's schema still documents it; tests hold the
 * answers to it, strictly. Called with the answer already computed, so a failure on the way to it is answered by the
 * error handler as any other (problem+json, through its own schema).
 */
export function sendAsBuilt(reply: FastifyReply, answer: unknown): FastifyReply {
  return reply.type('application/json; charset=utf-8').serializer((payload: unknown) => JSON.stringify(payload)).send(answer);
}

/** The per-request context handed to use cases. */
export function ctxOf(req: FastifyRequest, deps: ServerDeps): Ctx {
  return {
    db: deps.db,
    config: deps.config,
    log: req.log as unknown as Logger,
    principal: req.principal ?? ANONYMOUS,
    requestId: req.id,
    ip: req.ip,
    userAgent: req.headers['user-agent'] ?? null,
    clock: deps.clock ?? systemClock,
  };
}

/** The reason phrases of what the HTTP parser refuses (clientErrorHandler in buildServer). */
const TITLE_OF_CLIENT_ERROR = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' } as const;

interface ValidationItem {
  instancePath: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** One entry per offending field; an unknown field is named by its own path. */
function validationErrors(validation: ValidationItem[], context: string | undefined): FieldError[] {
  return validation.flatMap((v) => {
    const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
    // A header is named as the API documents it (`Idempotency-Key`, `If-Match`), not as Node lowercases it.
    const base = context === 'headers' ? path.replace(/(^|-)([a-z])/g, (_m, dash: string, letter: string) => `${dash}${letter.toUpperCase()}`) : path;
    const keys = v.keyword === 'unrecognized_keys' && Array.isArray(v.params?.keys) ? (v.params.keys as string[]) : null;
    if (keys) return keys.map((k) => ({ path: base ? `${base}.${k}` : k, message: 'unknown field' }));
    return [{ path: base === '' ? (context ?? 'body') : base, message: v.message ?? 'invalid' }];
  });
}

async function enforceAccess(req: FastifyRequest, policy: AccessPolicy, deps: ServerDeps): Promise<void> {
  const p = req.principal;
  if (policy.audience === 'public') return;
  if (req.apiKeyRefused) throw new DomainError('not_signed_in', 'Unknown or revoked API key');
  if (!p) throw new DomainError('not_signed_in', 'Sign in to continue');
  if (req.viaCookie && UNSAFE_METHODS.has(req.method)) {
    const sent = req.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || sent !== req.csrfToken) throw new DomainError('csrf_token_invalid', `Missing or wrong ${CSRF_HEADER} header`);
  }
  switch (policy.audience) {
    case 'signed_in':
      if (p.kind === 'api_key') throw new DomainError('forbidden', 'This operation needs a signed-in person, not an API key');
      return;
    case 'operator':
      if (p.kind !== 'operator') throw new DomainError('forbidden', 'Only the platform operator can do this');
      return;
    case 'staff':
      if (p.kind === 'staff') {
        if (policy.app !== null && !p.apps.has(policy.app)) throw new DomainError('app_not_granted', `You have not been granted the ${policy.app} app`);
        return;
      }
      if (p.kind === 'api_key' && policy.apiKeys && policy.app !== null) {
        if (!p.apps.has(policy.app)) throw new DomainError('app_not_granted', `This API key is not allowed to use the ${policy.app} app`);
        return;
      }
      throw new DomainError('forbidden', 'Only partner staff can do this');
    case 'customer': {
      if (p.kind !== 'customer') throw new DomainError('forbidden', 'Only user-portal users can do this');
      if (policy.roles && !policy.roles.includes(p.role)) throw new DomainError('role_not_allowed', `Your role (${p.role}) cannot do this`);
      if (policy.tab) {
        const tab = policy.tab;
        const tabs = await portalTabsOf(deps.db, p.partnerId);
        if (tabs && tabs[tab] === false) throw new DomainError('tab_hidden', `The ${tab} tab is hidden by your provider`);
      }
      return;
    }
  }
}

/**
 * A request's URL as the log writes it: the secret of a link (an invitation's token in its path, any `token=` query
 * value: reset and verification links) is masked as the mailboxes mask it, since whoever reads the log could use it.
 */
export function urlForLog(url: string): string {
  return url
    .replace(/(\/auth\/invitations\/)(?!accept(?:[/?#]|$))[^/?#]+/i, `$1${MASK}`)
    .replace(/(token=)[^&#]*/gi, `$1${MASK}`);
}

/** What a log line says of its request (Fastify's own fields), its URL masked (urlForLog). */
/**
 * The OpenAPI transform of the zod type provider, plus the Retry-After header on a throttled route's 429
 * (`throttledProblem` in schemas.ts), shown as the problem+json it is: the type provider keeps a response's schema and
 * description, not its headers.
 */
const withRetryAfterHeaders: typeof jsonSchemaTransform = (doc) => {
  const out = jsonSchemaTransform(doc);
  const declared = (doc.schema as { response?: Record<string, unknown> } | undefined)?.response ?? {};
  const responses = (out.schema as { response?: Record<string, Record<string, unknown>> } | undefined)?.response;
  for (const [status, schema] of Object.entries(declared)) {
    const response = responses?.[status];
    if (!responses || !response || !answersRetryAfter(schema)) continue;
    const { description, ...problem } = response;
    responses[status] = { description, headers: { 'Retry-After': retryAfterHeader }, content: { 'application/problem+json': { schema: problem } } };
  }
  return out;
};

function requestForLog(req: FastifyRequest) {
  return { method: req.method, url: urlForLog(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

/**
 * One access-log line per request, when it completes (method, URL, status, response time, request id), instead of
 * Fastify's two (incoming, then completed): each line is a write to the log, and two were ~8% of the server's CPU.
 */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: { log: FastifyRequest['log']; elapsedTime: number }): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

/**
 * Which `X-Forwarded-For` hops are believed (TRUST_PROXY): the client's address (audit trail, sign-in throttle) is the
 * nearest hop not trusted, so a client cannot name its own by writing the header itself. `true` is one proxy in front
 * (the address it appended is the client's), a number N that many, or a comma list of the proxies' addresses or CIDRs;
 * unset or `false`, none. Hop counts are a function: Fastify itself reads `true` as every hop and a number as none.
 */
export function trustProxyOf(value: string | undefined): false | string[] | ((address: string, hop: number) => boolean) {
  const v = value?.trim() ?? '';
  if (v === '' || v === 'false' || v === '0') return false;
  const hops = v === 'true' ? 1 : /^\d+$/.test(v) ? Number(v) : null;
  if (hops !== null) return (_address, hop) => hop < hops;
  return v.split(',').map((a) => a.trim()).filter((a) => a !== '');
}

export async function buildServer(deps: ServerDeps): Promise<FolioApp> {
  const app = Fastify({
    // Every line that names its request (the access log's, an error's) says it through requestForLog.
    loggerInstance: deps.log.child({}, { serializers: { req: requestForLog } }),
    logController: new AccessLog(),
    bodyLimit: deps.config.bodyLimitBytes,
    genReqId: () => newRequestId(),
    trustProxy: trustProxyOf(process.env.TRUST_PROXY),
    routerOptions: { ignoreTrailingSlash: true },
    // What the router refuses before any route runs (a path parameter over 100 characters, a malformed URL) answers in
    // problem+json as everything else does, not in Fastify's own error shape.
    frameworkErrors: (err, req, reply) => {
      const [status, code, detail]: [400 | 500, string, string] = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? [400, 'malformed_request', 'A path parameter is too long (at most 100 characters)']
        : err.code === 'FST_ERR_BAD_URL' ? [400, 'malformed_request', 'The URL is not valid (a malformed percent-encoding)']
          : [500, 'internal_error', 'Something went wrong on our side'];
      if (status === 500) req.log.error({ err }, 'framework error');
      void (reply as unknown as FastifyReply).code(status).type('application/problem+json').send(problem(status, code, detail, req.id));
    },
    // What Node's HTTP parser refuses before Fastify sees a request (headers or a URL over its 16 KiB, a malformed request
    // line) answers in problem+json too; the connection is closed after it, as Node does.
    clientErrorHandler: (err, socket) => {
      const code = (err as { code?: string }).code;
      if (code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      const [status, reason, detail]: [400 | 408 | 431, string, string] = code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'The request line and headers are too large (at most 16 KiB): send long values in a body']
        : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request_timeout', 'The request did not arrive in time']
          : [400, 'malformed_request', 'The request is not valid HTTP'];
      const body = JSON.stringify(problem(status, reason, detail));
      socket.end(`HTTP/1.1 ${status} ${TITLE_OF_CLIENT_ERROR[status]}\r\nContent-Type: application/problem+json\r\n`
        + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
  }).withTypeProvider<ZodTypeProvider>() as unknown as FolioApp;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('principal', null);
  app.decorateRequest('csrfToken', null);
  app.decorateRequest('viaCookie', false);
  app.decorateRequest('apiKeyRefused', false);

  const NO_QUERY = z.strictObject({});
  const NO_BODY = z.strictObject({}).nullish();
  // Every route declares who may call it; refuse to start otherwise.
  const routeCatalog: RouteEntry[] = [];
  app.decorate('routeCatalog', routeCatalog);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/v1')) return;
    const access = route.config?.access;
    if (!access) throw new Error(`route METHOD ${route.url} declares no access policy`.replace('METHOD', String(route.method)));
    const schema = route.schema;
    // Unknown fields are rejected, not ignored (api-conventions): a route that takes no query string refuses one, and a
    // write that takes no body refuses fields in one (`?dryRun=true` on a payment, `{"endsOn":…}` on ending a
    // discount were silently dropped while the write went through).
    if (schema) {
      schema.querystring ??= NO_QUERY;
      const writes = [route.method].flat().some((m) => m === 'POST' || m === 'PUT' || m === 'PATCH');
      if (writes && schema.body === undefined && !route.config?.rawBody) schema.body = NO_BODY;
    }
    const operationId = schema?.operationId;
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      routeCatalog.push({ method: String(method), url: route.url, access, audit: route.config?.audit, operationId, hasBody: schema?.body !== undefined, bodyLimit: route.bodyLimit });
    }
  });

  await app.register(fastifyCookie);
  // Security headers on every response (helmet's defaults and our content security policy), the middleware built once:
  // the Fastify plugin builds it again for each request (its options parsed each time, ~4% of the server's CPU).
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'", "'unsafe-inline'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        // Served over plain HTTP (a partner's own network), asking browsers to fetch the page's scripts and styles over
        // HTTPS would leave it blank: only over HTTPS, as HSTS.
        'upgrade-insecure-requests': deps.config.secureCookies ? [] : null,
      },
    },
    strictTransportSecurity: deps.config.secureCookies,
  });
  app.addHook('onRequest', (request, reply, done) => {
    securityHeaders(request.raw, reply.raw, () => done());
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Folio API', version: '1.0.0', description: 'Billing and finance for cloud-communications resellers. Errors are RFC 9457 problem+json with a stable `code`.' },
      servers: [{ url: deps.config.publicUrl }],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
          apiKey: { type: 'http', scheme: 'bearer' },
        },
      },
    },
    transform: withRetryAfterHeaders,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs' });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    // API answers are a signed-in person's invoices, points and PDFs: no browser cache or proxy keeps a copy (a route
    // may say otherwise, as the invoice logo does).
    if (req.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) {
      // A key that is not (or no longer) valid is refused by the route's access policy (enforceAccess), so public
      // routes (the health check, sign-in) still answer whoever sends a stale one.
      req.principal = await resolveApiKey(deps.db, auth.slice(7).trim());
      req.apiKeyRefused = req.principal === null;
      return;
    }
    const token = req.cookies[SESSION_COOKIE];
    if (token) {
      const session = await resolveSession(deps.db, token, deps.config.sessionIdleMinutes);
      if (session) {
        req.principal = session.principal;
        req.csrfToken = session.csrfToken;
        req.viaCookie = true;
      }
    }
  });

  // Access is decided before the body is validated: a caller who may not use a route learns nothing about its schema.
  app.addHook('preValidation', async (req) => {
    const policy = req.routeOptions.config.access;
    if (policy) await enforceAccess(req, policy, deps);
    // Text PostgreSQL cannot store (a NUL, a lone surrogate), refused before any work (src/platform/nul-text.ts).
    for (const [part, value] of [['params', req.params], ['query', req.query], ['body', req.routeOptions.config.bodyTextChecked ? null : req.body]] as const) {
      const found = findUnstorableText(value);
      if (found !== null) {
        const field = found.path === '' ? part : found.path; // named as schema errors name them: the field's own path
        throw new DomainError('validation_failed', `Invalid ${part}: ${field}: ${found.message}`, [{ path: field, message: found.message }]);
      }
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const send = (status: number, code: string, detail: string, errors?: FieldError[]) =>
      reply.code(status).type('application/problem+json').send(problem(status, code, detail, req.id, errors));
    if (err instanceof RetryLater) reply.header('retry-after', String(err.retryAfterSeconds));
    if (err instanceof DomainError) return send(err.status, err.code, err.message, err.errors);
    if (hasZodFastifySchemaValidationErrors(err)) {
      const context = (err as { validationContext?: string }).validationContext;
      const errors = validationErrors(err.validation, context);
      // Every issue a rule (`asRule`: a date after the one it must precede ...), none a malformed value: 422 (docs/adr/0040).
      if (err.validation.every((v) => v.keyword === 'custom' && isRuleIssue(v.params))) {
        return send(422, 'rule_violation', `${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
      }
      return send(400, 'validation_failed', `Invalid ${context ?? 'request'}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
    }
    if (isResponseSerializationError(err)) {
      req.log.error({ err, issues: err.cause.issues }, 'response did not match its schema');
      return send(500, 'internal_error', 'Something went wrong on our side');
    }
    const fe = err as { statusCode?: number; code?: string; message?: string };
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      // The route's own limit where it has one (the invoice logo's 256 KiB, a calls batch's 8 MiB), else the server's.
      return send(413, 'body_too_large', `Request body exceeds ${req.routeOptions.bodyLimit ?? deps.config.bodyLimitBytes} bytes`);
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return send(415, 'unsupported_media_type', 'Send application/json');
    if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (err instanceof SyntaxError && fe.statusCode === 400)) {
      return send(400, 'malformed_request', 'The body is not valid JSON');
    }
    if (fe.statusCode === 429) return send(429, 'too_many_requests', fe.message ?? 'Too many requests');
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return send(fe.statusCode, 'malformed_request', fe.message ?? 'Bad request');
    req.log.error({ err }, 'unhandled error');
    return send(500, 'internal_error', 'Something went wrong on our side');
  });

  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/api/')) {
      return reply.code(404).type('application/problem+json').send(problem(404, 'not_found', `No route ${req.method} ${req.url.split('?')[0]}`, req.id));
    }
    const dist = deps.webDistDir;
    if (req.method === 'GET' && dist && fs.existsSync(path.join(dist, 'index.html'))) {
      return reply.type('text/html').sendFile('index.html');
    }
    return reply.code(404).type('application/problem+json').send(problem(404, 'not_found', 'Not found', req.id));
  });

  app.get('/healthz', { config: { access: { audience: 'public' } }, schema: { hide: true } }, async (_req, reply) => {
    await deps.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
    return reply.send({ status: 'ok' });
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerIdempotency(app, deps.db);
  registerRoutes(app, deps);

  if (deps.webDistDir && fs.existsSync(deps.webDistDir)) {
    await app.register(fastifyStatic, {
      root: deps.webDistDir, wildcard: false, index: false,
      // The build writes .br and .gz copies (vite.config.ts): sent to browsers that accept them, with Vary.
      preCompressed: true,
      // Those copies are sent in place of their file, never as files of their own (an address ending .br or .gz is no file).
      allowedPath: (pathName) => !/\.(br|gz)$/.test(pathName),
      cacheControl: false,
      setHeaders: (reply, filePath) => {
        reply.header('cache-control', webCacheControl(deps.webDistDir!, filePath));
      },
    });
    // The app's page: its router sends a signed-in person to their own area (admin, portal, operator) and anyone else to
    // sign-in, loading only that area's code (a redirect to /admin sent customers through the admin apps' chunk first).
    app.get('/', { config: { access: { audience: 'public' } }, schema: { hide: true } }, async (_req, reply) => reply.type('text/html').sendFile('index.html'));
  }
  return app;
}
