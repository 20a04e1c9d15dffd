import { useSearchParams } from 'react-router';
import type { QueryValue } from './api.ts';

/**
 * A list's filters kept in the page's address, so that a filtered list can be shared, reloaded and come back to: each
 * filter one query parameter, an empty value none. `setFilters` changes the ones given and keeps the others;
 * `clearFilters` drops them all. The address is replaced, not pushed: Back leaves the list instead of undoing a filter
 * at a time.
 */
export function useUrlFilters() {
  const [params, setParams] = useSearchParams();
  const setFilters = (entries: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(entries)) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    setParams(next, { replace: true });
  };
  const clearFilters = () => setParams(new URLSearchParams(), { replace: true });
  return { params, filter: (name: string) => params.get(name) ?? '', setFilters, clearFilters };
}

/** True when any filter has a value (then "Clear filters" has something to do, and an empty list says "no match"). */
export function anyFilter(filters: Record<string, QueryValue>): boolean {
  return Object.values(filters).some((v) => v !== undefined && v !== null && v !== '');
}
