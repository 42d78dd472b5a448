import type { KeyboardEvent } from "react";
import { addInstruments } from "../lib/accountForm";
import { describedBy } from "./Field";

interface TagInputProps {
  id: string;
  tags: string[];
  draft: string;
  onChange: (tags: string[], draft: string) => void;
  placeholder?: string;
  help?: string;
  error?: string | undefined;
  /** Tags the backend rejected; marked until the error is cleared. */
  invalid?: readonly string[];
  /** The accessible name of the list of tags. */
  listLabel?: string;
}

/** Symbols as removable tags: type and press Enter or comma; pasting a list works too. */
export function TagInput({ id, tags, draft, onChange, placeholder, help, error, invalid = [], listLabel = "Selected instruments" }: TagInputProps) {
  const commit = () => {
    if (draft.trim() !== "") onChange(addInstruments(tags, draft), "");
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter" || e.key === ",") {
      e.preventDefault();
      commit();
    } else if (e.key === "Backspace" && draft === "" && tags.length > 0) {
      onChange(tags.slice(0, -1), "");
    }
  };

  return (
    <div className={`tag-input${error ? " is-invalid" : ""}`}>
      <ul className="tag-list" aria-label={listLabel}>
        {tags.map((t) => (
          <li key={t} className={`tag${invalid.includes(t) ? " is-invalid" : ""}`}>
            <span className="mono">{t}</span>
            {invalid.includes(t) ? <span className="sr-only"> (not accepted)</span> : null}
            <button
              type="button"
              className="tag-remove"
              aria-label={`Remove ${t}`}
              onClick={() => onChange(tags.filter((x) => x !== t), draft)}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <input
        id={id}
        className="tag-input-field"
        value={draft}
        placeholder={tags.length === 0 ? placeholder : "Add another…"}
        spellCheck={false}
        autoCapitalize="characters"
        onChange={(e) => {
          const value = e.target.value;
          // A pasted or typed separator turns what came before it into tags.
          const cut = Math.max(value.lastIndexOf(","), value.lastIndexOf(";"), value.lastIndexOf("\n"));
          if (cut >= 0) onChange(addInstruments(tags, value.slice(0, cut)), value.slice(cut + 1));
          else onChange(tags, value);
        }}
        onKeyDown={onKeyDown}
        onBlur={commit}
        {...describedBy(id, help, error)}
      />
    </div>
  );
}
