/**
 * Expected failures are DomainErrors with a stable snake_case code; the HTTP status of each code is decided here, in one place.
 * Broken invariants are `assert`ions: they stop the request with a 500 and are logged.
 */
const STATUS_BY_CODE = {
  validation_failed: 400,
  malformed_request: 400,
  webhook_signature_invalid: 400,
  not_signed_in: 401,
  invalid_credentials: 401,
  session_expired: 401,
  two_factor_invalid: 401,
  csrf_token_invalid: 403,
  forbidden: 403,
  app_not_granted: 403,
  // Granting, or inviting with, an app the caller does not hold itself (docs/adr/0039); names the field.
  app_not_held: 403,
  role_not_allowed: 403,
  tab_hidden: 403,
  email_not_verified: 403,
  not_found: 404,
  conflict: 409,
  already_exists: 409,
  state_conflict: 409,
  stale_version: 409,
  currency_locked: 409,
  notification_not_resendable: 409,
  customer_has_owner: 409,
  sku_taken: 409,
  product_archived: 409,
  reactivation_window_closed: 409,
  idempotency_key_in_progress: 409,
  invoice_not_payable: 409,
  invoice_not_creditable: 409,
  credit_note_not_draft: 409,
  payment_in_progress: 409,
  invoice_not_draft: 409,
  invoice_not_voidable: 409,
  invoice_has_pending_subscription: 409,
  invoice_not_issued: 409,
  // The number a document is about to take is already an issued document's (docs/adr/0041): staff change the format.
  document_number_taken: 409,
  customer_not_active: 409,
  payment_reversed: 409,
  payment_unassigned: 409,
  payment_already_assigned: 409,
  bank_line_decided: 409,
  discount_overlap: 409,
  discount_started: 409,
  discount_ended: 409,
  policy_version_in_effect: 409,
  contact_sales_not_configured: 409,
  precondition_failed: 412,
  body_too_large: 413,
  unsupported_media_type: 415,
  rule_violation: 422,
  insufficient_points: 422,
  currency_mismatch: 422,
  saved_card_required: 422,
  import_has_errors: 422,
  credit_limit_in_use: 422,
  reservation_not_active: 409,
  token_invalid: 422,
  idempotency_key_reused: 422,
  card_declined: 422,
  insufficient_funds: 422,
  amount_exceeds_due: 422,
  credit_exceeds_creditable: 422,
  credit_exceeds_line: 422,
  credit_exceeds_due: 422,
  refund_exceeds_paid: 422,
  amount_exceeds_unallocated: 422,
  nothing_to_allocate: 422,
  card_required: 422,
  invoice_total_zero: 422,
  discount_exceeds_gross: 422,
  // An id in a request's body (or a query parameter that must name something) that is unknown or another partner's:
  // the same 422 for both, naming the field (unknownId below; docs/adr/0037). An id in the path is a 404 `not_found`.
  product_not_found: 422,
  customer_not_found: 422,
  price_not_found: 422,
  invoice_not_found: 422,
  saved_card_not_found: 422,
  image_invalid: 422,
  account_locked: 429,
  too_many_requests: 429,
  request_timeout: 408,
  headers_too_large: 431,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof STATUS_BY_CODE;

export interface FieldError {
  path: string;
  message: string;
}

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  constructor(code: ErrorCode, detail: string, errors?: FieldError[]) {
    super(detail);
    this.name = 'DomainError';
    this.code = code;
    this.errors = errors;
  }
  get status(): number {
    return STATUS_BY_CODE[this.code];
  }
}

export function statusOf(code: ErrorCode): number {
  return STATUS_BY_CODE[code];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  408: 'Request Timeout',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  requestId?: string;
}

export function problem(status: number, code: string, detail: string, requestId?: string, errors?: FieldError[]): Problem {
  return {
    type: `https://folio.test/problems/${code.replaceAll('_', '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(errors && errors.length > 0 ? { errors } : {}),
    ...(requestId ? { requestId } : {}),
  };
}

/**
 * A request's field problems collected before one answer (every bad field named at once). Malformed values come first:
 * when any field is malformed the answer is 400 `validation_failed` naming every bad field (as a schema's 400 does);
 * only when every field is well-formed are the rules' refusals given (422, the first rule's code, naming each field
 * refused with that code). docs/adr/0040.
 */
export class FieldProblems {
  readonly list: { code: ErrorCode; error: FieldError }[] = [];
  add(code: ErrorCode, path: string, message: string): void {
    this.list.push({ code, error: { path, message } });
  }
  get size(): number {
    return this.list.length;
  }
  throwIfAny(detail?: (errors: FieldError[]) => string): void {
    if (this.list.length === 0) return;
    const first = this.list.find((p) => p.code === 'validation_failed') ?? this.list[0]!;
    const errors = this.list.filter((p) => first.code === 'validation_failed' || p.code === first.code).map((p) => p.error);
    throw new DomainError(first.code, detail ? detail(errors) : errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
  }
}

export function notFound(what: string): DomainError {
  return new DomainError('not_found', `${what} not found`);
}

/** The codes of an unknown id given in a body or query (not the path): each a 422 naming the field (docs/adr/0037). */
export type UnknownIdCode = 'customer_not_found' | 'product_not_found' | 'price_not_found' | 'invoice_not_found' | 'saved_card_not_found';

/**
 * An id the request gives in its body (or a query parameter that must name something) that is not the caller's: unknown
 * or another partner's, never saying which. 422 `<thing>_not_found` naming the field (`customerId`,
 * `allocations.2.invoiceId`); an id in the path stays a 404 (`notFound`).
 */
export function unknownId(code: UnknownIdCode, path: string, what: string): DomainError {
  return new DomainError(code, `${what} not found`, [{ path, message: `no such ${what.toLowerCase()}` }]);
}
