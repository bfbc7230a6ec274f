/**
 * The connection to tuna-lsp: starts, stops and restarts the server discovery.ts found, and keeps the latest
 * ModelState the server sent. Owns the LanguageClient; nothing else creates or disposes one. Finding the server is
 * discovery.ts's job, not this module's.
 *
 * Nothing here throws at its callers for a server that is missing or dies: the phase says what happened, and the
 * user is told once, with what was tried and how to install the server.
 */
import * as os from "os";
import * as vscode from "vscode";
import * as lc from "vscode-languageclient/node";

import { buildClone } from "./build_info";
import * as config from "./config";
import { findServer } from "./discovery";
import { expandHome, type Attempt, type ServerCommand } from "./locations";
import * as ext from "./lsp_ext";
import { OneAtATime } from "./one_at_a_time";
import { ServerProcess } from "./server_process";
import { startFailureMessage } from "./model_status";
import { redactTraceText } from "./trace_redaction";
import { childWorkDir } from "./work_dir";

export type ServerPhase =
  | { kind: "stopped" }
  | { kind: "starting" }
  | { kind: "running"; server: ServerCommand }
  | { kind: "failed"; reason: string; tried: Attempt[] };

/**
 * A LanguageClient that leaves start failures to TunaClient: the library forces a bare "couldn't create connection"
 * notification, while TunaClient's says what was tried and how to fix it. Everything still goes to the log.
 */
class QuietStartClient extends lc.LanguageClient {
  override error(message: string, data?: unknown, showNotification: boolean | "force" = true): void {
    const quiet = showNotification === "force" && this.state !== lc.State.Running;
    super.error(message, data, quiet ? false : showNotification);
  }
}

/**
 * The channel the client writes its trace of the server traffic to: the log, minus the text of the config
 * documents (tunacode.json holds API keys), whatever the trace level.
 */
class RedactingTraceChannel implements vscode.OutputChannel {
  readonly name: string;
  constructor(private readonly log: vscode.OutputChannel) {
    this.name = log.name;
  }
  append(value: string): void {
    this.log.append(redactTraceText(value));
  }
  appendLine(value: string): void {
    this.log.appendLine(redactTraceText(value));
  }
  replace(value: string): void {
    this.log.replace(redactTraceText(value));
  }
  clear(): void {
    this.log.clear();
  }
  show(columnOrPreserve?: vscode.ViewColumn | boolean, preserveFocus?: boolean): void {
    this.log.show(typeof columnOrPreserve === "boolean" ? columnOrPreserve : preserveFocus);
  }
  hide(): void {
    this.log.hide();
  }
  dispose(): void {
    // The log belongs to the extension, not to one client.
  }
}

/** One server process and the client talking to it, from the start of a server until the next one. */
interface Launch {
  found: ServerCommand;
  commandLine: string;
  server: ServerProcess;
  client: lc.LanguageClient;
  crashPolicy: CrashPolicy;
  /** The client started once: later state changes are the client's own restarts of a server that died. */
  ran: boolean;
}

export class ServerNotRunning extends Error {
  constructor() {
    super("the tuna-lsp server is not running (see TunaCode: Show Logs)");
  }
}

/** Restarts a server that dies after it ran, a few times; a server that keeps dying is left stopped. */
class CrashPolicy implements lc.ErrorHandler {
  private crashes: number[] = [];
  private runningSinceRestart = false;
  constructor(private readonly onGiveUp: (reason: string) => void) {}

  /** The server answered initialize (first start or a restart). */
  noteRunning(): void {
    this.runningSinceRestart = true;
  }

  error(): lc.ErrorHandlerResult {
    return { action: lc.ErrorAction.Continue, handled: true };
  }

  closed(): lc.CloseHandlerResult {
    if (!this.runningSinceRestart) {
      // Died before initialize answered (first start or a restart): the start path reports it, once.
      return { action: lc.CloseAction.DoNotRestart, handled: true };
    }
    this.runningSinceRestart = false;
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < 3 * 60_000);
    this.crashes.push(now);
    if (this.crashes.length <= 4) {
      return { action: lc.CloseAction.Restart, handled: true };
    }
    this.onGiveUp("the server stopped 5 times in 3 minutes and is not restarted again");
    return { action: lc.CloseAction.DoNotRestart, handled: true };
  }
}

export class TunaClient implements vscode.Disposable {
  private client: lc.LanguageClient | undefined;
  private server: ServerProcess | undefined;
  private _phase: ServerPhase = { kind: "stopped" };
  private _state: ext.ModelState | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly restarts = new OneAtATime(
    async () => {
      this.keepSessionChoice();
      this.log.info("restarting the server");
      await this.stop();
      await this.start();
    },
    () => this.disposed,
  );
  /** This window's session model, to set again on the next server after a restart. */
  private sessionToRestore: string | undefined;
  private disposed = false;
  private startInFlight: Promise<void> | undefined;

  /** Fires when the phase or the model state changes. */
  readonly onDidChange = this.changed.event;
  private readonly notified = new vscode.EventEmitter<ext.ModelState>();
  /** Fires for every tuna/modelChanged of the current server (not for answers to requests). */
  readonly onModelChanged = this.notified.event;

  /**
   * `storageDir` is the extension's global storage folder (`ExtensionContext.globalStorageUri`): the working
   * directory of the server and of every Python the extension runs (work_dir.ts), created when missing.
   */
  constructor(
    readonly extensionPath: string,
    readonly log: vscode.LogOutputChannel,
    private readonly storageDir: string | undefined,
  ) {}

  /** Where the server and the probes run: the storage folder, else the temporary one; never a workspace folder. */
  private workDir(): string {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file").map((f) => f.uri.fsPath);
    return childWorkDir(this.storageDir, folders);
  }

  get phase(): ServerPhase {
    return this._phase;
  }

  /** The latest ModelState from the server; undefined until the first one arrives. */
  get state(): ext.ModelState | undefined {
    return this._state;
  }

  private setPhase(phase: ServerPhase): void {
    this._phase = phase;
    this.changed.fire();
  }

  /** Takes a state from a notification or a response; states of a replaced client are dropped by the caller. */
  private setState(state: ext.ModelState): void {
    this._state = state;
    this.changed.fire();
  }

  /**
   * Starts the server unless it runs; resolves when it runs or has failed (never rejects). A start asked for while
   * one is under way (finding the server takes processes) joins it.
   */
  start(): Promise<void> {
    this.startInFlight ??= this.startOnce().finally(() => {
      this.startInFlight = undefined;
    });
    return this.startInFlight;
  }

  private isDisposed(): boolean {
    return this.disposed;
  }

  private async startOnce(): Promise<void> {
    if (this.disposed || this.client !== undefined) {
      return;
    }
    this.setPhase({ kind: "starting" });
    const { found, reason, tried, hint } = await findServer({ extensionPath: this.extensionPath, log: this.log, workDir: this.workDir() });
    if (this.isDisposed()) {
      return;
    }
    if (found === undefined) {
      this.fail(reason, tried, hint);
      return;
    }
    const launch = this.launch(found);
    if (await this.startClient(launch, tried)) {
      await this.afterStart(launch);
    }
  }

  /** Makes the server process and its client, now the current ones, and follows what they do. */
  private launch(found: ServerCommand): Launch {
    const commandLine = [found.command, ...found.args].join(" ");
    const cwd = this.workDir();
    this.log.info(`starting ${commandLine} (found via ${found.source}) in ${cwd}`);
    const server = new ServerProcess(found.command, found.args, { ...process.env }, cwd);
    const crashPolicy = new CrashPolicy((why) => {
      this.fail(why, [{ place: commandLine, detail: why }]);
    });
    const client = new QuietStartClient("tunacode", "TunaCode", () => server.spawn(), this.clientOptions(crashPolicy));
    const launch: Launch = { found, commandLine, server, client, crashPolicy, ran: false };
    this.client = client;
    this.server = server;
    this.follow(launch);
    return launch;
  }

  private clientOptions(crashPolicy: CrashPolicy): lc.LanguageClientOptions {
    const configPath = config.configPath();
    return {
      // The server checks, completes and explains the config files themselves, and refuses to write the shared
      // config while it has unsaved edits here: it must see those documents.
      documentSelector: configDocuments(configPath),
      outputChannel: this.log,
      traceOutputChannel: new RedactingTraceChannel(this.log),
      revealOutputChannelOn: lc.RevealOutputChannelOn.Never,
      initializationOptions: initializationOptions(configPath),
      initializationFailedHandler: () => false,
      errorHandler: crashPolicy,
    };
  }

  /** Takes the notifications and state changes of a launch's client while it is the current one. */
  private follow(launch: Launch): void {
    const { client } = launch;
    client.onNotification(ext.modelChanged, (state) => {
      if (this.client === client) {
        this.setState(state);
        this.notified.fire(state);
      }
    });
    client.onNotification(ext.catalogChanged, (params) => {
      if (this.client === client) {
        this.setState(params.state);
      }
    });
    client.onDidChangeState((e) => {
      if (this.client === client) {
        this.clientStateChanged(launch, e);
      }
    });
  }

  private clientStateChanged(launch: Launch, e: lc.StateChangeEvent): void {
    if (e.newState === lc.State.Running) {
      launch.crashPolicy.noteRunning();
      this.setPhase({ kind: "running", server: launch.found });
      if (launch.ran) {
        // The client restarted a server that died: this window's session choice carries over.
        void this.restoreSession(launch.client);
      }
    } else if (e.newState === lc.State.Starting && launch.ran) {
      this.keepSessionChoice();
      this.setPhase({ kind: "starting" });
    } else if (e.newState === lc.State.Stopped && e.oldState === lc.State.Starting && launch.ran) {
      void this.reportFailedRestart(launch);
    }
  }

  /**
   * The client's own restart of a server that died did not get it running again. Says how it ended: waits (briefly)
   * for the exit to be seen before reading its code and last words.
   */
  private async reportFailedRestart(launch: Launch): Promise<void> {
    await launch.server.waitForExit(1000);
    if (this.client !== launch.client) {
      return;
    }
    const said = launch.server.lastStderrLine();
    const how = `${launch.server.exit ?? "did not answer"}${said !== undefined ? `: ${said}` : ""}`;
    this.fail(`${launch.commandLine} could not be restarted: it ${how}`, [{ place: launch.commandLine, detail: how }]);
  }

  /** Starts the launch's client; true when it runs and is still the current one. */
  private async startClient(launch: Launch, tried: readonly Attempt[]): Promise<boolean> {
    try {
      await launch.client.start();
      if (!launch.client.isRunning()) {
        // vscode-languageclient 9: when the connection closes during initialize, its close handler may run first
        // and clear the start promise, so start() resolves instead of rejecting (seen with a server that exits
        // at once, on a loaded machine). Treated as the failed start it is.
        throw new Error("the server stopped while starting");
      }
      launch.ran = true;
    } catch (error) {
      if (this.client === launch.client) {
        await this.reportFailedStart(launch, tried, error);
      }
      return false;
    }
    return this.client === launch.client;
  }

  /** Says how the server ended, not just that the pipe broke: waits (briefly) for the exit, then reads its stderr. */
  private async reportFailedStart(launch: Launch, tried: readonly Attempt[], error: unknown): Promise<void> {
    this.client = undefined;
    await launch.server.waitForExit(1000);
    const how = launch.server.exit ?? `did not answer (${errorText(error)})`;
    const said = launch.server.lastStderrLine();
    const ending = `${how}${said !== undefined ? `: ${said}` : ""}`;
    await this.disposeClient(launch.client, launch.server);
    this.fail(`${launch.commandLine} ${ending}`, [
      ...tried,
      { place: launch.commandLine, detail: `found via ${launch.found.source}; ${ending}` },
    ]);
  }

  /** The server runs: takes its first state, and sets this window's session choice again on it. */
  private async afterStart(launch: Launch): Promise<void> {
    this.setPhase({ kind: "running", server: launch.found });
    try {
      this.setState(await launch.client.sendRequest(ext.getModel));
    } catch (error) {
      this.log.warn(`tuna/getModel failed: ${errorText(error)}`);
    }
    await this.restoreSession(launch.client);
  }

  /**
   * The window was trusted just now: a development build's clone may run from here on, so a server found past it
   * (on PATH) or none at all is looked for again. Nothing changes for a build that knows no clone.
   */
  trustGranted(): void {
    if (buildClone === undefined || this.disposed) {
      return;
    }
    const phase = this._phase;
    if (phase.kind === "failed" || (phase.kind === "running" && (phase.server.source === "path" || phase.server.source === "login-path"))) {
      this.log.info("the window is trusted now: looking for the server again");
      void this.restart();
    }
  }

  /** Remembers this window's session choice before its server goes away. */
  private keepSessionChoice(): void {
    if (this._state?.scope === "session") {
      this.sessionToRestore = this._state.model;
    }
  }

  /**
   * A session choice belongs to the window, not to one server process: after a restart it is set again on the new
   * server (session scope, so nothing is written).
   */
  private async restoreSession(client: lc.LanguageClient): Promise<void> {
    const model = this.sessionToRestore;
    this.sessionToRestore = undefined;
    if (model === undefined || this.client !== client) {
      return;
    }
    try {
      const result = await client.sendRequest(ext.setModel, { model, scope: "session" });
      if (this.client === client) {
        this.setState(result);
      }
      this.log.info(`session choice ${model} restored on the new server`);
    } catch (error) {
      this.log.warn(`could not restore the session choice ${model}: ${errorText(error)}`);
    }
  }

  /** Stops the server if it runs; never rejects. */
  async stop(): Promise<void> {
    const client = this.client;
    const server = this.server;
    this.client = undefined;
    this.server = undefined;
    if (client !== undefined) {
      await this.disposeClient(client, server);
    }
    if (!this.disposed) {
      this.setPhase({ kind: "stopped" });
    }
  }

  /**
   * Stops and starts the server, one restart at a time: a restart asked for while one runs is queued (once,
   * however often it is asked) and runs when the current one is done, so the last settings always win.
   */
  restart(): Promise<void> {
    return this.restarts.run();
  }

  private fail(reason: string, tried: Attempt[], hint?: string): void {
    this.log.error(`server not running: ${reason}`);
    for (const t of tried) {
      this.log.error(`  tried ${t.place}: ${t.detail}`);
    }
    const alreadyTold = this._phase.kind === "failed";
    this.setPhase({ kind: "failed", reason, tried });
    if (alreadyTold) {
      return;
    }
    void vscode.window
      .showErrorMessage(startFailureMessage(reason, tried, hint), "Install Instructions", "Open Settings", "Show Logs")
      .then((choice) => {
        switch (choice) {
          case "Install Instructions":
            return vscode.commands.executeCommand("tunacode.showInstallInstructions");
          case "Open Settings":
            return vscode.commands.executeCommand(
              "workbench.action.openSettings",
              hint !== undefined ? "tunacode.server" : "tunacode.server.command",
            );
          case "Show Logs":
            this.log.show();
            return undefined;
          default:
            return undefined;
        }
      });
  }

  private async disposeClient(client: lc.LanguageClient, server: ServerProcess | undefined): Promise<void> {
    try {
      await client.dispose(2000);
    } catch (error) {
      this.log.debug(`stopping the client: ${errorText(error)}`);
    }
    server?.kill();
  }

  private running(): lc.LanguageClient {
    if (this.client === undefined || this._phase.kind !== "running") {
      throw new ServerNotRunning();
    }
    return this.client;
  }

  async getModel(): Promise<ext.ModelState> {
    const state = await this.running().sendRequest(ext.getModel);
    this.setState(state);
    return state;
  }

  async setModel(params: ext.SetModelParams): Promise<ext.SetModelResult> {
    const client = this.running();
    const result = await client.sendRequest(ext.setModel, params);
    if (this.client === client) {
      this.setState(result);
    }
    return result;
  }

  /** Drops this window's session choice or this folder's workspace choice. */
  async clearModel(scope: ext.ClearScope): Promise<ext.ChangeResult> {
    const client = this.running();
    const result = await client.sendRequest(ext.clearModel, { scope });
    if (this.client === client) {
      this.setState(result);
    }
    return result;
  }

  /** Puts back the choice a running tunacode's stale save undid (PROTOCOL.md section 9). */
  async restoreOverwrite(): Promise<ext.ChangeResult> {
    const client = this.running();
    const result = await client.sendRequest(ext.restoreOverwrite, {});
    if (this.client === client) {
      this.setState(result);
    }
    return result;
  }

  listModels(params: ext.ListModelsParams, token?: vscode.CancellationToken): Promise<ext.ListModelsResult> {
    return this.running().sendRequest(ext.listModels, params, token);
  }

  history(params: ext.HistoryParams): Promise<ext.HistoryResult> {
    return this.running().sendRequest(ext.history, params);
  }

  /** Save outcomes and model usage of the last `days` days (PROTOCOL.md section 10). */
  usage(params: ext.UsageParams): Promise<ext.Usage> {
    return this.running().sendRequest(ext.usage, params);
  }

  dispose(): void {
    this.disposed = true;
    void this.stop();
    this.changed.dispose();
    this.notified.dispose();
  }
}

function initializationOptions(configPath: string): ext.InitializationOptions {
  return {
    ...(configPath !== "" ? { configPath } : {}),
    staleOverwrite: config.staleOverwrite(),
  };
}

/** The documents the server works on: any tunacode.json, tunacode's preferences.toml, and the configured path. */
function configDocuments(configPath: string): lc.DocumentSelector {
  const selector: lc.DocumentSelector = [
    { scheme: "file", pattern: "**/tunacode.json" },
    { scheme: "file", pattern: "**/tunacode/preferences.toml" },
  ];
  // The configured file itself, unless its path holds characters a glob would read as syntax.
  const file = configPath !== "" ? expandHome(configPath, os.homedir(), process.platform) : "";
  if (file !== "" && !/[*?{}[\]!]/.test(file)) {
    selector.push({ scheme: "file", pattern: file });
  }
  return selector;
}

export function errorText(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}
