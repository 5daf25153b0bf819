/** Facts about the machine and the software a bench run ran on, recorded with its figures. */
import type { ZooKeeperServer } from "../tests/harness/zookeeper.ts";

/** The machine, its load when the run started, and the versions in play. */
export interface MachineFacts {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  /** 1, 5 and 15 minute load averages when the run started. */
  readonly loadAverageAtStart: number[];
  readonly os: string;
  readonly deno: { readonly deno: string; readonly v8: string; readonly typescript: string };
  /** The first line of ZooKeeper's `srvr` answer. */
  readonly zookeeper: string;
  readonly zookeeperTickMs: number;
}

/** Reads the facts; `zk` must be running. */
export async function machineFacts(zk: ZooKeeperServer, tickMs: number): Promise<MachineFacts> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const srvr = await zk.fourLetter("srvr");
  return {
    cpus: navigator.hardwareConcurrency,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown",
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    loadAverageAtStart: loadAverage(),
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    deno: { ...Deno.version },
    zookeeper: /^Zookeeper version: (.+)$/m.exec(srvr)?.[1] ?? "unknown",
    zookeeperTickMs: tickMs,
  };
}

/** The 1, 5 and 15 minute load averages, rounded. */
export function loadAverage(): number[] {
  return Deno.loadavg().map((value) => Math.round(value * 100) / 100);
}
