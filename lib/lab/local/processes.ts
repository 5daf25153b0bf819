/**
 * Background processes for the local backend: started detached (their own session, so they outlive
 * the CLI and a Ctrl-C in its terminal), output appended to a log file, and identified by a pid
 * file that also holds the process's start time, so a recycled pid is never taken for ours.
 * Linux only: liveness comes from /proc.
 */
import { delay } from "../../common/backoff.ts";

/** A process the lab started: its pid and kernel start time (`/proc/<pid>/stat` field 22). */
export interface ProcessId {
  readonly pid: number;
  readonly startTime: string;
}

/** What to run and where its output goes. */
export interface SpawnOptions {
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly logPath: string;
}

/** Fields 3.. of `/proc/<pid>/stat` (state first), or undefined when the process is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** The process's start time, or undefined when it is gone or a zombie. */
function startTimeOf(pid: number): string | undefined {
  const fields = statFields(pid);
  return !fields || fields[0] === "Z" || fields[0] === "X" ? undefined : fields[19];
}

/** True while the process recorded in `id` is stopped by a signal (SIGSTOP): paused. */
export function isPaused(id: ProcessId | undefined): boolean {
  return isRunning(id) && /^[Tt]$/.test(statFields(id!.pid)?.[0] ?? "");
}

/** Sends `name` to the process in `id` if it still runs; resolves false when it did not run. */
export function signalProcess(id: ProcessId | undefined, name: Deno.Signal): boolean {
  if (!isRunning(id)) return false;
  try {
    Deno.kill(id!.pid, name);
    return true;
  } catch {
    return false; // Gone meanwhile.
  }
}

/** Starts `command` in the background; its pid is the real process's (`sh` execs into it). */
export function spawnDetached(options: SpawnOptions): ProcessId {
  const child = new Deno.Command("sh", {
    args: ["-c", 'exec "$@" >> "$LAB_LOG_FILE" 2>&1', "lab", ...options.command],
    cwd: options.cwd,
    env: { ...options.env, LAB_LOG_FILE: options.logPath },
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  child.unref();
  // Never awaited: the service outlives the CLI. A rejection must not surface as unhandled.
  child.status.catch(() => {});
  return { pid: child.pid, startTime: startTimeOf(child.pid) ?? "" };
}

/** True while the process recorded in `id` runs. */
export function isRunning(id: ProcessId | undefined): boolean {
  if (!id) return false;
  const startTime = startTimeOf(id.pid);
  return startTime !== undefined && (id.startTime === "" || startTime === id.startTime);
}

/** Sends SIGTERM, waits up to `graceMs` for the exit, then SIGKILL; resolves once it is gone. */
export async function stopProcess(id: ProcessId, options: { graceMs: number }): Promise<void> {
  const signal = (name: Deno.Signal) => {
    try {
      Deno.kill(id.pid, name);
    } catch {
      // Already gone.
    }
  };
  if (!isRunning(id)) return;
  signal("SIGTERM");
  // A paused process would hold the SIGTERM until the grace period ends in a SIGKILL: let it run.
  signal("SIGCONT");
  const deadline = Date.now() + options.graceMs;
  while (isRunning(id) && Date.now() < deadline) await delay(10);
  if (!isRunning(id)) return;
  signal("SIGKILL");
  while (isRunning(id)) await delay(10);
}

/** Reads a pid file written by {@linkcode writePidFile}; undefined when missing or unreadable. */
export async function readPidFile(path: string): Promise<ProcessId | undefined> {
  try {
    const [pid, startTime = ""] = (await Deno.readTextFile(path)).trim().split(" ");
    return /^\d+$/.test(pid) ? { pid: Number(pid), startTime } : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `<pid> <start time>`. */
export async function writePidFile(path: string, id: ProcessId): Promise<void> {
  await Deno.writeTextFile(path, `${id.pid} ${id.startTime}\n`);
}
