// Starts a real `celltrace serve` on a fresh database and drives Debian's
// Chromium with playwright-core. Each test saves a screenshot in
// artifacts/screenshots so a person can look at what the browser showed.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import net from "node:net";
import { chromium } from "playwright-core";

const root = resolve(import.meta.dirname, "../..");
// The binary cargo built: CELLTRACE_BIN when given, else in CARGO_TARGET_DIR
// (relative to the workspace, as cargo reads it) or the workspace's target/.
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(root, process.env.CARGO_TARGET_DIR) : join(root, "target");
export const binary = process.env.CELLTRACE_BIN ?? join(targetDir, "debug/celltrace");
export const shots = join(root, "artifacts/screenshots");
mkdirSync(shots, { recursive: true });

async function freePort() {
  return new Promise((done, fail) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
    server.on("error", fail);
  });
}

export async function startServer({ demo }) {
  const dir = mkdtempSync(join(tmpdir(), "celltrace-browser-"));
  // The key apart from the database: serve refuses one beside it.
  mkdirSync(join(dir, "keys"));
  const port = await freePort();
  const args = ["serve", "--listen", `127.0.0.1:${port}`, "--database-url", join(dir, "celltrace.db"), "--signing-key", join(dir, "keys", "celltrace.key")];
  if (demo) args.push("--demo");
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CELLTRACE_LOG: "warn" } });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) break;
    } catch {}
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`celltrace did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base, stop: () => child.kill("SIGTERM") };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export async function signIn(page, base, username, password = "celltrace-demo") {
  await page.goto(`${base}/login`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/`);
}

export async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}
