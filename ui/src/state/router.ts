import { useSyncExternalStore } from "react";

export type Route =
  | { page: "dashboard" }
  | { page: "accounts" }
  | { page: "account-new" }
  | { page: "account-edit"; id: string }
  | { page: "trade"; id?: string; symbol?: string }
  | { page: "security" }
  | { page: "activity" }
  | { page: "settings" };

export type Page = Route["page"];

/** Parses a location hash (`#/accounts/abc`) into a route; anything unknown is the dashboard. */
export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const [first, second] = parts;
  switch (first) {
    case "accounts":
      if (second === "new") return { page: "account-new" };
      if (second) return { page: "account-edit", id: second };
      return { page: "accounts" };
    case "trade":
      return { page: "trade", ...(second ? { id: second } : {}), ...(parts[2] ? { symbol: parts[2] } : {}) };
    case "security":
    case "activity":
    case "settings":
      return { page: first };
    default:
      return { page: "dashboard" };
  }
}

export function routeHref(route: Route): string {
  switch (route.page) {
    case "dashboard":
      return "#/";
    case "account-new":
      return "#/accounts/new";
    case "account-edit":
      return `#/accounts/${encodeURIComponent(route.id)}`;
    case "trade":
      return `#/trade${route.id ? `/${encodeURIComponent(route.id)}` : ""}${route.id && route.symbol ? `/${encodeURIComponent(route.symbol)}` : ""}`;
    default:
      return `#/${route.page}`;
  }
}

export function navigate(route: Route): void {
  window.location.hash = routeHref(route);
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
}

const getHash = () => window.location.hash;

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, getHash, () => "");
  return parseHash(hash);
}
