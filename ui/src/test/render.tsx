import type { ReactNode } from "react";
import { DataProvider } from "../data/DataProvider";
import { createQueryClient } from "../data/queryClient";

/** A fresh resource cache for one rendered component tree, without backend events. */
export function TestData({ children }: { children: ReactNode }) {
  return (
    <DataProvider client={createQueryClient()} live={false}>
      {children}
    </DataProvider>
  );
}
