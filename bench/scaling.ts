/**
 * How the cost of a failover grows with the number of contenders (issue 9): for 2, 10 and 50
 * contenders, ours and kazoo's, a few clean failovers each, with per failover
 * - the time (ours: SIGTERM until the worker accepted the new leader; kazoo: until the callback);
 * - the watch notifications ZooKeeper sent (the sum of mntr's node_*_watch_count counters, read
 *   just before the signal and just after the hand-over; the bench's own watch on the leader's
 *   node is one of them);
 * - CPU time (utime + stime from /proc) of the worker, of the successor, and of all the other
 *   masters together: a failover should wake one successor however many wait.
 */
import type { ZkClient } from "../lib/zookeeper/client.ts";
import { startLab } from "../tests/harness/lab.ts";
import type { ZooKeeperServer } from "../tests/harness/zookeeper.ts";
import { delay } from "../lib/common/backoff.ts";
import { failoverRound, replaceStoppedMaster } from "./failover.ts";
import { PeerElection } from "./peers/peer_election.ts";
import type { PreparedPeer } from "./peers/prepare.ts";
import { summarize, type Summary } from "./stats.ts";

/** One number of contenders. */
export interface ScalingRow {
  readonly contenders: number;
  readonly ours: {
    readonly failover: Summary;
    readonly notifications: Summary;
    readonly workerCpuMs: Summary;
    readonly successorCpuMs: Summary;
    readonly otherMastersCpuMs: Summary;
  } | { readonly error: string };
  readonly kazoo?: { readonly failover: Summary; readonly notifications: Summary } | {
    readonly error: string;
  };
}

const CLOCK_TICKS_PER_MS = 100 / 1000; // USER_HZ is 100 on Linux

/** The notifications ZooKeeper has sent so far, from `mntr`. */
async function notifications(zk: ZooKeeperServer): Promise<number> {
  const mntr = await zk.fourLetter("mntr");
  let sum = 0;
  for (const kind of ["created", "deleted", "children", "changed"]) {
    const match = new RegExp(`^zk_sum_node_${kind}_watch_count\\s+(\\d+)`, "m").exec(mntr);
    if (!match) throw new Error(`ZooKeeper's mntr has no zk_sum_node_${kind}_watch_count`);
    sum += Number(match[1]);
  }
  return sum;
}

/** CPU ms (utime + stime) of `pid`; 0 once it is gone. */
async function cpuMs(pid: number): Promise<number> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_MS;
  } catch {
    return 0;
  }
}

async function oursAt(
  contenders: number,
  options: ScalingOptions,
): Promise<ScalingRow["ours"]> {
  const lab = await startLab({
    zk: options.zk,
    masters: contenders,
    sessionTimeoutMs: options.sessionTimeoutMs,
    statusIntervalMs: 5000,
  });
  const rows = { failover: [], notifications: [], worker: [], successor: [], others: [] } as Record<
    string,
    number[]
  >;
  try {
    for (let index = 0; index < options.warmupRounds + options.rounds; index++) {
      const masters = lab.masters.filter((m) => !m.hasExited);
      const pids = [lab.worker!.pid, ...masters.map((m) => m.pid)];
      await lab.waitForSingleLeader(options.sessionTimeoutMs + 10_000);
      const cpuBefore = await Promise.all(pids.map(cpuMs));
      const sentBefore = await notifications(options.zk);
      const round = await failoverRound(lab, options.watcher, {
        signal: "SIGTERM",
        sessionTimeoutMs: options.sessionTimeoutMs,
      });
      // Let the last replies and log lines of the hand-over be processed and counted.
      await delay(50);
      const sent = await notifications(options.zk) - sentBefore;
      const cpuAfter = await Promise.all(pids.map(cpuMs));
      const used = (pid: number) => {
        const i = pids.indexOf(pid);
        return cpuAfter[i] - cpuBefore[i];
      };
      const others = masters.filter((m) => m.pid !== round.successorPid && !m.hasExited)
        .reduce((sum, m) => sum + used(m.pid), 0);
      const warmup = index < options.warmupRounds;
      options.say(
        `scaling ours ${contenders}: failover ${round.acceptedMs.toFixed(1)} ms, ${sent} ` +
          `notifications, CPU worker ${used(lab.worker!.pid)} ms, successor ${
            used(round.successorPid)
          } ms, others ${others} ms${warmup ? " (warm-up)" : ""}`,
      );
      if (!warmup) {
        rows.failover.push(round.acceptedMs);
        rows.notifications.push(sent);
        rows.worker.push(used(lab.worker!.pid));
        rows.successor.push(used(round.successorPid));
        rows.others.push(others);
      }
      await replaceStoppedMaster(lab, options.settleMs);
    }
  } finally {
    await lab.close();
  }
  return {
    failover: summarize(rows.failover),
    notifications: summarize(rows.notifications),
    workerCpuMs: summarize(rows.worker),
    successorCpuMs: summarize(rows.successor),
    otherMastersCpuMs: summarize(rows.others),
  };
}

async function kazooAt(
  contenders: number,
  peer: Extract<PreparedPeer, { command: unknown }>,
  options: ScalingOptions,
) {
  const election = new PeerElection(
    peer,
    options.watcher,
    options.zk.connectString,
    options.sessionTimeoutMs,
    contenders,
  );
  const failover: number[] = [];
  const sent: number[] = [];
  try {
    await election.start();
    for (let index = 0; index < options.warmupRounds + options.rounds; index++) {
      const before = await notifications(options.zk);
      const round = await election.failover();
      await delay(50);
      const count = await notifications(options.zk) - before;
      options.say(
        `scaling kazoo ${contenders}: failover ${
          round.callbackMs.toFixed(1)
        } ms, ${count} notifications`,
      );
      if (index >= options.warmupRounds) {
        failover.push(round.callbackMs);
        sent.push(count);
      }
      await election.replace(options.settleMs);
    }
  } finally {
    await election.close();
  }
  return { failover: summarize(failover), notifications: summarize(sent) };
}

/** Options for {@linkcode runScaling}. */
export interface ScalingOptions {
  readonly zk: ZooKeeperServer;
  /** The bench's own session (waits for joins). */
  readonly watcher: ZkClient;
  readonly counts: readonly number[];
  readonly rounds: number;
  readonly warmupRounds: number;
  readonly settleMs: number;
  readonly sessionTimeoutMs: number;
  readonly kazoo?: PreparedPeer;
  readonly say: (message: string) => void;
}

/** Runs every count of contenders; a failure at one count is recorded and the rest go on. */
export async function runScaling(options: ScalingOptions): Promise<ScalingRow[]> {
  const rows: ScalingRow[] = [];
  const failure = (error: unknown) => ({
    error: error instanceof Error ? error.message.split("\n")[0] : String(error),
  });
  for (const contenders of options.counts) {
    const ours = await oursAt(contenders, options).catch(failure);
    const kazoo = options.kazoo && "command" in options.kazoo
      ? await kazooAt(contenders, options.kazoo, options).catch(failure)
      : undefined;
    rows.push({ contenders, ours, ...(kazoo ? { kazoo } : {}) });
  }
  return rows;
}
