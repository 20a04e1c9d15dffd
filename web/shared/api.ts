/**
 * The one way the web app talks to the API: same-origin fetch with the session cookie, the CSRF header on writes,
 * and RFC 9457 problem+json answers turned into an ApiError with a stable `code`, a `detail` and field `errors`.
 */

export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly errors: FieldError[];
  readonly requestId: string | undefined;

  constructor(status: number, code: string, detail: string, errors: FieldError[] = [], requestId?: string) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.errors = errors;
    this.requestId = requestId;
  }

  /** The message for one field (`email`, `portalTabs.audit`), if the server named it. */
  fieldError(path: string): string | undefined {
    return this.errors.find((e) => e.path === path || e.path === `body.${path}`)?.message;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/** True when the error means "you are not signed in (any more)". */
export function isSignedOut(e: unknown): boolean {
  return isApiError(e) && e.status === 401 && e.code !== 'invalid_credentials' && e.code !== 'two_factor_invalid';
}

/**
 * A new random Idempotency-Key (the server ignores it where a route does not opt in): `prefix-` and 32 hex digits.
 * From `crypto.getRandomValues`, which every page has: `crypto.randomUUID` exists only in a secure context (HTTPS or
 * localhost), and a partner may serve Folio over plain HTTP on its own network.
 */
export function newIdempotencyKey(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * True when the server answered a request and refused it for good (a 4xx): nothing was done, so the next attempt is a new
 * request with a new Idempotency-Key. Not when the same key is still being worked on (`idempotency_key_in_progress`),
 * nor for a 5xx or a lost answer: a retry of those keeps its key, and the server does the work once.
 */
export function isFinalRefusal(e: unknown): boolean {
  return isApiError(e) && e.status >= 400 && e.status < 500 && e.code !== 'idempotency_key_in_progress';
}

/**
 * True when the server refused a write because what it changes was changed since the page read it (412
 * `precondition_failed`: the If-Match named another version). Nothing was written: the page reloads it and says so.
 */
export function isStale(e: unknown): boolean {
  return isApiError(e) && e.status === 412;
}

let csrfToken: string | null = null;

/** The CSRF token comes from the login answer and the session answer; cookie-authenticated writes must send it. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export type QueryValue = string | number | boolean | null | undefined;

export function withQuery(path: string, query?: Record<string, QueryValue>): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  data: T;
  status: number;
  headers: Headers;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

async function toApiError(res: Response): Promise<ApiError> {
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      const p = (await res.json()) as Partial<{ code: string; detail: string; title: string; errors: FieldError[]; requestId: string }>;
      return new ApiError(
        res.status,
        p.code ?? `http_${res.status}`,
        p.detail ?? p.title ?? res.statusText ?? 'Request failed',
        Array.isArray(p.errors) ? p.errors : [],
        p.requestId,
      );
    } catch {
      // fall through to the generic error
    }
  }
  return new ApiError(res.status, `http_${res.status}`, res.status >= 500 ? 'The server had a problem; try again shortly' : `Request failed (${res.status})`);
}

export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (WRITE_METHODS.has(method) && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(withQuery(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network_error', 'Cannot reach the server; check your connection and try again');
  }
  if (!res.ok) throw await toApiError(res);
  if (res.status === 204) return { data: undefined as T, status: res.status, headers: res.headers };
  const type = res.headers.get('content-type') ?? '';
  const data = (type.includes('json') ? await res.json() : await res.text()) as T;
  return { data, status: res.status, headers: res.headers };
}

export const api = {
  get: async <T>(path: string, query?: Record<string, QueryValue>, signal?: AbortSignal): Promise<T> =>
    (await apiRequest<T>(path, { query, signal })).data,
  post: async <T>(path: string, body?: unknown): Promise<T> => (await apiRequest<T>(path, { method: 'POST', body: body ?? {} })).data,
  put: async <T>(path: string, body?: unknown): Promise<T> => (await apiRequest<T>(path, { method: 'PUT', body })).data,
  patch: async <T>(path: string, body: unknown, headers?: Record<string, string>): Promise<T> =>
    (await apiRequest<T>(path, { method: 'PATCH', body, headers })).data,
  delete: async <T>(path: string): Promise<T> => (await apiRequest<T>(path, { method: 'DELETE' })).data,
};

/** A human sentence for any error thrown by a query or mutation. */
export function errorMessage(e: unknown): string {
  if (isApiError(e)) return e.detail;
  if (e instanceof Error) return e.message;
  return 'Something went wrong';
}

/**
 * True when asking again may answer otherwise: the server was not reached, or failed (5xx), or asked to wait (429, 408).
 * A refusal (another 4xx: not found, not allowed, not payable) answers the same every time, so no "Try again" is offered.
 */
export function isRetryable(e: unknown): boolean {
  if (!isApiError(e)) return true;
  return e.status === 0 || e.status >= 500 || e.status === 429 || e.status === 408;
}
