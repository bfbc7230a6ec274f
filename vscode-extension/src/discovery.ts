/**
 * Finding the server: reads what the user chose (settings, the Python extension's interpreter, workspace trust) and
 * the machine (PATH, the login shell's PATH, the bundled server's files), and hands them to the pure lookups in
 * locations.ts (where the server is) and python_finder.ts (a Python for the bundled one). Every OS decision is
 * platform.ts's: this module passes it `process.platform`.
 *
 * Starts processes only when needed (Python version probes, `xcode-select`, the login shell); never starts the
 * server, never touches the language client (client.ts does).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";

import { buildClone } from "./build_info";
import * as config from "./config";
import { unsafeReason } from "./file_trust";
import { discoverServer, type Candidate, type Discovery, type LookupEnv } from "./locations";
import { loginShellPath } from "./login_shell";
import { hostOs, isExecutable, osReleaseText, pythonInstallHint } from "./platform";
import { bundledCandidate, developerToolsInstalled, findPythons, probePython } from "./python_finder";

export interface FindContext {
  /** The extension's folder, which may carry the bundled server. */
  extensionPath: string;
  log: vscode.LogOutputChannel;
  /** Where the probes and the login shell run (work_dir.ts): never a workspace folder. */
  workDir: string;
}

/** This machine, as the pure lookups of locations.ts take it (for the server, and for the CLI's terminal). */
export function lookupEnv(): LookupEnv {
  const platform = process.platform;
  return {
    pathEnv: process.env.PATH,
    pathExt: process.env.PATHEXT,
    platform,
    home: os.homedir(),
    isExecutable: (file) => isExecutable(file, platform),
  };
}

/**
 * Finds the server (locations.ts DISCOVERY_ORDER). Processes run only when needed: the bundled server's Python is
 * asked for its version only when no server command is set, the login shell's PATH is read only when PATH does not
 * have what is looked for, and at most once.
 */
export async function findServer(ctx: FindContext): Promise<Discovery> {
  if (config.serverCommand().length > 0) {
    return discover(undefined, undefined);
  }
  let login: Promise<string | undefined> | undefined;
  const loginPath = (): Promise<string | undefined> =>
    (login ??= loginShellPath(process.env.SHELL, process.env, { platform: process.platform, cwd: ctx.workDir }));
  const bundled = await bundledServer(ctx, loginPath);
  const first = discover(bundled, undefined);
  if (first.found !== undefined || bundled?.final === true) {
    return first;
  }
  return discover(bundled, await loginPath());
}

function discover(bundled: Candidate | undefined, loginPathEnv: string | undefined): Discovery {
  return discoverServer({
    ...lookupEnv(),
    settingCommand: config.serverCommand(),
    bundled,
    cloneRoot: buildClone,
    trusted: vscode.workspace.isTrusted,
    unsafeReason: (file) => unsafeReason(file, process.getuid?.(), process.platform),
    loginPathEnv,
  });
}

/** The server carried in the .vsix and a Python to run it, or undefined when this build carries none. */
async function bundledServer(ctx: FindContext, loginPath: () => Promise<string | undefined>): Promise<Candidate | undefined> {
  const launcher = path.join(ctx.extensionPath, "bundled", "tool", "tuna_lsp_main.py");
  if (!fs.existsSync(launcher) || !fs.existsSync(path.join(ctx.extensionPath, "bundled", "libs", "tuna_lsp"))) {
    return undefined;
  }
  const { probes, fromSetting } = await findPythons({
    ...lookupEnv(),
    setting: config.serverPython(),
    extensionInterpreter: () => pythonExtensionInterpreter(ctx.log),
    loginPath,
    probe: (candidate) => probePython(candidate, ctx.workDir),
    developerTools: () => developerToolsInstalled(ctx.workDir),
  });
  const hint = pythonInstallHint(hostOs(process.platform, osReleaseText(process.platform)));
  return bundledCandidate(probes, fromSetting, launcher, hint);
}

/**
 * The interpreter the Python extension (ms-python.python) has selected for the first folder, if it is installed and
 * the workspace is trusted (the Python extension may have picked a workspace's own .venv). Never throws.
 */
async function pythonExtensionInterpreter(log: vscode.LogOutputChannel): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension("ms-python.python");
  if (extension === undefined || !vscode.workspace.isTrusted) {
    return undefined;
  }
  try {
    const api = (await withTimeout(Promise.resolve(extension.activate()), 10_000)) as PythonApi | undefined;
    const environments = api?.environments;
    if (environments === undefined) {
      return undefined;
    }
    const active = environments.getActiveEnvironmentPath(vscode.workspace.workspaceFolders?.[0]?.uri);
    const resolved = await withTimeout(environments.resolveEnvironment(active), 10_000);
    return resolved?.executable.uri?.fsPath ?? active.path;
  } catch (error) {
    log.warn(`the Python extension did not say which interpreter it uses: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

/** The part of the Python extension's API used here (its `environments` API, stable since 2023). */
interface PythonApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(env: { path: string }): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no answer within ${String(ms / 1000)} s`));
      }, ms);
    }),
  ]).finally(() => {
    clearTimeout(timer);
  });
}
