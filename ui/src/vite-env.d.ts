/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** "1" in the browser-test build, which swaps the Tauri backend for an in-memory one. */
  readonly VITE_E2E_MOCK?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
