/**
 * How busy the machine was with work other than the bench's own, so a noisy figure can be told
 * apart from a slow one: all CPU time the kernel counted (/proc/stat) minus the CPU time of this
 * process and all its descendants (/proc/<pid>/stat, with the reaped children's time that the
 * kernel adds to their parent), as a percentage of the machine (100 % = every core busy).
 */

/** A reading of the machine's and our CPU time, in clock ticks. */
export interface CpuReading {
  readonly machineBusy: number;
  readonly machineTotal: number;
  readonly ours: number;
}

/** Reads the counters now. */
export async function readCpu(): Promise<CpuReading> {
  const stat = await Deno.readTextFile("/proc/stat");
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest is within user)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = stat.split("\n")[0].trim()
    .split(/\s+/).slice(1, 9).map(Number);
  const machineBusy = user + nice + system + irq + softirq + steal;
  return { machineBusy, machineTotal: machineBusy + idle + iowait, ours: await ourTicks() };
}

/** The share of the machine used by others between two readings, in percent. */
export function foreignPercent(before: CpuReading, after: CpuReading): number {
  const total = after.machineTotal - before.machineTotal;
  if (total <= 0) return 0;
  const foreign = (after.machineBusy - before.machineBusy) - (after.ours - before.ours);
  return Math.max(0, foreign / total * 100);
}

/** CPU ticks of this process and every live descendant, each with its reaped children's. */
async function ourTicks(): Promise<number> {
  const processes = new Map<number, { parent: number; ticks: number }>();
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      // Fields after the parenthesized name: state ppid ... utime(14) stime cutime cstime(17).
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      processes.set(Number(entry.name), {
        parent: Number(fields[1]),
        ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
      });
    } catch {
      // It exited while we looked.
    }
  }
  const ours = new Set([Deno.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, { parent }] of processes) {
      if (!ours.has(pid) && ours.has(parent)) {
        ours.add(pid);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const pid of ours) ticks += processes.get(pid)?.ticks ?? 0;
  return ticks;
}
