/**
 * The PATH of the user's shell, as a terminal gets it. An editor started from a desktop launcher inherits the
 * session's short PATH, not the one the user's shell builds (pipx's ~/.local/bin, Homebrew, and pyenv, conda or nvm,
 * which are usually set up in ~/.zshrc or ~/.bashrc): programs the user can run in a terminal are found there.
 *
 * Only PATH is printed and read, never the rest of the environment (which holds API keys more often than not).
 * Node only (no vscode import): the unit tests run it with a real shell.
 */
import { spawn } from "child_process";
import { randomBytes } from "crypto";

import { readsLoginShell } from "./platform";

/**
 * The shell's flags: interactive (`-i`: ~/.zshrc, ~/.bashrc, $ENV, where pyenv, conda and nvm are set up) and login
 * (`-l`: ~/.profile, ~/.zprofile), then the command.
 */
export function loginShellArgs(command: string): string[] {
  return ["-i", "-l", "-c", command];
}

/**
 * The markers around the printed PATH, fresh for each run: an interactive shell prints what its rc files print
 * (greetings, prompts, escape sequences, without a newline at times), and nothing it prints can fake them.
 */
export function pathMarkers(nonce: string = randomBytes(8).toString("hex")): { begin: string; end: string } {
  return { begin: `__TUNACODE_PATH_${nonce}_BEGIN__`, end: `__TUNACODE_PATH_${nonce}_END__` };
}

/** The command printing PATH between the markers (valid in sh, bash, zsh and fish). */
export function printPathCommand(markers: { begin: string; end: string }): string {
  return `printf '\\n%s%s%s\\n' '${markers.begin}' "$PATH" '${markers.end}'`;
}

/** The PATH between the markers in what the shell printed, or undefined when it is not there (or empty). */
export function parseMarkedPath(stdout: string, markers: { begin: string; end: string }): string | undefined {
  const start = stdout.indexOf(markers.begin);
  if (start < 0) {
    return undefined;
  }
  const from = start + markers.begin.length;
  const end = stdout.indexOf(markers.end, from);
  if (end < 0) {
    return undefined;
  }
  const value = stdout.slice(from, end).trim();
  return value !== "" ? value : undefined;
}

export interface LoginShellOptions {
  /** `process.platform`: no shell is read on Windows. */
  platform: NodeJS.Platform;
  /** Default 5 s: a profile that waits for input or hangs is given up on. */
  timeoutMs?: number;
  /** Where the shell runs: the extension passes its own folder, never the workspace (see work_dir.ts). */
  cwd?: string;
}

/**
 * Runs `shell -i -l -c` to print PATH; undefined when there is no shell (Windows, SHELL unset), it fails, prints no
 * marked PATH, or takes longer than the timeout (then it is killed, with its children).
 */
export function loginShellPath(shell: string | undefined, env: NodeJS.ProcessEnv, options: LoginShellOptions): Promise<string | undefined> {
  if (shell === undefined || shell === "" || !readsLoginShell(options.platform)) {
    return Promise.resolve(undefined);
  }
  const markers = pathMarkers();
  return new Promise((resolve) => {
    let out = "";
    let settled = false;
    const done = (value: string | undefined): void => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(value);
      }
    };
    const child = spawn(shell, loginShellArgs(printPathCommand(markers)), {
      env,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      // No terminal: an interactive shell reads nothing (stdin is empty) and its job-control warnings are dropped.
      stdio: ["ignore", "pipe", "ignore"],
      detached: true,
      windowsHide: true,
    });
    const timer = setTimeout(() => {
      // A profile that waits for input or hangs: give up, and take its children with it.
      try {
        if (child.pid !== undefined) {
          process.kill(-child.pid, "SIGKILL");
        }
      } catch {
        // already gone
      }
      done(undefined);
    }, options.timeoutMs ?? 5000);
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.length > 1_000_000) {
        out = out.slice(-100_000);
      }
    });
    child.on("error", () => {
      done(undefined);
    });
    child.on("close", () => {
      done(parseMarkedPath(out, markers));
    });
  });
}
