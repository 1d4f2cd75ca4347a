import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StartupError } from '../config.ts';
import type { Logger } from '../log.ts';

// Two processes writing one data directory corrupt it (PGlite's files would not open again
// minutes later), so a process holds it by a lock file with its PID, created exclusively.

export const LOCK_FILE = 'tape.lock';

/** Lock files this process holds: its own PID in one it does not hold is a previous life's. */
const held = new Set<string>();

export interface DataDirLock {
  /** Removes the lock file (once; only while it is still this process's). */
  release(): void;
}

/**
 * Takes `dir` for this process, or throws a StartupError naming the process that has it. A lock
 * whose process is gone (killed, crashed, or a container's earlier run under the same PID) is
 * taken over, and the log says so. Processes in other PID namespaces sharing the directory (two
 * containers on one volume) cannot see each other's PIDs: give each its own directory.
 */
export function lockDataDir(dir: string, log: Logger): DataDirLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
    }
    const holder = holderOf(path);
    if (holder === null) continue; // released meanwhile
    // No PID yet: another process is creating it this very moment (or a disk failed mid-write).
    if (holder === undefined)
      throw new StartupError(
        `The data directory ${dir} (TAPE_DATA_DIR) is being taken by another process: its lock ${path} holds no PID yet; if no other Tape is starting on it, remove that file`,
      );
    if (alive(holder, path))
      throw new StartupError(
        `The data directory ${dir} (TAPE_DATA_DIR) is in use by process ${holder} (its lock: ${path}): stop that process first, or give this one another TAPE_DATA_DIR`,
      );
    takeOver(path, holder, log);
  }
  held.add(path);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      held.delete(path);
      if (holderOf(path) === process.pid) rmSync(path, { force: true });
    },
  };
}

/** The PID in a lock file: undefined when it holds none, null when there is no such file. */
function holderOf(path: string): number | undefined | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function alive(pid: number, path: string): boolean {
  if (pid === process.pid) return held.has(path);
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Moves a stale lock aside (a rename: of two processes taking it over at once, one moves it),
 * and puts back a lock that turns out to be a live one another process took meanwhile.
 */
function takeOver(path: string, stalePid: number, log: Logger) {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // another process moved it
    throw err;
  }
  const moved = holderOf(aside);
  if (moved !== stalePid) {
    try {
      linkSync(aside, path);
    } catch {
      // a third process took the directory meanwhile: its lock stands
    }
  } else {
    log.warn({ pid: stalePid, lock: path }, 'data directory lock left by a process that is gone: taken over');
  }
  rmSync(aside, { force: true });
}
