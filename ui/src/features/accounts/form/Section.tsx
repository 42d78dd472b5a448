import type { ReactNode } from "react";

export function Section({ id, title, description, children }: { id: string; title: string; description?: ReactNode; children: ReactNode }) {
  return (
    <section className="card form-section" aria-labelledby={`${id}-title`}>
      <header className="form-section-header">
        <h2 className="form-section-title" id={`${id}-title`}>
          {title}
        </h2>
        {description ? <p className="form-section-description">{description}</p> : null}
      </header>
      <div className="form-section-body">{children}</div>
    </section>
  );
}
