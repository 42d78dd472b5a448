import * as api from "../api/client";

/** How the text reached the clipboard: through the shell (cleared after 30 s) or the web API. */
export type CopyRoute = "shell" | "browser";

/**
 * Copies text through the shell's clipboard command (the app's one way to the OS clipboard: the
 * webview has no clipboard permission; it clears the text again after 30 s), or, where there is
 * no shell (a plain browser), through `navigator.clipboard`. Rejects with the shell's error when
 * neither works.
 */
export async function copyText(text: string): Promise<CopyRoute> {
  try {
    await api.clipboardWriteSecret(text);
    return "shell";
  } catch (error) {
    const web = typeof navigator === "undefined" ? undefined : navigator.clipboard;
    if (!web?.writeText) throw error;
    try {
      await web.writeText(text);
    } catch {
      throw error;
    }
    return "browser";
  }
}
