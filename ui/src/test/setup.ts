import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";

// Two cores shared with other work: give async queries room before they fail.
configure({ asyncUtilTimeout: 4000 });

// jsdom does not lay out, so it has no scrolling; the UI only uses it as a nicety.
// Files that need Node's own WebCrypto run with `@vitest-environment node` (no DOM at all).
const hasDom = typeof window !== "undefined";
if (hasDom && !Element.prototype.scrollIntoView) Element.prototype.scrollIntoView = () => {};

afterEach(() => {
  if (!hasDom) return;
  cleanup();
  localStorage.clear();
  window.location.hash = "";
});
