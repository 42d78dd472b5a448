import { QueryClient } from "@tanstack/react-query";

/**
 * The one resource cache of the window. Nothing goes stale by time: the backend says when
 * something changed (events, see `events.ts`), and the cache re-reads then. Failed reads are
 * not retried behind the user's back: the pages show the error and offer to try again.
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: Infinity,
        gcTime: 5 * 60_000,
        retry: false,
        refetchOnWindowFocus: false,
        refetchOnReconnect: false,
      },
      mutations: { retry: false },
    },
  });
}
