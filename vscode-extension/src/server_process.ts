/**
 * The server's child process: spawned over stdio for the language client, remembered so that a failed start can
 * say how the process ended and what it last wrote to stderr, and killed if it outlives its client.
 *
 * No vscode import: the language client gets the process from `spawn()`.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "child_process";

const TAIL_LIMIT = 4096;

export class ServerProcess {
  private proc: ChildProcess | undefined;
  private stderrTail = "";
  private ended: string | undefined;
  private closed = false;

  /**
   * `cwd` is where the server runs (work_dir.ts): never the workspace, whose files a Python started with `-m` or
   * `-c` would import before its own.
   */
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    private readonly env: NodeJS.ProcessEnv,
    readonly cwd: string,
  ) {}

  /**
   * What the process is spawned with: an explicit working directory, never the editor's own; on Windows no console
   * window of its own (a Python started from a GUI program would otherwise flash one up for its whole life).
   */
  spawnOptions(): SpawnOptions & { cwd: string } {
    return { env: this.env, cwd: this.cwd, stdio: "pipe", windowsHide: true };
  }

  /** Starts a new process (the client calls this again when it restarts a server that died). */
  spawn(): Promise<ChildProcess> {
    this.stderrTail = "";
    this.ended = undefined;
    this.closed = false;
    const proc = spawn(this.command, [...this.args], { ...this.spawnOptions(), stdio: "pipe" });
    this.proc = proc;
    proc.stderr.on("data", (chunk: Buffer | string) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-TAIL_LIMIT);
    });
    proc.on("exit", (code, signal) => {
      if (this.proc === proc) {
        this.ended = signal !== null ? `was killed by ${signal}` : `exited with code ${String(code)}`;
      }
    });
    // "close" comes after "exit" once stdout and stderr are read to their end: only then is the last line known.
    proc.on("close", () => {
      if (this.proc === proc) {
        this.closed = true;
      }
    });
    return new Promise((resolve, reject) => {
      proc.once("spawn", () => {
        resolve(proc);
      });
      proc.once("error", reject);
    });
  }

  /** How the current process ended ("exited with code 1"), or undefined while it runs. */
  get exit(): string | undefined {
    return this.ended;
  }

  /** The last non-empty line the current process wrote to stderr, shortened for a message. */
  lastStderrLine(): string | undefined {
    return lastLine(this.stderrTail);
  }

  /**
   * Resolves when the current process has ended and its output has been read to the end (what it said last is
   * known: its "exit" can come before the last of its stderr), or after `ms`.
   */
  async waitForExit(ms: number): Promise<void> {
    const proc = this.proc;
    if (proc === undefined || this.closed) {
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      proc.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Kills the current process if it still runs (a server that ignored shutdown and exit). */
  kill(): void {
    const proc = this.proc;
    if (proc !== undefined && proc.exitCode === null && proc.signalCode === null) {
      proc.kill();
    }
  }
}

/** The last non-empty line of `text`, at most 300 characters. */
export function lastLine(text: string): string | undefined {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  const last = lines.at(-1);
  if (last === undefined) {
    return undefined;
  }
  return last.length > 300 ? `${last.slice(0, 297)}...` : last;
}
