/**
 * Idle cost of running processes, read from Linux's /proc: CPU time (user + system, in clock
 * ticks) at the start and end of a window, divided by the window; resident memory (VmRSS) at the
 * end; and how many lines each process printed meanwhile (a hot loop that logs shows up here).
 */
import type { LabProcess } from "../tests/harness/process.ts";
import { delay } from "../lib/common/backoff.ts";

/** One process's idle figures. */
export interface IdleFigures {
  readonly name: string;
  readonly pid: number;
  /** CPU time over the window as a percentage of one core. */
  readonly cpuPercent: number;
  /** CPU time used in the window, ms. */
  readonly cpuMs: number;
  readonly rssMiB: number;
  readonly linesPrinted: number;
}

/** Measures `processes` (by role name) over `windowMs` of doing nothing. */
export async function measureIdle(
  processes: Readonly<Record<string, LabProcess>>,
  windowMs: number,
): Promise<IdleFigures[]> {
  const ticksPerSecond = await clockTicksPerSecond();
  const entries = Object.entries(processes);
  const before = await Promise.all(entries.map(([, process]) => cpuTicks(process.pid)));
  const lineMarks = entries.map(([, process]) => process.lines.length);
  const startedAt = performance.now();
  await delay(windowMs);
  const after = await Promise.all(entries.map(([, process]) => cpuTicks(process.pid)));
  const elapsedMs = performance.now() - startedAt;
  return await Promise.all(entries.map(async ([name, process], index) => {
    const cpuMs = (after[index] - before[index]) * 1000 / ticksPerSecond;
    return {
      name,
      pid: process.pid,
      cpuPercent: cpuMs / elapsedMs * 100,
      cpuMs,
      rssMiB: await rssKiB(process.pid) / 1024,
      linesPrinted: process.lines.length - lineMarks[index],
    };
  }));
}

/** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
export async function cpuTicks(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // The command name (field 2) is in parentheses and may contain spaces: count after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** VmRSS of a process, in KiB. */
export async function rssKiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`Cannot read the memory of process ${pid}: no VmRSS in its status`);
  return Number(match[1]);
}

async function clockTicksPerSecond(): Promise<number> {
  try {
    const { stdout } = await new Deno.Command("getconf", { args: ["CLK_TCK"] }).output();
    const ticks = Number(new TextDecoder().decode(stdout).trim());
    return ticks > 0 ? ticks : 100;
  } catch {
    return 100; // Linux's USER_HZ on every common architecture
  }
}
