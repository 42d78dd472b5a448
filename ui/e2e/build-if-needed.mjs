// Builds the UI (`npm run build`: type check, then dist/) unless dist/ is newer than every
// source it is built from. The browser tests run the production build, served by the devserver.
import { execSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ui = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = join(ui, "dist", "index.html");

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const sources = ["src", "public", "index.html", "vite.config.ts", "tsconfig.json", "package-lock.json"].map((p) => join(ui, p)).filter(existsSync);
if (!existsSync(built) || Math.max(...sources.map(newest)) > statSync(built).mtimeMs) {
  console.log("building the UI (npm run build)…");
  execSync("npm run build", { cwd: ui, stdio: "inherit" });
}
