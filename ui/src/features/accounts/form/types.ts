import type { AccountFormState } from "../../../lib/accountForm";
import type { FieldErrorMap } from "../../../lib/fieldErrors";

export type FormUpdater = (update: (form: AccountFormState) => AccountFormState) => void;

/** What every section of the account form receives. */
export interface SectionProps {
  form: AccountFormState;
  update: FormUpdater;
  errors: FieldErrorMap;
}
