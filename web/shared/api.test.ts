import { describe, expect, it } from 'vitest';
import { ApiError, isFinalRefusal, isRetryable, isStale, newIdempotencyKey } from './api.ts';

describe('Idempotency-Keys in the browser', () => {
  it('are the prefix and 32 hex digits, new each time', () => {
    const keys = new Set(Array.from({ length: 1_000 }, () => newIdempotencyKey('buy')));
    expect(keys.size).toBe(1_000);
    for (const key of keys) expect(key).toMatch(/^buy-[0-9a-f]{32}$/);
  });

  it('are renewed after a refusal, not while the same key is still being worked on nor after a 5xx or a lost answer', () => {
    expect(isFinalRefusal(new ApiError(409, 'state_conflict', 'The customer is suspended'))).toBe(true);
    expect(isFinalRefusal(new ApiError(422, 'idempotency_key_reused', 'already used'))).toBe(true);
    expect(isFinalRefusal(new ApiError(400, 'validation_failed', 'quantity: at most 1000'))).toBe(true);
    expect(isFinalRefusal(new ApiError(409, 'idempotency_key_in_progress', 'still being processed'))).toBe(false);
    expect(isFinalRefusal(new ApiError(500, 'internal', 'Internal error'))).toBe(false);
    expect(isFinalRefusal(new ApiError(503, 'unavailable', 'Try again'))).toBe(false);
    expect(isFinalRefusal(new TypeError('Failed to fetch'))).toBe(false);
  });
});

describe('a write refused because its resource changed', () => {
  it('is a 412 (If-Match named another version), and nothing else is', () => {
    expect(isStale(new ApiError(412, 'precondition_failed', 'The subscription changed since you read it'))).toBe(true);
    expect(isStale(new ApiError(409, 'state_conflict', 'The subscription is terminated'))).toBe(false);
    expect(isStale(new ApiError(400, 'validation_failed', 'if-match: too long'))).toBe(false);
    expect(isStale(new TypeError('Failed to fetch'))).toBe(false);
  });
});

describe('a failed request worth asking again', () => {
  it('is one that did not reach the server, or that it failed or asked to wait for', () => {
    expect(isRetryable(new ApiError(0, 'network_error', 'Cannot reach the server'))).toBe(true);
    expect(isRetryable(new ApiError(500, 'internal', 'Internal error'))).toBe(true);
    expect(isRetryable(new ApiError(503, 'http_503', 'The server had a problem'))).toBe(true);
    expect(isRetryable(new ApiError(429, 'rate_limited', 'Too many requests'))).toBe(true);
    expect(isRetryable(new TypeError('Failed to fetch'))).toBe(true);
  });

  it('is not a refusal, which answers the same every time', () => {
    expect(isRetryable(new ApiError(409, 'invoice_not_payable', 'INV-1: it is paid'))).toBe(false);
    expect(isRetryable(new ApiError(403, 'role_not_allowed', 'Only owners and admins'))).toBe(false);
    expect(isRetryable(new ApiError(404, 'not_found', 'Not found'))).toBe(false);
  });
});
