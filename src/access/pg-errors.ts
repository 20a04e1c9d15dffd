/** PostgreSQL's unique_violation: a row with the same key exists (possibly hidden from this scope, or inserted concurrently). */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}
