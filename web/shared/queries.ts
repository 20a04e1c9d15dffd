import { useInfiniteQuery } from '@tanstack/react-query';
import { api, type QueryValue } from './api.ts';
import type { Page } from './types.ts';

/** A cursor-paged list (`{data, nextCursor}`) flattened into rows, with "load more". */
export function usePagedList<T>(
  key: readonly unknown[],
  path: string,
  params: Record<string, QueryValue> = {},
  options: { enabled?: boolean; refetchInterval?: number | false } = {},
) {
  const q = useInfiniteQuery({
    queryKey: [...key, params],
    queryFn: ({ pageParam, signal }) => api.get<Page<T>>(path, { ...params, cursor: pageParam }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: options.enabled,
    refetchInterval: options.refetchInterval,
  });
  const rows = q.data?.pages.flatMap((p) => p.data);
  return { ...q, rows };
}
