/**
 * PostgreSQL cannot store the NUL character (U+0000) in text: a statement carrying one fails with "invalid byte
 * sequence", which would reach the caller as a 500 after part of the work was tried. JSON and URLs can carry it
 * (`\u0000`, `%00`), so every request is checked at the edge: the first string holding one is named in a 400. So is a
 * lone UTF-16 surrogate (`\ud800` in JSON), which is no text PostgreSQL (or any UTF-8) can hold.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route checks its own body's strings for NUL characters (a batch that rejects record by record, e.g. the
     * calls batch); its query and path parameters are still checked by the server.
     */
    bodyTextChecked?: boolean;
  }
}

/** Containers nested deeper than this are not walked (request bodies are far shallower; schemas bound them anyway). */
const MAX_DEPTH = 32;

/** The path (`lines.2.description`; `''` for the value itself) of the first string or key that `isBad`, or null. */
function findText(value: unknown, isBad: (text: string) => boolean, depth: number): string | null {
  if (typeof value === 'string') return isBad(value) ? '' : null;
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH || ArrayBuffer.isView(value)) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const inner = findText(value[i], isBad, depth + 1);
      if (inner !== null) return inner === '' ? String(i) : `${i}.${inner}`;
    }
    return null;
  }
  for (const [key, inner] of Object.entries(value)) {
    if (isBad(key)) return key;
    const found = findText(inner, isBad, depth + 1);
    if (found !== null) return found === '' ? key : `${key}.${found}`;
  }
  return null;
}

/** The path (`lines.2.description`; `''` for the value itself) of the first string or key holding a NUL, or null. */
export function findNulText(value: unknown): string | null {
  return findText(value, (text) => text.includes('\0'), 0);
}

/**
 * The same for a lone UTF-16 surrogate (JSON's `"\ud800"` with no partner): not text at all, so PostgreSQL's jsonb
 * refuses it (the audit event: a 500) and its text type stores U+FFFD in its place (the caller's words silently changed).
 */
export function findLoneSurrogate(value: unknown): string | null {
  return findText(value, (text) => !text.isWellFormed(), 0);
}

/** The first string of `value` that cannot be stored as sent: its path and what is wrong with it, or null. */
export function findUnstorableText(value: unknown): { path: string; message: string } | null {
  const nul = findNulText(value);
  if (nul !== null) return { path: nul, message: NUL_MESSAGE };
  const surrogate = findLoneSurrogate(value);
  return surrogate === null ? null : { path: surrogate, message: LONE_SURROGATE_MESSAGE };
}

export const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';
export const LONE_SURROGATE_MESSAGE = 'must not contain a lone UTF-16 surrogate (U+D800 to U+DFFF without its pair)';

/** For a schema that checks its own strings (`z.string().regex(NO_NUL, NUL_MESSAGE)`), in a `bodyTextChecked` route. */
export const NO_NUL = /^[^\0]*$/;
