/**
 * Drives a real VS Code (code-server 4.100.3) in Debian's headless Chromium through playwright-core, with the built
 * .vsix installed and every directory the editor, the browser and the server write to (HOME, XDG dirs, TMPDIR) in a
 * fresh folder per session. Waits are conditions with deadlines, never fixed sleeps.
 *
 * Needs `scripts/setup-e2e.sh` to have run and `npm run package` to have built tunacode.vsix.
 */
import { spawn, execFileSync, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { chromium, type BrowserContext, type Frame, type Locator, type Page } from "playwright-core";

export const EXT_DIR = path.resolve(__dirname, "..", "..", "..");
export const REPO_ROOT = path.dirname(EXT_DIR);
const CACHE = process.env.TUNACODE_E2E_CACHE ?? path.join(EXT_DIR, ".e2e");
const CODE_SERVER = path.join(CACHE, "code-server", "node_modules", ".bin", "code-server");
const VSIX = path.join(EXT_DIR, "tunacode.vsix");
/** The .vsix that carries the server (`npm run package:bundled`, what `make package` builds). */
export const BUNDLED_VSIX = path.join(EXT_DIR, "tunacode-linux-x64.vsix");
const CHROMIUM = process.env.TUNACODE_E2E_CHROMIUM ?? "/usr/bin/chromium";
export const ARTIFACTS = path.join(EXT_DIR, "test-artifacts");
const KEEP = process.env.TUNACODE_E2E_KEEP === "1";

const pkg = JSON.parse(fs.readFileSync(path.join(EXT_DIR, "package.json"), "utf8")) as {
  publisher: string;
  name: string;
};
/** The status bar item's DOM id: `<publisher>.<name>.<item id>`. */
export const STATUS_ID = `${pkg.publisher}.${pkg.name}.tunacode.model`;

/** The server the tests run: $TUNA_LSP, else the repository's .venv. */
export function serverExecutable(): string {
  const exe = process.env.TUNA_LSP ?? path.join(REPO_ROOT, ".venv", "bin", "tuna-lsp");
  try {
    fs.accessSync(exe, fs.constants.X_OK);
  } catch {
    throw new Error(`tuna-lsp not found at ${exe}: run \`make venv\` first, or set TUNA_LSP`);
  }
  return exe;
}

export function checkPrerequisites(): void {
  for (const [what, file] of [
    ["code-server (run scripts/setup-e2e.sh)", CODE_SERVER],
    ["tunacode.vsix (run npm run package)", VSIX],
    ["tunacode-linux-x64.vsix (run npm run package:bundled)", BUNDLED_VSIX],
    ["chromium (run scripts/setup-e2e.sh)", CHROMIUM],
  ] as const) {
    if (!fs.existsSync(file)) {
      throw new Error(`missing ${what}: ${file}`);
    }
  }
}

export function resetArtifacts(): void {
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
}

const t0 = Date.now();
export function mark(what: string): void {
  console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}`);
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs` with `what`. */
export async function waitUntil<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) {
        return value;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => {
        resolve(port);
      });
    });
  });
}

export interface SessionOptions {
  /** Names the artifacts of this session. */
  name: string;
  /** Settings of the (remote) machine: where VS Code takes machine-scoped settings from in code-server. */
  machineSettings?: Record<string, unknown>;
  /** The user's settings. */
  userSettings?: Record<string, unknown>;
  /** The opened folder's .vscode/settings.json; `${workspaceFolder}` in a string value is replaced by its path. */
  workspaceSettings?: Record<string, unknown>;
  /** Files to create in the opened folder, by relative path. */
  workspaceFiles?: Record<string, string>;
  /** The shared tunacode config, written to $HOME/.config/tunacode.json before start. */
  tunacodeConfig?: Record<string, unknown>;
  /** Directories put first on the extension host's PATH (through $HOME/.profile, as a login shell reads it). */
  pathPrepend?: string[];
  /** The .vsix to install (default: tunacode.vsix, which carries no server). */
  vsix?: string;
  /**
   * Start code-server from the opened folder, as `code .` in a repository does: the extension host (and whatever
   * it starts without naming a directory) then runs there. Default: this test's own directory.
   */
  startInWorkspace?: boolean;
}

const BASE_USER_SETTINGS = {
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "workbench.enableExperiments": false,
  "git.enabled": false,
  "chat.commandCenter.enabled": false,
};

function writeJson(file: string, value: unknown, mode = 0o644): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 4)}\n`, { mode });
}

export class VsCodeSession {
  readonly configFile: string;
  private constructor(
    readonly name: string,
    readonly machineSettings: Record<string, unknown>,
    private readonly machineSettingsFile: string,
    readonly runDir: string,
    readonly home: string,
    readonly workspace: string,
    readonly env: NodeJS.ProcessEnv,
    private readonly codeServer: ChildProcess,
    private readonly browser: BrowserContext,
    readonly page: Page,
    /** How long `code-server --install-extension` took. */
    readonly installMs: number,
  ) {
    this.configFile = path.join(home, ".config", "tunacode.json");
  }

  static async open(opts: SessionOptions): Promise<VsCodeSession> {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `tunacode-e2e-${opts.name}-`));
    const d = {
      home: path.join(runDir, "home"),
      userData: path.join(runDir, "user-data"),
      exts: path.join(runDir, "extensions"),
      ws: path.join(runDir, "workspace"),
      chrome: path.join(runDir, "chrome-profile"),
      tmp: path.join(runDir, "tmp"),
    };
    for (const dir of Object.values(d)) {
      fs.mkdirSync(dir, { recursive: true });
    }
    fs.writeFileSync(path.join(d.ws, "hello.txt"), "hello\n");
    writeJson(path.join(d.userData, "User", "settings.json"), { ...BASE_USER_SETTINGS, ...opts.userSettings });
    if (opts.machineSettings !== undefined) {
      writeJson(path.join(d.userData, "Machine", "settings.json"), opts.machineSettings);
    }
    if (opts.workspaceSettings !== undefined) {
      const substituted = JSON.parse(
        JSON.stringify(opts.workspaceSettings).replaceAll("${workspaceFolder}", d.ws.replace(/\\/g, "/")),
      ) as unknown;
      writeJson(path.join(d.ws, ".vscode", "settings.json"), substituted);
    }
    for (const [rel, content] of Object.entries(opts.workspaceFiles ?? {})) {
      fs.mkdirSync(path.dirname(path.join(d.ws, rel)), { recursive: true });
      fs.writeFileSync(path.join(d.ws, rel), content);
    }
    if (opts.tunacodeConfig !== undefined) {
      // 0600, as a file holding API keys should be (the server warns otherwise).
      writeJson(path.join(d.home, ".config", "tunacode.json"), opts.tunacodeConfig, 0o600);
    }
    // code-server's extension host takes its environment from a login shell, and Debian's /etc/profile resets
    // PATH: a PATH the extension must see goes into $HOME/.profile.
    const basePath = "/usr/local/bin:/usr/bin:/bin";
    fs.writeFileSync(
      path.join(d.home, ".profile"),
      `export PATH="${[...(opts.pathPrepend ?? []), basePath].join(":")}"\n`,
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: d.home,
      XDG_CONFIG_HOME: path.join(d.home, ".config"),
      XDG_DATA_HOME: path.join(d.home, ".local", "share"),
      XDG_STATE_HOME: path.join(d.home, ".local", "state"),
      XDG_CACHE_HOME: path.join(d.home, ".cache"),
      TMPDIR: d.tmp,
      PATH: [...(opts.pathPrepend ?? []), process.env.PATH ?? basePath].join(":"),
    };
    delete env.TUNACODE_CONFIG;
    delete env.VSCODE_IPC_HOOK_CLI;

    const common = ["--user-data-dir", d.userData, "--extensions-dir", d.exts];
    fs.writeFileSync(path.join(runDir, "cs-config.yaml"), "bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n");
    const installStart = Date.now();
    execFileSync(CODE_SERVER, ["--config", path.join(runDir, "cs-config.yaml"), ...common, "--install-extension", opts.vsix ?? VSIX], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60_000,
    });
    const installMs = Date.now() - installStart;

    const port = await freePort();
    const cs = spawn(
      CODE_SERVER,
      [
        "--config",
        path.join(runDir, "cs-config.yaml"),
        ...common,
        "--bind-addr",
        `127.0.0.1:${String(port)}`,
        "--auth",
        "none",
        "--disable-telemetry",
        "--disable-update-check",
        "--disable-workspace-trust",
        "--disable-getting-started-override",
        "--ignore-last-opened",
        d.ws,
      ],
      { env, detached: true, stdio: ["ignore", "pipe", "pipe"], ...(opts.startInWorkspace === true ? { cwd: d.ws } : {}) },
    );
    const csLog = fs.createWriteStream(path.join(runDir, "code-server.log"));
    cs.stdout.pipe(csLog);
    cs.stderr.pipe(csLog);

    let browser: BrowserContext | undefined;
    try {
      const url = `http://127.0.0.1:${String(port)}`;
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (cs.exitCode !== null) {
          throw new Error(`code-server exited with ${String(cs.exitCode)}; see ${runDir}/code-server.log`);
        }
        try {
          const r = await fetch(`${url}/healthz`);
          if (r.ok) {
            break;
          }
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) {
          throw new Error("code-server did not answer /healthz within 60 s");
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      browser = await chromium.launchPersistentContext(d.chrome, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
        viewport: { width: 1280, height: 800 },
        env,
      });
      const page = browser.pages()[0] ?? (await browser.newPage());
      page.on("pageerror", (e) => {
        console.log(`[${opts.name} pageerror] ${e.message}`);
      });
      await page.goto(`${url}/?folder=${encodeURIComponent(d.ws)}`);
      await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
      return new VsCodeSession(
        opts.name,
        opts.machineSettings ?? {},
        path.join(d.userData, "Machine", "settings.json"),
        runDir,
        d.home,
        d.ws,
        env,
        cs,
        browser,
        page,
        installMs,
      );
    } catch (error) {
      await browser?.close().catch(() => undefined);
      killGroup(cs);
      throw error;
    }
  }

  /** Rewrites the machine settings; VS Code picks the change up from the file. */
  writeMachineSettings(settings: Record<string, unknown>): void {
    writeJson(this.machineSettingsFile, settings);
  }

  statusItem(): Locator {
    return this.page.locator(`[id="${STATUS_ID}"]`);
  }

  /** Waits until the status bar item's text contains `text`; returns the whole text. */
  async waitForStatus(text: string, timeout = 30_000): Promise<string> {
    const item = this.page.locator(`[id="${STATUS_ID}"]`, { hasText: text });
    try {
      await item.waitFor({ timeout });
    } catch (error) {
      const now = await this.statusItem()
        .innerText({ timeout: 1000 })
        .catch(() => "(no status item)");
      throw new Error(`status bar never showed "${text}"; it shows "${now.trim()}"`, { cause: error });
    }
    return (await item.innerText()).trim();
  }

  private quickInput(): Locator {
    return this.page.locator(".quick-input-widget");
  }

  /** Opens the command palette and runs the command whose row reads exactly `title`. */
  async runCommand(title: string): Promise<void> {
    const input = this.quickInput().locator("input.input");
    // Whatever a failed step before left open goes away first.
    if (await input.isVisible()) {
      await this.page.keyboard.press("Escape");
      await input.waitFor({ state: "hidden", timeout: 5000 });
    }
    for (let attempt = 0; ; attempt++) {
      await this.page.locator(".monaco-workbench").click({ position: { x: 640, y: 300 } });
      await this.page.keyboard.press("F1");
      try {
        await input.waitFor({ state: "visible", timeout: 3000 });
        break;
      } catch (error) {
        if (attempt >= 3) {
          throw error;
        }
      }
    }
    await input.fill(`>${title}`);
    // Click the exact row: "Select Model" is a prefix of "Select Model for This Session".
    const row = this.quickInput()
      .locator(".monaco-list-row")
      .filter({ has: this.page.locator(".label-name", { hasText: new RegExp(`^${escapeRegExp(title)}$`) }) })
      .first();
    await row.waitFor({ timeout: 15_000 });
    await row.click();
  }

  /** Waits for the quick pick with `placeholder` (a substring) and returns its rows. */
  async waitForQuickPick(placeholder: string): Promise<Locator> {
    await this.page
      .locator(`.quick-input-widget input.input[placeholder*="${placeholder.replace(/"/g, '\\"')}"]`)
      .waitFor({ timeout: 15_000 });
    return this.quickInput().locator(".quick-input-list .monaco-list-row");
  }

  /**
   * Finds the quick pick row whose label matches `label` and makes it the active one. The list is virtual (only the
   * rows in view are in the DOM), so it pages down until the row shows, at most `maxPages` times.
   */
  async revealQuickPickRow(label: RegExp, maxPages = 40): Promise<Locator> {
    const row = this.quickInput()
      .locator(".quick-input-list .monaco-list-row")
      .filter({ has: this.page.locator(".label-name", { hasText: label }) })
      .first();
    // Wait for the list to hold rows at all before paging through it.
    await this.quickInput().locator(".quick-input-list .monaco-list-row").first().waitFor({ timeout: 15_000 });
    for (let page = 0; ; page++) {
      try {
        await row.waitFor({ state: "visible", timeout: page === 0 ? 5000 : 500 });
        return row;
      } catch (error) {
        if (page >= maxPages) {
          throw new Error(`no quick pick row labelled ${String(label)} after ${String(maxPages)} pages`, {
            cause: error,
          });
        }
        await this.quickInput().locator("input.input").press("PageDown");
      }
    }
  }

  /**
   * Types into the model picker and waits for the server's answer to that query: until it arrives the list still
   * holds the rows of the empty query, and a row found there moves or goes when the answer replaces them.
   */
  async typeInQuickPick(text: string): Promise<void> {
    await this.quickInput().locator("input.input").fill(text);
    await this.quickInput()
      .locator(".quick-input-list .monaco-list-row", { hasText: /matches|Other/i })
      .first()
      .waitFor({ timeout: 15_000 });
  }

  /** A notification toast whose message contains `text`. */
  notification(text: string): Locator {
    return this.page.locator(".notification-toast", { hasText: text });
  }

  /**
   * The frame of the webview whose page holds `selector`. A webview is an iframe (VS Code's host page) holding
   * another (the extension's page); setting the page again replaces the inner one, so look it up each time.
   */
  async webviewFrame(selector: string, timeoutMs = 20_000): Promise<Frame> {
    return waitUntil(`a webview holding ${selector}`, async () => {
      for (const frame of this.page.frames()) {
        if (frame === this.page.mainFrame() || frame.isDetached()) {
          continue;
        }
        if ((await frame.locator(selector).count().catch(() => 0)) > 0) {
          return frame;
        }
      }
      return undefined;
    }, timeoutMs);
  }

  /** The text of `selector` in the webview that holds it, once `ok` accepts it (the page may be replaced meanwhile). */
  async webviewText(selector: string, ok: (text: string) => boolean = () => true, timeoutMs = 20_000): Promise<string> {
    let last = "";
    try {
      return await waitUntil(`the webview's ${selector} to read as expected`, async () => {
        const frame = await this.webviewFrame(selector, 2000);
        last = (await frame.locator(selector).first().innerText({ timeout: 1000 })).trim();
        return ok(last) ? last : undefined;
      }, timeoutMs);
    } catch (error) {
      throw new Error(`the webview's ${selector} reads "${last}"`, { cause: error });
    }
  }

  async screenshot(file: string, target?: Locator): Promise<string> {
    const out = path.join(ARTIFACTS, `${this.name}-${file}`);
    await (target ?? this.page).screenshot({ path: out });
    mark(`screenshot ${out}`);
    return out;
  }

  /** The text on the screen of the terminal panel (needs the DOM renderer: terminal.integrated.gpuAcceleration off). */
  async terminalText(): Promise<string> {
    const rows = this.page.locator(".terminal-wrapper.active .xterm-rows, .xterm-rows").first();
    return (await rows.innerText({ timeout: 2000 })).replace(/\u00a0/g, " ");
  }

  /** What the extension wrote to its TunaCode log so far (the output channel's file under the user data dir). */
  tunaLog(): string {
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          walk(p);
        } else if (/TunaCode\.log$/.test(entry.name)) {
          found.push(fs.readFileSync(p, "utf8"));
        }
      }
    };
    const logs = path.join(this.runDir, "user-data", "logs");
    if (fs.existsSync(logs)) {
      walk(logs);
    }
    return found.join("\n");
  }

  readConfig(): Record<string, unknown> {
    return JSON.parse(fs.readFileSync(this.configFile, "utf8")) as Record<string, unknown>;
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    killGroup(this.codeServer);
    await waitUntil("code-server to exit", () => (this.codeServer.exitCode !== null || this.codeServer.signalCode !== null ? true : undefined), 10_000).catch(() => {
      killGroup(this.codeServer, "SIGKILL");
    });
    const logDir = path.join(this.runDir, "user-data", "logs");
    copyLogs(path.join(this.runDir, "code-server.log"), logDir, path.join(ARTIFACTS, `${this.name}-logs`));
    if (!KEEP) {
      fs.rmSync(this.runDir, { recursive: true, force: true });
    }
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): void {
  if (child.pid === undefined) {
    return;
  }
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Keeps code-server's log and the extension host's logs (the TunaCode output channel among them). */
function copyLogs(csLog: string, logDir: string, dest: string): void {
  fs.mkdirSync(dest, { recursive: true });
  if (fs.existsSync(csLog)) {
    fs.copyFileSync(csLog, path.join(dest, "code-server.log"));
  }
  if (!fs.existsSync(logDir)) {
    return;
  }
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(p);
      } else if (/TunaCode|exthost|remoteexthost/i.test(entry.name)) {
        fs.copyFileSync(p, path.join(dest, entry.name));
      }
    }
  };
  walk(logDir);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
