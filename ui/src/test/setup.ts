import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";

// Two cores shared with other work: give async queries room before they fail.
configure({ asyncUtilTimeout: 4000 });

// jsdom does not lay out, so it has no scrolling; the UI only uses it as a nicety.
if (!Element.prototype.scrollIntoView) Element.prototype.scrollIntoView = () => {};

afterEach(() => {
  cleanup();
  localStorage.clear();
  window.location.hash = "";
});
