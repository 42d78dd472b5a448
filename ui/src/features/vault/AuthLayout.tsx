import type { ReactNode } from "react";
import { useTheme } from "../../state/ThemeProvider";
import { Icon } from "../../components/Icon";

/** The centred card used before the vault is open (first run, unlock). */
export function AuthLayout({ children, footer, wide }: { children: ReactNode; footer?: ReactNode; wide?: boolean }) {
  const { resolved, toggle } = useTheme();
  return (
    <div className="auth">
      <header className="auth-top">
        <Brand />
        <button
          type="button"
          className="icon-button"
          onClick={toggle}
          aria-label={resolved === "dark" ? "Switch to light theme" : "Switch to dark theme"}
          title={resolved === "dark" ? "Switch to light theme" : "Switch to dark theme"}
        >
          <Icon name={resolved === "dark" ? "sun" : "moon"} />
        </button>
      </header>
      <main className={`auth-card${wide ? " auth-card-wide" : ""}`}>{children}</main>
      {footer ? <footer className="auth-footer">{footer}</footer> : null}
    </div>
  );
}

export function Brand() {
  return (
    <div className="brand">
      <span className="brand-mark" aria-hidden="true">
        <Icon name="brand" size={18} />
      </span>
      <span className="brand-name">Brokerdesk</span>
    </div>
  );
}
