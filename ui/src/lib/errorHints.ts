import { Code } from "../api/errors";
import { asSentence } from "./labels";
import type { Code as CodeName } from "../bindings/Code";

/**
 * Returns a sentence of guidance for error codes whose message alone does not say what to do,
 * or null. The message itself always comes from the backend.
 */
export function errorHint(code: CodeName): string | null {
  switch (code) {
    case Code.CiphertextTampered:
      return "A stored secret failed its integrity check, so the data file may have been changed outside Brokerdesk. Re-enter that account's credentials.";
    case Code.StateTampered:
      return "Settings that protect your money were changed outside Brokerdesk (malware running as you, or a synced or copied data folder, can do this). Check what the message names before trusting it again.";
    case Code.CiphertextMisbound:
      return "A stored secret belongs to a different record than the one it was found in. Re-enter that account's credentials.";
    case Code.Storage:
      return "Brokerdesk could not read or write its data folder. Check the disk has space and the folder is writable, then try again.";
    case Code.KeychainUnavailable:
      return "The OS keychain cannot be reached right now. Use a master password instead.";
    case Code.Internal:
      return "This is a bug in Brokerdesk. Trying again may help.";
    default:
      return null;
  }
}

/**
 * What to say when a change failed. A two-factor prompt the user cancelled is not a failure to
 * shout about: it only means nothing changed.
 */
export function changeFailure(error: { code: CodeName; message: string }): string {
  return error.code === Code.StepUpRequired ? "Nothing was changed: the two-factor check was cancelled." : asSentence(error.message);
}
