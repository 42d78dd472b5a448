import type { ReactNode } from "react";
import type { BrokerdeskError } from "../api/errors";
import { errorHint } from "../lib/errorHints";
import { asSentence } from "../lib/labels";
import { Icon } from "./Icon";

/** An inline message box. Danger banners are announced immediately (role="alert"). */
export function Banner({ tone = "info", title, children }: { tone?: "info" | "danger" | "warning" | "success"; title?: string; children?: ReactNode }) {
  return (
    <div className={`banner banner-${tone}`} role={tone === "danger" ? "alert" : "note"}>
      <Icon name={tone === "info" ? "info" : tone === "success" ? "check" : "alert"} size={18} className="banner-icon" />
      <div className="banner-content">
        {title ? <p className="banner-title">{title}</p> : null}
        {children ? <div className="banner-text">{children}</div> : null}
      </div>
    </div>
  );
}

export function Spinner({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

/** The backend's message, plus guidance for codes whose message does not say what to do. */
export function ErrorText({ error }: { error: BrokerdeskError }) {
  const hint = errorHint(error.code);
  return (
    <>
      <p>{asSentence(error.message)}</p>
      {hint ? <p className="muted">{hint}</p> : null}
    </>
  );
}
