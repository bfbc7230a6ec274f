/**
 * The working directory of every process the extension starts that may run Python: the server, the Python version
 * probes, the login shell read for its PATH. Never the workspace: a server run as `python -m tuna_lsp` (or any child
 * it starts with `-m` or `-c`) puts its working directory first on the import path, so a repository holding
 * `json.py` or `tuna_lsp/__init__.py` would run as the user (issue 24, PROTOCOL.md section 1). VS Code's own
 * working directory is often the folder `code` was started from, which is often the repository.
 *
 * Node only (no vscode import): the caller passes the extension's storage folder and the workspace folders.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** True when `dir` is `folder` or inside it. */
function within(dir: string, folder: string): boolean {
  const rel = path.relative(path.resolve(folder), path.resolve(dir));
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/**
 * The extension's global storage folder (`ExtensionContext.globalStorageUri`), created (0700) when missing; else
 * the system's temporary folder. A candidate that is, or lies inside, a workspace folder is never taken.
 */
export function childWorkDir(
  storageDir: string | undefined,
  workspaceFolders: readonly string[],
  tmpDir: string = os.tmpdir(),
): string {
  const outside = (dir: string): boolean => path.isAbsolute(dir) && !workspaceFolders.some((f) => within(dir, f));
  if (storageDir !== undefined && storageDir !== "" && outside(storageDir)) {
    try {
      fs.mkdirSync(storageDir, { recursive: true, mode: 0o700 });
      if (fs.statSync(storageDir).isDirectory()) {
        return storageDir;
      }
    } catch {
      // A read-only or odd home: the temporary folder below.
    }
  }
  if (outside(tmpDir)) {
    return tmpDir;
  }
  // A workspace that holds the temporary folder as well (opened at /tmp, say): the filesystem root.
  return path.parse(path.resolve(tmpDir)).root;
}
