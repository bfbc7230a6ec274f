/**
 * Whether a program found on disk may be run as the user: the file and every directory on the way to it belong to
 * the user (or root) and are not writable by group or others, as OpenSSH's StrictModes asks of the files it trusts.
 * Otherwise another account could have put or swapped the program there. A root-owned sticky directory such as /tmp
 * is allowed on the way: nobody else can rename or remove what the user owns in it.
 *
 * Node only (no vscode import): the unit tests run it on real files.
 */
import * as fs from "fs";
import * as nodePath from "path";

import { hasPosixOwners } from "./platform";

/** Why `file` must not be run, or undefined when it may. Always undefined on Windows (no POSIX owners). */
export function unsafeReason(file: string, uid: number | undefined, platform: NodeJS.Platform): string | undefined {
  if (!hasPosixOwners(platform) || uid === undefined) {
    return undefined;
  }
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (error) {
    return `${file} cannot be resolved (${error instanceof Error ? error.message : String(error)})`;
  }
  for (let p = real; ; p = nodePath.dirname(p)) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch (error) {
      return `${p} cannot be read (${error instanceof Error ? error.message : String(error)})`;
    }
    if (st.uid !== uid && st.uid !== 0) {
      return `${p} belongs to another user (uid ${String(st.uid)})`;
    }
    // A root-owned sticky directory (/tmp) is writable by all, but only an entry's owner may rename or remove it:
    // what the user put there stays the user's (the server's own check, storage/atomic_file.py, says the same).
    const stickyRootDir = p !== real && st.isDirectory() && st.uid === 0 && (st.mode & 0o1000) !== 0;
    if ((st.mode & 0o022) !== 0 && !stickyRootDir) {
      return `${p} is writable by ${(st.mode & 0o002) !== 0 ? "every user" : "its group"}`;
    }
    if (nodePath.dirname(p) === p) {
      return undefined;
    }
  }
}
