/**
 * End to end, in a real VS Code (code-server) with the built .vsix and the real tuna-lsp: the status bar, the model
 * picker, following outside changes of the shared config, settings a workspace must not set, and the error path
 * when no server can be found. Screenshots go to test-artifacts/.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import {
  ARTIFACTS,
  BUNDLED_VSIX,
  REPO_ROOT,
  VsCodeSession,
  checkPrerequisites,
  mark,
  resetArtifacts,
  serverExecutable,
  waitUntil,
} from "./harness";

const START_MODEL = "anthropic:claude-sonnet-4-20250514";
const PICKED_MODEL = "openai:gpt-4.1-mini";
const WRITTEN_MODEL = "anthropic:claude-opus-4-20250514";
const CLI_MODEL = "openai:gpt-4o";
const EVIL_MODEL = "openai:gpt-4o-mini";
const TIMEOUT = { timeout: 120_000 };
const HOOK_TIMEOUT = { timeout: 180_000 };

/** Hooks with a deadline: starting code-server and Chromium must not hang a CI run. */
function setUp(fn: () => Promise<void>): void {
  before(fn, HOOK_TIMEOUT);
}

function tearDown(fn: () => Promise<void>): void {
  after(fn, HOOK_TIMEOUT);
}

/** The real tunacode CLI: $TUNACODE_VENV (the Makefile exports it), else the repository's .cache/tunacode-venv. */
const CLI_VENV = process.env.TUNACODE_VENV ?? path.join(REPO_ROOT, ".cache", "tunacode-venv");

/** Fails, saying what is missing, when the real tunacode CLI is not installed: no test skips itself. */
function requireCli(): void {
  if (!fs.existsSync(CLI_TUNACODE) || !fs.existsSync(CLI_PYTHON)) {
    throw new Error(`the real tunacode CLI is missing at ${CLI_VENV}: run \`make tunacode-venv\`, or set TUNACODE_VENV`);
  }
}
const CLI_PYTHON = path.join(CLI_VENV, "bin", "python");
const CLI_TUNACODE = path.join(CLI_VENV, "bin", "tunacode");

/** What tunacode itself does when its model picker sets a model: record it as recent, save the file in place. */
const CLI_SET_MODEL = `
import sys
from types import SimpleNamespace
from tunacode.configuration.user_config import load_config, record_recent_model, set_default_model
cfg = load_config()
record_recent_model(cfg, sys.argv[1])
set_default_model(sys.argv[1], SimpleNamespace(session=SimpleNamespace(user_config=cfg)))
`;

/** A row label that is exactly `model` (after the icon a key-missing or current row starts with). */
function exactLabel(model: string): RegExp {
  return new RegExp(`^\\s*${model.replace(/[.]/g, "\\.")}\\s*$`);
}

/** How many servers logged to `logFile` got as far as `initialized`. */
function countStarts(logFile: string): number {
  if (!fs.existsSync(logFile)) {
    return 0;
  }
  return (fs.readFileSync(logFile, "utf8").match(/Notification 'initialized' received/g) ?? []).length;
}

/** Waits until the newest server logging to `logFile` was given this window's session choice again. */
async function waitForSessionRestored(logFile: string): Promise<void> {
  await waitUntil(`the session choice to be set again on the new server (${logFile})`, () => {
    const newest = fs.readFileSync(logFile, "utf8").split("Notification 'initialized' received").at(-1) ?? "";
    return /tuna\/setModel[\s\S]*session/.test(newest) ? true : undefined;
  });
}

/** The pid of the tuna-lsp whose command line names `logFile` (unique to this run), from /proc. */
function serverPid(logFile: string): number | undefined {
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (argv.includes(logFile) && argv.some((a) => a.endsWith("tuna-lsp"))) {
        return Number(entry);
      }
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

function startConfig(): Record<string, unknown> {
  return {
    default_model: START_MODEL,
    recent_models: [START_MODEL, "openai:gpt-4.1"],
    env: { ANTHROPIC_API_KEY: "sk-ant-e2e-not-a-real-key", OPENAI_API_KEY: "" },
    settings: { max_retries: 10, theme: "dracula" },
  };
}

before(() => {
  checkPrerequisites();
  resetArtifacts();
});

describe("with the server (set in the machine settings)", () => {
  let vs: VsCodeSession;
  let evilConfig: string;

  setUp(async () => {
    const server = serverExecutable();
    vs = await VsCodeSession.open({
      name: "main",
      // Machine-scoped settings of a code-server window live in its (remote) machine settings.
      machineSettings: {
        "tunacode.server.command": [server, "--log-file", path.join(ARTIFACTS, "main-server.log"), "--log-level", "DEBUG"],
        "tunacode.trace.server": "verbose",
        "tunacode.cli.command": [CLI_TUNACODE],
      },
      // A cloned repository trying to pick the server and redirect where it writes: both must be ignored.
      workspaceSettings: {
        "tunacode.server.command": ["/nonexistent/evil-tuna-lsp"],
        "tunacode.configPath": "${workspaceFolder}/evil-tunacode.json",
      },
      workspaceFiles: { "evil-tunacode.json": JSON.stringify({ default_model: EVIL_MODEL }, null, 4) },
      tunacodeConfig: startConfig(),
    });
    evilConfig = path.join(vs.workspace, "evil-tunacode.json");
    mark("main session: workbench up");
  });

  tearDown(async () => {
    await vs.close();
  });

  it("shows the model of the pre-written config in the status bar", TIMEOUT, async () => {
    const text = await vs.waitForStatus("claude-sonnet-4-20250514");
    mark(`status bar: "${text}"`);
    assert.doesNotMatch(text, /session|no server/);
    await vs.screenshot("status-initial.png", vs.page.locator(".statusbar"));
    // The tooltip carries the whole state.
    await vs.statusItem().hover();
    const hover = vs.page.locator(".monaco-hover, .workbench-hover").filter({ hasText: "TunaCode model" }).first();
    await hover.waitFor({ timeout: 10_000 });
    const tooltip = await hover.innerText();
    assert.match(tooltip, /anthropic:claude-sonnet-4-20250514/);
    assert.match(tooltip, /tunacode\.json/);
    assert.match(tooltip, /API key/);
    await vs.screenshot("status-tooltip.png");
    await vs.page.keyboard.press("Escape");
  });

  it("picks a model from the palette: status bar and config on disk follow", TIMEOUT, async () => {
    await vs.runCommand("TunaCode: Select Model");
    const initialRows = await vs.waitForQuickPick("saved to the shared config");
    await initialRows.filter({ hasText: START_MODEL }).first().waitFor({ timeout: 15_000 });
    await vs.screenshot("quickpick-initial.png");
    await vs.typeInQuickPick("gpt-4.1 mini");
    const target = await vs.revealQuickPickRow(exactLabel(PICKED_MODEL));
    const rows = vs.page.locator(".quick-input-widget .quick-input-list .monaco-list-row");
    mark(`quick pick rows: ${JSON.stringify((await rows.allInnerTexts()).slice(0, 3))}`);
    await vs.screenshot("quickpick-query.png");
    await target.click();

    const text = await vs.waitForStatus("gpt-4.1-mini");
    mark(`status bar after pick: "${text}"`);
    const onDisk = await waitUntil("the config on disk to hold the picked model", () => {
      const cfg = vs.readConfig();
      return cfg.default_model === PICKED_MODEL ? cfg : undefined;
    });
    assert.equal((onDisk.recent_models as string[])[0], PICKED_MODEL);
    // Keys the server does not own survive with their values.
    assert.deepEqual(onDisk.settings, startConfig().settings);
    assert.deepEqual(onDisk.env, startConfig().env);
    // The server's message says where it was saved.
    await vs.notification(`Model set to ${PICKED_MODEL}`).first().waitFor({ timeout: 10_000 });
    await vs.screenshot("status-after-pick.png");
  });

  it("follows a plain write of the config file, without a click", TIMEOUT, async () => {
    const cfg = vs.readConfig();
    cfg.default_model = WRITTEN_MODEL;
    // In place, as tunacode writes it (truncate, then write).
    fs.writeFileSync(vs.configFile, JSON.stringify(cfg, null, 4));
    const text = await vs.waitForStatus("claude-opus-4-20250514");
    mark(`status bar after a plain write: "${text}"`);
  });

  it("follows the real tunacode CLI setting the model", TIMEOUT, async () => {
    requireCli();
    execFileSync(CLI_PYTHON, ["-c", CLI_SET_MODEL, CLI_MODEL], { env: vs.env, timeout: 60_000 });
    assert.equal(vs.readConfig().default_model, CLI_MODEL);
    const text = await vs.waitForStatus("gpt-4o");
    assert.doesNotMatch(text, /gpt-4o-mini/);
    mark(`status bar after the tunacode CLI: "${text}"`);
  });

  it("warns when the config turns invalid, and recovers when it is fixed", TIMEOUT, async () => {
    const good = fs.readFileSync(vs.configFile, "utf8");
    fs.writeFileSync(vs.configFile, '{ "default_model": "openai:gpt-4o", ');
    const text = await vs.waitForStatus("config invalid");
    mark(`status bar with an invalid config: "${text}"`);
    await vs.screenshot("status-config-invalid.png", vs.page.locator(".statusbar"));
    fs.writeFileSync(vs.configFile, good);
    await waitUntil("the warning to go", async () => {
      const now = (await vs.statusItem().innerText()).trim();
      return /gpt-4o/.test(now) && !/invalid/.test(now) ? now : undefined;
    });
  });

  it("selects a model for this session only: marked, and the file untouched", TIMEOUT, async () => {
    const before = fs.readFileSync(vs.configFile, "utf8");
    await vs.runCommand("TunaCode: Select Model for This Session");
    await vs.waitForQuickPick("not saved");
    await vs.typeInQuickPick("claude sonnet 4");
    await (await vs.revealQuickPickRow(exactLabel(START_MODEL))).click();
    const text = await vs.waitForStatus("(session)");
    assert.match(text, /claude-sonnet-4-20250514/);
    mark(`status bar for a session choice: "${text}"`);
    assert.equal(fs.readFileSync(vs.configFile, "utf8"), before);
    await vs.screenshot("status-session.png", vs.page.locator(".statusbar"));
  });

  it("opens the shared config", TIMEOUT, async () => {
    await vs.runCommand("TunaCode: Open Config");
    await vs.page.locator(".tab", { hasText: "tunacode.json" }).first().waitFor({ timeout: 15_000 });
    await vs.page.locator(".monaco-editor .view-lines", { hasText: "default_model" }).first().waitFor({ timeout: 15_000 });
    await vs.screenshot("open-config.png");
    await vs.page.keyboard.press("Control+W");
  });

  it("traces the traffic at verbose without the config's text (it holds API keys)", TIMEOUT, async () => {
    const log = await waitUntil("the verbose trace of the config's didOpen", () => {
      const text = vs.tunaLog();
      return /Sending notification 'textDocument\/didOpen'[\s\S]*characters of document text, not logged/.test(text) ? text : undefined;
    });
    assert.doesNotMatch(log, /sk-ant-e2e-not-a-real-key/);
    assert.doesNotMatch(log, /"default_model"/);
  });

  it("restarts the server on TunaCode: Restart Server, keeping this window's session choice", TIMEOUT, async () => {
    const logFile = path.join(ARTIFACTS, "main-server.log");
    const starts = countStarts(logFile);
    await vs.runCommand("TunaCode: Restart Server");
    await waitUntil("a new server to start", () => (countStarts(logFile) > starts ? true : undefined), 30_000);
    await waitForSessionRestored(logFile);
    const text = await vs.waitForStatus("(session)");
    assert.match(text, /claude-sonnet-4-20250514/);
    mark(`status bar after a restart: "${text}"`);
  });

  it("shows the model history from the server", TIMEOUT, async () => {
    await vs.runCommand("TunaCode: Show Model History");
    const rows = await vs.waitForQuickPick("use its model again");
    await rows.filter({ hasText: PICKED_MODEL }).first().waitFor({ timeout: 10_000 });
    await rows.filter({ hasText: CLI_MODEL }).first().waitFor({ timeout: 10_000 });
    await vs.screenshot("history.png");
    await vs.page.keyboard.press("Escape");
  });

  it("shows the model usage: charts and figures of the sets made, following a change", { timeout: 240_000 }, async () => {
    // One more attempt, and one that fails: a global set while the shared config does not parse. (A failed set
    // leaves this window's session choice alone, which the tests after this one need.)
    const good = fs.readFileSync(vs.configFile, "utf8");
    fs.writeFileSync(vs.configFile, '{ "default_model": ');
    await vs.waitForStatus("config invalid");
    await vs.runCommand("TunaCode: Select Model");
    await vs.waitForQuickPick("saved to the shared config");
    await vs.typeInQuickPick("gpt-4.1 nano");
    await (await vs.revealQuickPickRow(exactLabel(FAILED_MODEL))).click();
    await vs.page
      .locator(".notification-toast")
      .filter({ has: vs.page.getByRole("button", { name: "Open Config" }) })
      .first()
      .waitFor({ timeout: 15_000 });
    fs.writeFileSync(vs.configFile, good);
    await waitUntil("the config to be valid again", async () => {
      const now = (await vs.statusItem().innerText()).trim();
      return !/invalid/.test(now) ? now : undefined;
    });
    // What the servers of this window wrote: the pick of the second test, and the set that failed just now.
    const counts = await waitUntil("the failed attempt on disk", () => {
      const c = saveOutcomes(vs);
      return c.failed > 0 ? c : undefined;
    });
    assert.deepEqual(counts, { attempts: 2, saved: 1, unchanged: 0, failed: 1, reasons: { "invalid-config": 1 } });

    await vs.runCommand("TunaCode: Show Model Usage");
    await vs.page.locator(".tab", { hasText: "TunaCode Model Usage" }).first().waitFor({ timeout: 15_000 });
    const summary = await vs.webviewText("#saves-summary");
    mark(`usage view: "${summary}"`);
    assert.equal(summary, "2 attempts, 1 saved, 0 unchanged, 1 failed · success 50.00% (target 99.9%)");
    assert.equal(await vs.webviewText("#failures"), "Failures by reason: invalid-config 1");
    const latency = await vs.webviewText("#latency-summary");
    mark(`usage view latency: "${latency}"`);
    assert.match(latency, /^p50 [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms \(budget 100 ms: /);
    assert.match(await vs.webviewText("#period"), /^Last 30 days: \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d \(UTC\)/);
    // The global model's changes in this session: the pick, the plain write, the CLI's set.
    assert.equal(await vs.webviewText("#selections-summary"), "3 changes of the global model, to 3 models");
    const frame = await vs.webviewFrame("#saves-summary");
    const selections = (await frame.locator('svg[aria-label="Selections per model"]').textContent()) ?? "";
    for (const model of [PICKED_MODEL, WRITTEN_MODEL, CLI_MODEL]) {
      assert.ok(selections.includes(model), `the selections chart lacks ${model}: ${selections}`);
    }
    // Today's bar holds the failure, marked.
    assert.equal(await frame.locator('svg[aria-label="Saves per day, failures marked"] path.marker').count(), 1);
    // Nothing but the page's own: no script, the policy is there.
    assert.equal(await frame.locator("script").count(), 0);
    assert.match(
      (await frame.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content")) ?? "",
      /^default-src 'none'; style-src [^;]* 'nonce-[^';]+'$/,
    );

    // The model changes (the real tunacode CLI sets it): the open view follows, without being asked.
    requireCli();
    execFileSync(CLI_PYTHON, ["-c", CLI_SET_MODEL, USAGE_MODEL], { env: vs.env, timeout: 60_000 });
    const followed = await vs.webviewText("#selections-summary", (t) => t.startsWith("4 changes"), 30_000);
    mark(`usage view after the CLI set ${USAGE_MODEL}: "${followed}"`);
    assert.equal(followed, "4 changes of the global model, to 4 models");
    assert.ok(((await (await vs.webviewFrame("#saves-summary")).locator('svg[aria-label="Selections per model"]').textContent()) ?? "").includes(USAGE_MODEL));
    assert.equal(await vs.webviewText("#saves-summary"), summary);

    // The whole page, in a taller window, without the toasts over it.
    await vs.runCommand("Notifications: Clear All Notifications");
    await vs.page.setViewportSize({ width: 1280, height: 1560 });
    try {
      await waitUntil("the page to lay out in the taller window", async () => {
        const f = await vs.webviewFrame("#overwrites");
        return (await f.locator("#overwrites").isVisible()) ? true : undefined;
      });
      const shot = await vs.screenshot("usage-view.png");
      assert.ok(fs.statSync(shot).size > 20_000, "the screenshot is nearly empty");
    } finally {
      await vs.page.setViewportSize({ width: 1280, height: 800 });
    }

    // The days selector: a command link, no script.
    await (await vs.webviewFrame("nav a")).locator("nav a", { hasText: "7 days" }).click();
    const period = await vs.webviewText("#period", (t) => t.startsWith("Last 7 days"));
    mark(`usage view after 7 days: "${period}"`);
    assert.equal(await vs.webviewText("#saves-summary"), summary);

    await vs.page.locator(".tab", { hasText: "TunaCode Model Usage" }).first().locator(".codicon-close").click();
    await vs.page.locator(".tab", { hasText: "TunaCode Model Usage" }).waitFor({ state: "detached", timeout: 10_000 });
  });

  it("starts tunacode --model <model> in a terminal", TIMEOUT, async () => {
    requireCli();
    await vs.runCommand("TunaCode: Start tunacode in Terminal");
    await vs.page
      .locator(".terminal-tabs-entry, .single-terminal-tab, .pane-header, .composite.title", {
        // The session choice: a CLI started from this window uses it.
        hasText: `tunacode (${START_MODEL})`,
      })
      .first()
      .waitFor({ timeout: 20_000 });
    await vs.page.locator(".terminal-wrapper, .xterm").first().waitFor({ timeout: 20_000 });
    await vs.screenshot("terminal.png");
  });

  it("restarts the server when a server setting changes", TIMEOUT, async () => {
    const secondLog = path.join(ARTIFACTS, "main-server-after-settings-change.log");
    vs.writeMachineSettings({
      ...vs.machineSettings,
      "tunacode.server.command": [serverExecutable(), "--log-file", secondLog, "--log-level", "DEBUG"],
    });
    await waitUntil(
      "a server started with the new setting to log",
      () => (fs.existsSync(secondLog) && /initialized/.test(fs.readFileSync(secondLog, "utf8")) ? true : undefined),
      30_000,
    );
    await waitForSessionRestored(secondLog);
    const text = await vs.waitForStatus("(session)");
    assert.match(text, /claude-sonnet-4-20250514/);
    mark(`status bar after a settings change: "${text}"`);
  });

  it("restarts a server that dies", TIMEOUT, async () => {
    const logFile = path.join(ARTIFACTS, "main-server-after-settings-change.log");
    const pid = serverPid(logFile);
    assert.ok(pid !== undefined, "no running server with the changed setting's log file");
    const starts = countStarts(logFile);
    process.kill(pid, "SIGKILL");
    await waitUntil("a new server to start", () => (countStarts(logFile) > starts ? true : undefined), 30_000);
    await waitForSessionRestored(logFile);
    const text = await vs.waitForStatus("(session)");
    mark(`status bar after the server was killed: "${text}"`);
  });

  it("ignores tunacode.server.command and tunacode.configPath from the workspace", TIMEOUT, async () => {
    // The server that ran is the machine setting's (the workspace's would not start at all), and it never read or
    // wrote the workspace's config: its model never showed, and the file is as the test wrote it.
    assert.deepEqual(JSON.parse(fs.readFileSync(evilConfig, "utf8")), { default_model: EVIL_MODEL });
    const text = (await vs.statusItem().innerText()).trim();
    assert.doesNotMatch(text, /gpt-4o-mini|no server/);
  });

  it("reports a server that dies and cannot be restarted", TIMEOUT, async () => {
    const marker = path.join(vs.runDir, "server-installed");
    const wrapper = path.join(vs.runDir, "tuna-lsp-wrapper");
    const logFile = path.join(ARTIFACTS, "main-server-wrapped.log");
    fs.writeFileSync(marker, "");
    fs.writeFileSync(
      wrapper,
      `#!/bin/sh\n[ -f '${marker}' ] || { echo 'tuna-lsp: uninstalled meanwhile' >&2; exit 4; }\nexec '${serverExecutable()}' "$@"\n`,
      { mode: 0o755 },
    );
    vs.writeMachineSettings({
      ...vs.machineSettings,
      "tunacode.server.command": [wrapper, "--log-file", logFile, "--log-level", "DEBUG"],
    });
    await waitUntil("the wrapped server to start", () => (countStarts(logFile) > 0 ? true : undefined), 30_000);
    await waitForSessionRestored(logFile);
    const pid = serverPid(logFile);
    assert.ok(pid !== undefined, "no running wrapped server");
    fs.rmSync(marker);
    process.kill(pid, "SIGKILL");
    const toast = vs.notification("could not be restarted").first();
    await toast.waitFor({ timeout: 30_000 });
    assert.match(await toast.innerText(), /exited with code 4: tuna-lsp: uninstalled meanwhile/);
    const text = await vs.waitForStatus("no server");
    mark(`status bar after a failed restart: "${text}"`);
  });
});

/** The usage test's models: a set that fails, then a change the CLI makes while the view is open. */
const FAILED_MODEL = "openai:gpt-4.1-nano";
const USAGE_MODEL = "anthropic:claude-3-5-haiku-20241022";

/** The save outcomes the servers of a session appended (PROTOCOL.md section 10), counted. */
function saveOutcomes(vs: VsCodeSession): { attempts: number; saved: number; unchanged: number; failed: number; reasons: Record<string, number> } {
  const file = path.join(vs.home, ".local", "state", "tunacode", "saves.jsonl");
  const out = { attempts: 0, saved: 0, unchanged: 0, failed: 0, reasons: {} as Record<string, number> };
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  for (const line of text.split("\n").filter((l) => l.trim() !== "")) {
    const entry = JSON.parse(line) as { outcome: "saved" | "unchanged" | "failed"; reason?: string };
    out.attempts += 1;
    out[entry.outcome] += 1;
    if (entry.reason !== undefined) {
      out.reasons[entry.reason] = (out.reasons[entry.reason] ?? 0) + 1;
    }
  }
  return out;
}

/** Waits for the terminal tab whose title names `model` (the terminal runs `tunacode --model <model>`). */
async function waitForTerminalTitle(vs: VsCodeSession, model: string): Promise<void> {
  await vs.page
    .locator(".terminal-tabs-entry, .single-terminal-tab, .pane-header, .composite.title", { hasText: `tunacode (${model})` })
    .first()
    .waitFor({ timeout: 20_000 });
}

const WORKSPACE_MODEL = "openai:gpt-4.1";

/** The Python of the server's venv (next to tuna-lsp), to run the server as `python -m tuna_lsp`. */
function serverPython(): string {
  const python = path.join(path.dirname(serverExecutable()), "python");
  if (!fs.existsSync(python)) {
    throw new Error(`no python next to ${serverExecutable()}: the server must be installed in a venv`);
  }
  return python;
}

/** The file the planted json.py writes, next to it, when any Python imports it. */
const JSON_PY_MARKER = "planted-json-py-ran.txt";

/**
 * Issue 24: a json.py in the opened repository that leaves a marker when any Python imports it. With the server run
 * as `python -m tuna_lsp` (the working directory first on its import path) from the folder VS Code was started in,
 * it would run as the user; the extension starts the server in its own storage folder.
 */
const PLANTED_JSON_PY = [
  "import os, sys",
  "here = os.path.dirname(os.path.abspath(__file__))",
  `open(os.path.join(here, "${JSON_PY_MARKER}"), "a").write(" ".join(sys.argv) + "\\n")`,
  "# Then be the real json, so that the server still runs and the test fails on the marker, not on a crash.",
  "sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]",
  "del sys.modules[__name__]",
  "import json as _real",
  "sys.modules[__name__] = _real",
  "",
].join("\n");

// PROTOCOL.md section 3a: needs a server with the workspace scope (scope "workspace", workspaceModel, tuna/clearModel).
describe("a model for this workspace", () => {
  let vs: VsCodeSession;
  let marker: string;

  setUp(async () => {
    requireCli();
    vs = await VsCodeSession.open({
      name: "workspace",
      machineSettings: {
        "tunacode.server.command": [
          serverPython(),
          "-m",
          "tuna_lsp",
          "--log-file",
          path.join(ARTIFACTS, "workspace-server.log"),
          "--log-level",
          "DEBUG",
        ],
        "tunacode.cli.command": [CLI_TUNACODE],
      },
      tunacodeConfig: startConfig(),
      // `code .` in a repository that holds a json.py.
      startInWorkspace: true,
      workspaceFiles: { "json.py": PLANTED_JSON_PY },
    });
    marker = path.join(vs.workspace, JSON_PY_MARKER);
    mark("workspace session: workbench up");
  });

  tearDown(async () => {
    await vs.close();
  });

  it("selects a model for this workspace: marked (workspace), the shared config untouched", TIMEOUT, async () => {
    await vs.waitForStatus("claude-sonnet-4-20250514");
    // The server runs in the extension's storage folder, not in the folder VS Code was started from.
    await waitUntil("the log to say where the server runs", () =>
      /starting \S*python\S* -m tuna_lsp .* \(found via setting\) in \S*globalStorage\S*/.test(vs.tunaLog()) ? true : undefined,
    );
    const before = fs.readFileSync(vs.configFile, "utf8");
    await vs.runCommand("TunaCode: Select Model for This Workspace");
    await vs.waitForQuickPick("for this workspace folder");
    const title = await vs.page.locator(".quick-input-widget .quick-input-title").first().innerText();
    assert.match(title, /This Workspace \(workspace: remembered by tuna-lsp\)/);
    await vs.typeInQuickPick("gpt-4.1");
    await (await vs.revealQuickPickRow(exactLabel(WORKSPACE_MODEL))).click();
    const text = await vs.waitForStatus("(workspace)");
    assert.match(text, /gpt-4\.1/);
    mark(`status bar for a workspace choice: "${text}"`);
    assert.equal(fs.readFileSync(vs.configFile, "utf8"), before, "a workspace choice must not touch the shared config");
    await vs.screenshot("status-workspace.png", vs.page.locator(".statusbar"));
  });

  it("starts tunacode in a terminal with --model <the workspace model>", TIMEOUT, async () => {
    await vs.runCommand("TunaCode: Start tunacode in Terminal");
    await waitForTerminalTitle(vs, WORKSPACE_MODEL);
    await vs.screenshot("terminal-workspace.png");
  });

  it("clears the workspace choice: the global model is back, unmarked", TIMEOUT, async () => {
    await vs.runCommand("TunaCode: Clear Session or Workspace Model");
    const row = vs.page
      .locator(".quick-input-widget .quick-input-list .monaco-list-row")
      .filter({ hasText: `Workspace choice: ${WORKSPACE_MODEL}` })
      .first();
    await row.waitFor({ timeout: 15_000 });
    await row.click();
    const text = await waitUntil("the workspace marker to go", async () => {
      const now = (await vs.statusItem().innerText()).trim();
      return /claude-sonnet-4-20250514/.test(now) && !/workspace/.test(now) ? now : undefined;
    });
    mark(`status bar after clearing: "${text}"`);
  });

  it("never imported the opened repository's json.py (issue 24)", TIMEOUT, async () => {
    // The server ran the pickers (the catalog is built and searched), set and cleared a model, and started a CLI.
    await vs.waitForStatus("claude-sonnet-4-20250514");
    assert.ok(!fs.existsSync(marker), `the workspace's json.py ran: ${fs.existsSync(marker) ? fs.readFileSync(marker, "utf8") : ""}`);
  });
});

const FOLLOW_MODEL = "anthropic:claude-opus-4-20250514";
const CLI_OWN_MODEL = "anthropic:claude-3-5-haiku-20241022";

// PROTOCOL.md section 9 (Follow): needs a server that sends viaEditor.
describe("a tunacode started from this window follows the model chosen in the editor", () => {
  let vs: VsCodeSession;

  setUp(async () => {
    requireCli();
    vs = await VsCodeSession.open({
      name: "follow",
      machineSettings: {
        "tunacode.server.command": [serverExecutable(), "--log-file", path.join(ARTIFACTS, "follow-server.log"), "--log-level", "DEBUG"],
        "tunacode.cli.command": [CLI_TUNACODE],
      },
      // The DOM renderer: the terminal's text can be read from the page.
      userSettings: { "terminal.integrated.gpuAcceleration": "off" },
      tunacodeConfig: startConfig(),
    });
    mark("follow session: workbench up");
  });

  tearDown(async () => {
    await vs.close();
  });

  it("types /model into the running tunacode after Switch, and tunacode switches", { timeout: 180_000 }, async () => {
    await vs.waitForStatus("claude-sonnet-4-20250514");
    await vs.runCommand("TunaCode: Start tunacode in Terminal");
    await waitForTerminalTitle(vs, START_MODEL);
    // Ready when its resource bar shows the model it started with.
    await waitUntil("tunacode to start in the terminal", async () => ((await vs.terminalText()).includes("ANTH/claude-sonnet-4") ? true : undefined), 60_000);
    await vs.screenshot("follow-cli-started.png");

    await vs.runCommand("TunaCode: Select Model");
    await vs.waitForQuickPick("saved to the shared config");
    await vs.typeInQuickPick("claude opus 4");
    await (await vs.revealQuickPickRow(exactLabel(FOLLOW_MODEL))).click();
    await vs.waitForStatus("claude-opus-4-20250514");

    const ask = vs.notification("started from this window to it").first();
    await ask.waitFor({ timeout: 20_000 });
    assert.match(await ask.innerText(), new RegExp(FOLLOW_MODEL.replace(/[.]/g, "\\.")));
    await vs.screenshot("follow-ask.png");
    await ask.getByRole("button", { name: "Switch" }).click();

    // Its resource bar (`ANTH/<model id>`), not the typed `/model anthropic:...` line.
    await waitUntil("tunacode's resource bar to show the new model", async () => ((await vs.terminalText()).includes("ANTH/claude-opus-4") ? true : undefined), 60_000);
    // tunacode's /model saves the whole file with its defaults filled in: its own write, not the server's.
    const cfg = await waitUntil("tunacode to save the switched model", () => {
      const c = vs.readConfig();
      const settings = c.settings as Record<string, unknown> | undefined;
      return c.default_model === FOLLOW_MODEL && Object.keys(settings ?? {}).length > 2 ? c : undefined;
    }, 30_000);
    assert.equal((cfg.recent_models as string[])[0], FOLLOW_MODEL);
    await vs.screenshot("follow-switched.png");
  });

  it("never types a change the CLI made back into a terminal", TIMEOUT, async () => {
    execFileSync(CLI_PYTHON, ["-c", CLI_SET_MODEL, CLI_OWN_MODEL], { env: vs.env, timeout: 60_000 });
    await vs.waitForStatus("claude-3-5-haiku");
    await waitUntil(
      "the extension to decide not to type the CLI's own change",
      () => (vs.tunaLog().includes(`follow: ${CLI_OWN_MODEL} not typed: not changed through tuna-lsp`) ? true : undefined),
      20_000,
    );
    assert.equal(await vs.notification("started from this window to it").filter({ hasText: CLI_OWN_MODEL }).count(), 0);
  });
});

describe("without a server", () => {
  let vs: VsCodeSession;

  setUp(async () => {
    // No setting, no bundled server, no clone (the .vsix was built knowing none), and no tuna-lsp on PATH.
    vs = await VsCodeSession.open({ name: "no-server", tunacodeConfig: startConfig() });
    mark("no-server session: workbench up");
  });

  tearDown(async () => {
    await vs.close();
  });

  it("shows the failure in the status bar and a notification with install instructions", TIMEOUT, async () => {
    const text = await vs.waitForStatus("no server");
    mark(`status bar without a server: "${text}"`);
    const toast = vs.notification("could not start the tuna-lsp language server").first();
    await toast.waitFor({ timeout: 30_000 });
    const message = await toast.innerText();
    assert.match(message, /Tried: tunacode\.server\.command, bundled server, the clone's \.venv, PATH\./);
    assert.match(message, /set tunacode\.server\.command in your user settings/);
    await toast.getByRole("button", { name: "Install Instructions" }).waitFor();
    await vs.screenshot("error-notification.png");
    await toast.getByRole("button", { name: "Install Instructions" }).click();
    await vs.page.locator(".tab", { hasText: "README" }).first().waitFor({ timeout: 20_000 });
    // The preview is a webview: wait until its text rendered.
    await vs.page
      .frameLocator("iframe.webview")
      .frameLocator("iframe")
      .getByText("Installing the server")
      .first()
      .waitFor({ timeout: 20_000 });
    await vs.screenshot("install-instructions.png");
    // The tooltip of the failed item has the details.
    await vs.statusItem().hover();
    const hover = vs.page.locator(".monaco-hover, .workbench-hover").filter({ hasText: "not running" }).first();
    await hover.waitFor({ timeout: 10_000 });
    assert.match(await hover.innerText(), /no tuna-lsp on PATH/);
    await vs.screenshot("error-tooltip.png");
    await vs.page.keyboard.press("Escape");

  });

  it("keeps the commands safe: Select Model says the server is not running", TIMEOUT, async () => {
    await vs.runCommand("TunaCode: Select Model");
    await vs.notification("the tuna-lsp server is not running").first().waitFor({ timeout: 15_000 });
  });

  it("says so when the tunacode CLI is not installed", TIMEOUT, async () => {
    await vs.runCommand("TunaCode: Start tunacode in Terminal");
    await vs.notification("the tunacode CLI").first().waitFor({ timeout: 15_000 });
    assert.match(await vs.notification("the tunacode CLI").first().innerText(), /pip install tunacode-cli/);
  });

  it("reports a server that exits at once: how it ended and what it said, in one notification", TIMEOUT, async () => {
    vs.writeMachineSettings({
      "tunacode.server.command": ["/bin/sh", "-c", "echo 'tuna-lsp: broken install' >&2; exit 3"],
    });
    const toast = vs.notification("exited with code 3").first();
    await toast.waitFor({ timeout: 30_000 });
    assert.match(await toast.innerText(), /exited with code 3: tuna-lsp: broken install/);
    // The library's own bare "couldn't create connection" notification is left out.
    assert.equal(await vs.notification("couldn't create connection").count(), 0);
    await vs.waitForStatus("no server");
    await vs.screenshot("broken-server.png");
  });
});

// Issue 15: the .vsix from `make package` carries the server; no tuna-lsp anywhere else (no setting, none on PATH,
// no clone known to the build); Debian's Python 3.11 on PATH runs it.
describe("the .vsix that carries its server", () => {
  let vs: VsCodeSession;

  setUp(async () => {
    vs = await VsCodeSession.open({ name: "bundled", vsix: BUNDLED_VSIX, tunacodeConfig: startConfig() });
    const size = fs.statSync(BUNDLED_VSIX).size;
    mark(`bundled session: workbench up; ${path.basename(BUNDLED_VSIX)} ${(size / 1024 / 1024).toFixed(2)} MiB, installed in ${String(vs.installMs)} ms`);
    fs.writeFileSync(
      path.join(ARTIFACTS, "bundled-vsix.json"),
      `${JSON.stringify({ vsix: path.basename(BUNDLED_VSIX), bytes: size, installMs: vs.installMs }, null, 2)}\n`,
    );
  });

  tearDown(async () => {
    await vs.close();
  });

  it("runs the bundled server with python3 from PATH: the status bar shows the model", TIMEOUT, async () => {
    const text = await vs.waitForStatus("claude-sonnet-4-20250514", 60_000);
    mark(`status bar with the bundled server: "${text}"`);
    await waitUntil("the log to say how the server was found", () =>
      /starting \S*python3\S* -I \S*bundled\/tool\/tuna_lsp_main\.py \(found via bundled\)/.test(vs.tunaLog()) ? true : undefined,
    );
  });

  it("picks a model with the bundled server: the file is written", TIMEOUT, async () => {
    await vs.runCommand("TunaCode: Select Model");
    await vs.waitForQuickPick("saved to the shared config");
    await vs.typeInQuickPick("gpt-4.1 mini");
    await (await vs.revealQuickPickRow(exactLabel(PICKED_MODEL))).click();
    await vs.waitForStatus("gpt-4.1-mini");
    await waitUntil("the config on disk to hold the picked model", () => (vs.readConfig().default_model === PICKED_MODEL ? true : undefined));
  });

  it("names tunacode.server.python in the notification when it is not a Python", TIMEOUT, async () => {
    const notPython = path.join(vs.runDir, "not-python");
    fs.writeFileSync(notPython, "#!/bin/sh\necho 'this is not python' >&2\nexit 5\n", { mode: 0o755 });
    vs.writeMachineSettings({ "tunacode.server.python": notPython });
    const toast = vs.notification("tunacode.server.python").first();
    await toast.waitFor({ timeout: 30_000 });
    const message = await toast.innerText();
    assert.ok(message.includes(notPython), message);
    assert.match(message, /not a usable Python 3\.11\+/);
    assert.match(message, /exited with code 5|Command failed/);
    assert.match(message, /Install Python 3\.11 or newer/);
    await vs.waitForStatus("no server");
    await vs.screenshot("bundled-bad-python.png");
  });
});

describe("server found on PATH (no setting)", () => {
  let vs: VsCodeSession;

  setUp(async () => {
    vs = await VsCodeSession.open({
      name: "path",
      pathPrepend: [path.dirname(serverExecutable())],
      tunacodeConfig: startConfig(),
    });
  });

  tearDown(async () => {
    await vs.close();
    console.log(`artifacts: ${ARTIFACTS}`);
  });

  it("starts tuna-lsp from the login shell's PATH", TIMEOUT, async () => {
    const text = await vs.waitForStatus("claude-sonnet-4-20250514");
    mark(`status bar with tuna-lsp on PATH: "${text}"`);
  });
});
