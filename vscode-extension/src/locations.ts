/**
 * Where things are: the tuna-lsp executable, the tunacode CLI and the shared config file.
 *
 * Pure logic over an injected environment (PATH, folders, a file test), so it runs under plain Node in the
 * unit tests. Must not import vscode, start processes or read settings: the caller passes what it read.
 */
import { pathApi, programSuffixes, venvExecutables } from "./platform";

export const SERVER_PROGRAM = "tuna-lsp";

export interface LookupEnv {
  /** The PATH of the extension host process. */
  pathEnv: string | undefined;
  /** PATHEXT on Windows. */
  pathExt?: string | undefined;
  platform: NodeJS.Platform;
  home: string;
  /** True when `file` exists, is a regular file (symlinks followed) and may be executed. */
  isExecutable: (file: string) => boolean;
}

export interface DiscoveryInput extends LookupEnv {
  /** `tunacode.server.command` from the user's settings (never a workspace's); empty when unset. */
  settingCommand: readonly string[];
  /**
   * The server carried in the .vsix, with the Python chosen to run it; undefined when this build carries none.
   * Working it out takes processes (Python versions), so the caller does it and passes the outcome.
   */
  bundled: Candidate | undefined;
  /**
   * The clone of the repository the extension was built from (recorded at build time), or undefined when it was
   * not built from one: its `.venv` holds the server a developer installed with `make venv`.
   */
  cloneRoot: string | undefined;
  /**
   * `vscode.workspace.isTrusted`: a development build's clone is run only in a trusted window (in an untrusted one
   * discovery goes on past it).
   */
  trusted: boolean;
  /** Why a found program must not be run (another user could have put it there), or undefined when it may. */
  unsafeReason: (file: string) => string | undefined;
  /**
   * The PATH of the user's login shell, when it was read: an editor started from a desktop launcher gets a shorter
   * PATH than the user's terminal. Undefined when not read (yet).
   */
  loginPathEnv: string | undefined;
}

/** The outcome of looking in one place: what was found there, or why nothing was. */
export interface Candidate {
  found?: ServerCommand;
  attempt: Attempt;
  /** Nothing later in the order is tried: the user named this place (a wrong value must show). */
  final?: boolean;
  /** What to do about it, for the notification when nothing is found. */
  hint?: string;
}

export type ServerSource = "setting" | "bundled" | "clone-venv" | "path" | "login-path";

export interface ServerCommand {
  command: string;
  args: string[];
  source: ServerSource;
}

/** A place the server was looked for: a short name for a notification, and what exactly was found there. */
export interface Attempt {
  place: string;
  detail: string;
}

export interface Discovery {
  found: ServerCommand | undefined;
  /** Why nothing was found; empty when found. */
  reason: string;
  /** What to do about it beyond installing tuna-lsp (a missing Python, say); undefined when nothing special. */
  hint?: string;
  /** The places looked at, in order. */
  tried: Attempt[];
}

/** Expands a leading `~` to the home directory, as a shell would in a setting's value. */
export function expandHome(value: string, home: string, platform: NodeJS.Platform): string {
  const p = pathApi(platform);
  if (value === "~") {
    return home;
  }
  if (value.startsWith("~/") || value.startsWith(`~${p.sep}`)) {
    return p.join(home, value.slice(2));
  }
  return value;
}

/**
 * Resolves a program name or path the way a shell would: a value with a directory part must be an absolute path
 * (relative ones would depend on the editor's working directory); a bare name is searched on PATH.
 */
export function resolveProgram(program: string, env: LookupEnv): string | undefined {
  const p = pathApi(env.platform);
  const expanded = expandHome(program.trim(), env.home, env.platform);
  if (expanded === "") {
    return undefined;
  }
  const hasDir = expanded.includes("/") || expanded.includes(p.sep);
  if (hasDir) {
    return p.isAbsolute(expanded) && env.isExecutable(expanded) ? expanded : undefined;
  }
  const exts = programSuffixes(env.platform, env.pathExt);
  for (const dir of (env.pathEnv ?? "").split(p.delimiter)) {
    if (dir === "" || !p.isAbsolute(dir)) {
      continue;
    }
    for (const ext of exts) {
      const candidate = p.join(dir, expanded + ext);
      if (env.isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/**
 * The server's console script in the `.venv` of `dir`: the first that is there of the places the venv layout of the
 * platform allows (`Scripts\tuna-lsp.exe` on Windows, `bin/tuna-lsp` elsewhere); the likeliest when none is.
 */
function venvServer(dir: string, env: LookupEnv): string {
  const candidates = venvExecutables(pathApi(env.platform).join(dir, ".venv"), SERVER_PROGRAM, env.platform, env.pathExt);
  return candidates.find((c) => env.isExecutable(c)) ?? candidates[0] ?? SERVER_PROGRAM;
}

/** Where the server is looked for, in this order (README "Finding the server"; the Neovim plugin uses the same). */
export const DISCOVERY_ORDER = [
  "tunacode.server.command",
  "bundled server",
  "the clone's .venv",
  "PATH",
] as const;

/**
 * Finds the command that starts the server, in DISCOVERY_ORDER: the user setting, the server bundled in the .vsix,
 * the `.venv` of the exact clone a development build was built from (in a trusted window only), `tuna-lsp` on PATH
 * (the editor's, then the login shell's). An explicit setting is the only candidate when set (a typo there must show, not silently fall back to
 * another server). No other folder is searched: not a workspace's `.venv` (a cloned repository must not choose
 * what runs), nor a `.venv` above the extension (`~/.venv`, `/.venv` belong to someone or something else).
 */
export function discoverServer(input: DiscoveryInput): Discovery {
  const tried: Attempt[] = [];
  const [program, ...args] = input.settingCommand;
  if (program !== undefined && program.trim() !== "") {
    const resolved = resolveProgram(program, input);
    if (resolved !== undefined) {
      return { found: { command: resolved, args, source: "setting" }, reason: "", tried };
    }
    tried.push({
      place: "tunacode.server.command",
      detail: `"${program}" is not an executable file (an absolute path, or a program on PATH)`,
    });
    return { found: undefined, reason: `the tunacode.server.command setting names "${program}", which was not found`, tried };
  }
  tried.push({ place: "tunacode.server.command", detail: "not set" });

  for (const candidate of [
    input.bundled ?? { attempt: { place: "bundled server", detail: "this build of the extension carries none" } },
    cloneVenv(input),
    onPath(input),
  ]) {
    if (candidate.found !== undefined) {
      return { found: candidate.found, reason: "", tried };
    }
    tried.push(candidate.attempt);
    if (candidate.final === true) {
      return { found: undefined, reason: candidate.attempt.detail, tried, ...hintOf(candidate) };
    }
  }
  return { found: undefined, reason: `${SERVER_PROGRAM} was not found`, tried, ...hintOf(input.bundled) };
}

function hintOf(c: Candidate | undefined): { hint?: string } {
  return c?.hint !== undefined ? { hint: c.hint } : {};
}

/**
 * The server in the `.venv` of the clone a development build was built from, if it is there and safe to run, and
 * the window is trusted.
 */
function cloneVenv(input: DiscoveryInput): Candidate {
  const place = "the clone's .venv";
  if (input.cloneRoot === undefined || input.cloneRoot === "") {
    return { attempt: { place, detail: "the extension was not built from a clone of the repository" } };
  }
  if (!input.trusted) {
    return {
      attempt: { place, detail: `${input.cloneRoot}: not used in an untrusted window (a development build's clone runs only in trusted ones)` },
    };
  }
  const candidate = venvServer(input.cloneRoot, input);
  if (!input.isExecutable(candidate)) {
    return { attempt: { place, detail: `${candidate}: not found (run \`make venv\` in ${input.cloneRoot})` } };
  }
  const unsafe = input.unsafeReason(candidate);
  if (unsafe !== undefined) {
    return { attempt: { place, detail: `${candidate}: not run, ${unsafe}` } };
  }
  return { found: { command: candidate, args: [], source: "clone-venv" }, attempt: { place, detail: candidate } };
}

/** `tuna-lsp` on the editor's PATH, else on the login shell's. */
function onPath(input: DiscoveryInput): Candidate {
  const found = resolveProgram(SERVER_PROGRAM, input);
  if (found !== undefined) {
    return { found: { command: found, args: [], source: "path" }, attempt: { place: "PATH", detail: found } };
  }
  if (input.loginPathEnv !== undefined && input.loginPathEnv !== input.pathEnv) {
    const login = resolveProgram(SERVER_PROGRAM, { ...input, pathEnv: input.loginPathEnv });
    if (login !== undefined) {
      return { found: { command: login, args: [], source: "login-path" }, attempt: { place: "PATH", detail: login } };
    }
  }
  const login =
    input.loginPathEnv === undefined
      ? ""
      : input.loginPathEnv === input.pathEnv
        ? " (the login shell's is the same)"
        : ` nor on the login shell's PATH (${input.loginPathEnv})`;
  return { attempt: { place: "PATH", detail: `no ${SERVER_PROGRAM} on PATH (${input.pathEnv ?? ""})${login}` } };
}

/**
 * The shared config's path as the server will choose it (PROTOCOL.md section 1), for when the server cannot say:
 * the setting, else TUNACODE_CONFIG, else ~/.config/tunacode.json.
 */
export function sharedConfigPath(
  setting: string,
  tunacodeConfigEnv: string | undefined,
  home: string,
  platform: NodeJS.Platform,
): string {
  const p = pathApi(platform);
  const chosen = setting.trim() !== "" ? setting.trim() : (tunacodeConfigEnv ?? "").trim();
  if (chosen !== "") {
    return p.resolve(expandHome(chosen, home, platform));
  }
  return p.join(home, ".config", "tunacode.json");
}
