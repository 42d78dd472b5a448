import { useEffect, useId, useRef, useState } from "react";
import type { AuditEvent } from "../../bindings/AuditEvent";
import { Icon } from "../../components/Icon";
import { CATEGORIES, CATEGORY_LABELS, EVENT_INFO, eventsIn, eventsSummary } from "../../lib/audit";
import type { AuditCategory } from "../../lib/audit";

/** A multi-select of events, grouped by category; a category's box picks all its events. */
export function EventPicker({ value, onChange }: { value: AuditEvent[]; onChange: (events: AuditEvent[]) => void }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const panelId = useId();

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        setOpen(false);
        ref.current?.querySelector("button")?.focus();
      }
    };
    document.addEventListener("mousedown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  const toggleEvent = (event: AuditEvent, on: boolean) => onChange(on ? [...value, event] : value.filter((e) => e !== event));
  const toggleCategory = (category: AuditCategory, on: boolean) => {
    const events = eventsIn(category);
    onChange(on ? [...value.filter((e) => !events.includes(e)), ...events] : value.filter((e) => !events.includes(e)));
  };

  return (
    <div className="picker" ref={ref}>
      <span className="field-label" id={`${panelId}-label`}>
        Events
      </span>
      <button
        type="button"
        className="input picker-button"
        aria-expanded={open}
        aria-controls={panelId}
        aria-labelledby={`${panelId}-label ${panelId}-value`}
        onClick={() => setOpen(!open)}
        title={eventsSummary(value)}
      >
        <span id={`${panelId}-value`}>{eventsSummary(value)}</span>
        <Icon name="chevronDown" size={16} />
      </button>
      <div id={panelId} className="picker-panel" hidden={!open}>
        <div className="picker-top">
          <button type="button" className="link-button" onClick={() => onChange([])} disabled={value.length === 0}>
            Show all events
          </button>
        </div>
        <div className="picker-groups">
          {CATEGORIES.map((category) => {
            const events = eventsIn(category);
            const picked = events.filter((e) => value.includes(e)).length;
            return (
              <fieldset key={category} className={`picker-group cat-${category}`}>
                <legend className="sr-only">{CATEGORY_LABELS[category]}</legend>
                <label className="check-row picker-category">
                  <input
                    type="checkbox"
                    checked={picked === events.length}
                    ref={(el) => {
                      if (el) el.indeterminate = picked > 0 && picked < events.length;
                    }}
                    onChange={(e) => toggleCategory(category, e.target.checked)}
                  />
                  <span className="cat-dot" aria-hidden="true" />
                  <span>{CATEGORY_LABELS[category]}</span>
                </label>
                {events.map((event) => (
                  <label key={event} className="check-row picker-event">
                    <input type="checkbox" checked={value.includes(event)} onChange={(e) => toggleEvent(event, e.target.checked)} />
                    <span>{EVENT_INFO[event].label}</span>
                  </label>
                ))}
              </fieldset>
            );
          })}
        </div>
      </div>
    </div>
  );
}
