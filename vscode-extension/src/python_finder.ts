/**
 * A Python 3.11+ to run the server bundled in the .vsix: the `tunacode.server.python` setting, else the Python
 * extension's selected interpreter, else the Pythons of platform.ts on PATH (`python3`; `py -3` first on Windows),
 * the editor's PATH, then the login shell's. Each candidate is asked for its version by running it; what was found
 * is kept, to say exactly that when none will do. Apple's `/usr/bin/python3` stub is run only when the Command Line
 * Tools are installed (`xcode-select -p`): without them it opens their install dialog.
 *
 * Node only (no vscode import): the caller reads the setting and the Python extension and passes them in.
 */
import { execFile, type ExecFileException } from "child_process";

import { resolveProgram, type Candidate, type LookupEnv } from "./locations";
import { needsDeveloperTools, pythonCommands, XCODE_SELECT } from "./platform";

export const MIN_PYTHON: readonly [number, number] = [3, 11];

export interface PythonCandidate {
  /** The program to run, an absolute path. */
  path: string;
  /** Arguments before the Python's own: `["-3"]` for the `py` launcher; none for a Python. */
  args?: readonly string[];
  /** Where it came from, for messages: "tunacode.server.python", "the Python extension", "PATH", ... */
  origin: string;
}

export interface Probe extends PythonCandidate {
  /** [major, minor, micro] when it ran as a Python. */
  version?: [number, number, number];
  /** Why it could not be used, when it could not. */
  problem?: string;
}

const MARK = "TUNACODE_PYTHON";

/**
 * The arguments of a version probe: isolated mode (`-I`: neither the working directory nor PYTHON* variables nor the
 * user's site-packages decide what it imports), and nothing imported but `sys`.
 */
export const PROBE_ARGS: readonly string[] = ["-I", "-c", `import sys; print("${MARK}", *sys.version_info[:3])`];

/**
 * Runs `path` as a Python (isolated mode, in `cwd`: never the workspace, see work_dir.ts) and reads its version; a
 * non-Python or a hang is a problem, not a throw.
 */
export function probePython(candidate: PythonCandidate, cwd: string, timeoutMs = 10_000): Promise<Probe> {
  return new Promise((resolve) => {
    execFile(
      candidate.path,
      [...(candidate.args ?? []), ...PROBE_ARGS],
      { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024, windowsHide: true },
      (error, stdout, stderr) => {
        const version = parseProbe(stdout);
        if (version !== undefined) {
          resolve({ ...candidate, version });
          return;
        }
        const said = (stderr || stdout).trim().split(/\r?\n/).at(-1)?.slice(0, 200) ?? "";
        resolve({ ...candidate, problem: `not a Python that runs (${howItEnded(error, timeoutMs)}${said !== "" ? `: ${said}` : ""})` });
      },
    );
  });
}

function howItEnded(error: ExecFileException | null, timeoutMs: number): string {
  if (error === null) {
    return "printed no version";
  }
  if (error.killed) {
    return `did not answer within ${String(timeoutMs / 1000)} s`;
  }
  if (typeof error.code === "number") {
    return `exited with code ${String(error.code)}`;
  }
  if (error.signal !== undefined) {
    return `was killed by ${error.signal}`;
  }
  // ENOENT, EACCES, ...: it could not be started at all.
  return typeof error.code === "string" ? `could not be started: ${error.code}` : "could not be started";
}

/** The version a probe printed, or undefined. */
export function parseProbe(stdout: string): [number, number, number] | undefined {
  const m = new RegExp(`^${MARK} (\\d+) (\\d+) (\\d+)\\s*$`, "m").exec(stdout);
  if (m === null) {
    return undefined;
  }
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function usable(p: Probe): boolean {
  return p.version !== undefined && (p.version[0] > MIN_PYTHON[0] || (p.version[0] === MIN_PYTHON[0] && p.version[1] >= MIN_PYTHON[1]));
}

/** The command line of a candidate, for messages: "/usr/bin/python3", "C:\\Windows\\py.exe -3". */
export function commandOf(c: PythonCandidate): string {
  return [c.path, ...(c.args ?? [])].join(" ");
}

/** "/usr/bin/python3 (PATH): 3.9.2, too old" and the like, one per probe. */
export function describeProbe(p: Probe): string {
  if (p.version !== undefined) {
    return `${commandOf(p)} (${p.origin}): ${p.version.join(".")}${usable(p) ? "" : ", too old"}`;
  }
  return `${commandOf(p)} (${p.origin}): ${p.problem ?? "unknown"}`;
}

/**
 * The outcome of looking for a Python to run the bundled server with. `fromSetting` candidates are the only ones
 * when the setting is set (a wrong path there must show, not quietly run another Python or another server).
 * `hint`: what to install, for this OS (platform.ts pythonInstallHint).
 */
export function bundledCandidate(
  probes: readonly Probe[],
  fromSetting: boolean,
  launcher: string,
  hint: string,
): Candidate & { final?: boolean; hint?: string } {
  const place = "bundled server";
  const good = probes.find(usable);
  if (good !== undefined) {
    return {
      found: { command: good.path, args: [...(good.args ?? []), "-I", launcher], source: "bundled" },
      attempt: { place, detail: `run with ${describeProbe(good)}` },
    };
  }
  const found = probes.length > 0 ? probes.map(describeProbe).join("; ") : "no python3 on PATH";
  if (fromSetting) {
    const p = probes[0];
    const what = p === undefined ? "nothing" : p.version !== undefined ? `it is Python ${p.version.join(".")}, too old` : (p.problem ?? "unknown");
    return {
      attempt: {
        place,
        detail: `tunacode.server.python names ${p !== undefined ? commandOf(p) : "nothing"}, which is not a usable Python 3.11+: ${what}`,
      },
      final: true,
      hint,
    };
  }
  return {
    attempt: { place, detail: `no Python 3.11+ to run it (found: ${found})` },
    hint,
  };
}

/**
 * Whether Apple's Command Line Tools are installed: `xcode-select -p` succeeds, within `timeoutMs` (a hang is a no).
 * Asked only on macOS, before running `/usr/bin/python3`. `program` is replaced in the tests.
 */
export function developerToolsInstalled(cwd: string, timeoutMs = 5000, program: string = XCODE_SELECT): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(program, ["-p"], { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024, windowsHide: true }, (error) => {
      resolve(error === null);
    });
  });
}

/** What finding a Python for the bundled server needs: the machine, the user's choices, and how to run things. */
export interface PythonSearch extends LookupEnv {
  /** `tunacode.server.python`, trimmed; empty when unset. */
  setting: string;
  /** The Python extension's selected interpreter, when there is one to take. */
  extensionInterpreter: () => Promise<string | undefined>;
  /** The login shell's PATH (read once, when first asked for). */
  loginPath: () => Promise<string | undefined>;
  /** Runs a candidate for its version (probePython in the extension). */
  probe: (candidate: PythonCandidate) => Promise<Probe>;
  /** Whether Apple's Command Line Tools are installed (developerToolsInstalled in the extension). */
  developerTools: () => Promise<boolean>;
}

export interface PythonsFound {
  /** Every candidate run (or not run, and why), in order; the first usable one runs the server. */
  probes: Probe[];
  /** The setting named the only candidate. */
  fromSetting: boolean;
}

const SETTING = "tunacode.server.python";

/**
 * Looks for a Python 3.11+ in the order of the module docstring, running candidates (each command once) until one is
 * usable. Processes run only when needed: the login shell is read only when the editor's PATH had no usable Python,
 * `xcode-select` only before Apple's stub.
 */
export async function findPythons(search: PythonSearch): Promise<PythonsFound> {
  const probe = gatedProbe(search);
  if (search.setting !== "") {
    return { probes: [await settingProbe(search, probe)], fromSetting: true };
  }
  const probes: Probe[] = [];
  /** Runs the candidates not run yet, in order; true when one is usable. */
  const tryEach = async (candidates: readonly PythonCandidate[]): Promise<boolean> => {
    for (const candidate of candidates) {
      if (!probes.some((p) => commandOf(p) === commandOf(candidate))) {
        const p = await probe(candidate);
        probes.push(p);
        if (usable(p)) {
          return true;
        }
      }
    }
    return false;
  };
  if (!(await tryEach(await firstCandidates(search)))) {
    await tryEach(await loginShellCandidates(search));
  }
  return { probes, fromSetting: false };
}

/** The setting's Python: run when it names an executable, else the problem. */
async function settingProbe(search: PythonSearch, probe: (c: PythonCandidate) => Promise<Probe>): Promise<Probe> {
  const resolved = resolveProgram(search.setting, search);
  if (resolved === undefined) {
    return { path: search.setting, origin: SETTING, problem: "not an executable file (an absolute path, or a program on PATH)" };
  }
  return probe({ path: resolved, origin: SETTING });
}

/** The Python extension's interpreter, then the platform's Pythons on the editor's PATH. */
async function firstCandidates(search: PythonSearch): Promise<PythonCandidate[]> {
  const candidates: PythonCandidate[] = [];
  const fromExtension = await search.extensionInterpreter();
  if (fromExtension !== undefined) {
    candidates.push({ path: fromExtension, origin: "the Python extension's interpreter" });
  }
  return [...candidates, ...onPath(search, search.pathEnv, "PATH")];
}

/** The platform's Pythons on the login shell's PATH, when it differs from the editor's. */
async function loginShellCandidates(search: PythonSearch): Promise<PythonCandidate[]> {
  const loginPathEnv = await search.loginPath();
  if (loginPathEnv === undefined || loginPathEnv === search.pathEnv) {
    return [];
  }
  return onPath(search, loginPathEnv, "the login shell's PATH");
}

function onPath(search: PythonSearch, pathEnv: string | undefined, origin: string): PythonCandidate[] {
  const found: PythonCandidate[] = [];
  for (const { program, args } of pythonCommands(search.platform)) {
    const path = resolveProgram(program, { ...search, pathEnv });
    if (path !== undefined) {
      found.push(args.length > 0 ? { path, args, origin } : { path, origin });
    }
  }
  return found;
}

/**
 * `search.probe`, except for Apple's stub without the Command Line Tools: not run, with why. `xcode-select` is asked
 * once per search, and only if the stub is a candidate.
 */
function gatedProbe(search: PythonSearch): (candidate: PythonCandidate) => Promise<Probe> {
  let tools: Promise<boolean> | undefined;
  return async (candidate) => {
    if (needsDeveloperTools(candidate.path, search.platform) && !(await (tools ??= search.developerTools()))) {
      return {
        ...candidate,
        problem:
          "not run: Apple's Command Line Tools are not installed (xcode-select -p failed), and without them this " +
          "python3 opens their install dialog",
      };
    }
    return search.probe(candidate);
  };
}
