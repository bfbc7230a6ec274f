/**
 * A Python 3.11+ to run the server bundled in the .vsix: the `tunacode.server.python` setting, else the Python
 * extension's selected interpreter, else `python3` on PATH (the editor's, then the login shell's). Each candidate is
 * asked for its version by running it; what was found is kept, to say exactly that when none will do.
 *
 * Node only (no vscode import): the caller reads the setting and the Python extension and passes the candidates.
 */
import { execFile, type ExecFileException } from "child_process";

import type { Candidate } from "./locations";

export const MIN_PYTHON: readonly [number, number] = [3, 11];

export interface PythonCandidate {
  /** The program to run, an absolute path. */
  path: string;
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
      [...PROBE_ARGS],
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

/** "/usr/bin/python3 (PATH): 3.9.2, too old" and the like, one per probe. */
export function describeProbe(p: Probe): string {
  if (p.version !== undefined) {
    return `${p.path} (${p.origin}): ${p.version.join(".")}${usable(p) ? "" : ", too old"}`;
  }
  return `${p.path} (${p.origin}): ${p.problem ?? "unknown"}`;
}

export const PYTHON_HINT =
  "Install Python 3.11 or newer (from python.org, or your package manager, e.g. sudo apt install python3.11), " +
  "or set tunacode.server.python in your user settings to one.";

/**
 * The outcome of looking for a Python to run the bundled server with. `fromSetting` candidates are the only ones
 * when the setting is set (a wrong path there must show, not quietly run another Python or another server).
 */
export function bundledCandidate(
  probes: readonly Probe[],
  fromSetting: boolean,
  launcher: string,
): Candidate & { final?: boolean; hint?: string } {
  const place = "bundled server";
  const good = probes.find(usable);
  if (good !== undefined) {
    return {
      found: { command: good.path, args: ["-I", launcher], source: "bundled" },
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
        detail: `tunacode.server.python names ${p?.path ?? "nothing"}, which is not a usable Python 3.11+: ${what}`,
      },
      final: true,
      hint: PYTHON_HINT,
    };
  }
  return {
    attempt: { place, detail: `no Python 3.11+ to run it (found: ${found})` },
    hint: PYTHON_HINT,
  };
}
