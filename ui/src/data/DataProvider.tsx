import { QueryClientProvider } from "@tanstack/react-query";
import type { QueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { ReactNode } from "react";
import { connectCacheToEvents } from "./events";
import { createQueryClient } from "./queryClient";

/**
 * The window's resource cache, kept current by the backend's events. Tests pass their own
 * `client` (a fresh cache each) and `live={false}` (no event subscription); the app makes one.
 */
export function DataProvider({ children, client, live = true }: { children: ReactNode; client?: QueryClient; live?: boolean }) {
  const [qc] = useState(() => client ?? createQueryClient());
  useEffect(() => (live ? connectCacheToEvents(qc) : undefined), [qc, live]);
  return <QueryClientProvider client={qc}>{children}</QueryClientProvider>;
}
