/**
 * The PATH of the user's login shell. An editor started from a desktop launcher inherits the session's short PATH,
 * not the one the user's shell profile builds (pipx's ~/.local/bin, Homebrew, pyenv): programs the user can run in
 * a terminal are found there.
 *
 * Node only (no vscode import): the unit tests run it with a real shell.
 */
import { spawn } from "child_process";

const MARK = "__TUNACODE_LOGIN_PATH__=";

/**
 * Runs `shell -l -c` to print PATH, in `cwd` when given (the extension passes its own folder, never the workspace:
 * see work_dir.ts); undefined when there is no shell (Windows, SHELL unset), it fails, or it takes longer than
 * `timeoutMs`. Whatever the profile prints around it is ignored: the value follows a marker.
 */
export function loginShellPath(
  shell: string | undefined,
  env: NodeJS.ProcessEnv,
  timeoutMs = 5000,
  cwd?: string,
): Promise<string | undefined> {
  if (shell === undefined || shell === "" || process.platform === "win32") {
    return Promise.resolve(undefined);
  }
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
    const child = spawn(shell, ["-l", "-c", `printf '\\n${MARK}%s\\n' "$PATH"`], {
      env,
      ...(cwd !== undefined ? { cwd } : {}),
      stdio: ["ignore", "pipe", "ignore"],
      detached: true,
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
    }, timeoutMs);
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
      const line = out.split("\n").find((l) => l.startsWith(MARK));
      const value = line?.slice(MARK.length).trim();
      done(value !== undefined && value !== "" ? value : undefined);
    });
  });
}
