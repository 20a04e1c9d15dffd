import { DomainError } from './errors.ts';

/**
 * A throttled request whose wait is known (a locked account, an hourly cap): answered 429 with `Retry-After`, in whole
 * seconds, at least 1 (src/platform/server.ts's error handler), so a client waits as long as it must and no longer.
 */
export class RetryLater extends DomainError {
  readonly retryAfterSeconds: number;
  constructor(code: 'account_locked' | 'too_many_requests', detail: string, retryAfterSeconds: number) {
    super(code, detail);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}
