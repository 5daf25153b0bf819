/**
 * Failover rounds on a running lab: stop the leader with a signal and time, from the moment the
 * signal is sent, each step of the hand-over:
 *
 * - node gone: our own ZooKeeper exists-watch on the leader's election node fires (in this process);
 * - decided: the successor logs `I am the leader`;
 * - accepted: the worker logs `Accepted a new leader epoch` for the successor's epoch.
 *
 * The processes' times are their own, the microsecond `time` of their json log lines (as the
 * peers' are the times their callbacks print), against the wall-clock time of the signal; how long
 * the worker's line then takes to reach us through its pipe is kept apart (`acceptedLineMs`, the
 * harness's `at`, `performance.now()` here). After each round a new master is started and left to
 * settle, so there are always two masters.
 */
import { connectZk, type ZkClient } from "../lib/zookeeper/client.ts";
import { eventsOf, lastRole, waitForEvent } from "../tests/harness/events.ts";
import type { Lab } from "../tests/harness/lab.ts";
import { delay } from "../lib/common/backoff.ts";
import { parseIsoTime } from "../lib/common/log.ts";

/** One failover, in ms from the signal. */
export interface FailoverRound {
  /** The leader's election node is gone (our watch fired). */
  readonly nodeGoneMs: number;
  /** The successor logged `I am the leader`. */
  readonly decidedMs: number;
  /** The worker logged `Accepted a new leader epoch` for the successor's epoch. */
  readonly acceptedMs: number;
  /** The successor logged that the worker accepted its leadership (the reply arrived). */
  readonly confirmedMs: number;
  /** The worker's `accepted` line reached this process (through the pipe, read here). */
  readonly acceptedLineMs: number;
  /** The stopped leader logged `Shutting down` (SIGTERM only): signal delivery and handling. */
  readonly shutdownSeenMs?: number;
}

/** Options for {@linkcode runFailovers}. */
export interface FailoverOptions {
  readonly signal: "SIGTERM" | "SIGKILL";
  /** Measured rounds. */
  readonly rounds: number;
  /** Rounds run first and discarded. */
  readonly warmupRounds: number;
  /** Pause after the new master follows, before the next round. */
  readonly settleMs: number;
  /** The processes' session timeout: bounds how long a crash failover may take. */
  readonly sessionTimeoutMs: number;
  /** Told after each round (warm-up rounds included). */
  readonly onRound?: (round: FailoverRound, index: number, warmup: boolean) => void;
  /** Runs after each round has settled: the peers' rounds, interleaved with ours. */
  readonly afterRound?: (index: number, warmup: boolean) => Promise<void>;
}

/** Opens the bench's own ZooKeeper session, used only to watch election nodes. */
export function connectWatcher(connectString: string): Promise<ZkClient> {
  return connectZk({
    servers: [connectString],
    sessionTimeoutMs: 10_000,
    connectTimeoutMs: 10_000,
  });
}

/** Runs warm-up and measured rounds; resolves with the measured ones. */
export async function runFailovers(
  lab: Lab,
  zk: ZkClient,
  options: FailoverOptions,
): Promise<FailoverRound[]> {
  const measured: FailoverRound[] = [];
  for (let index = 0; index < options.warmupRounds + options.rounds; index++) {
    const warmup = index < options.warmupRounds;
    const { successorPid: _, ...round } = await failoverRound(lab, zk, options);
    options.onRound?.(round, index, warmup);
    if (!warmup) measured.push(round);
    await replaceStoppedMaster(lab, options.settleMs);
    await options.afterRound?.(index, warmup);
  }
  return measured;
}

/** One failover of `lab`'s leader; see the module comment. */
export async function failoverRound(
  lab: Lab,
  zk: ZkClient,
  options: Pick<FailoverOptions, "signal" | "sessionTimeoutMs">,
): Promise<FailoverRound & { successorPid: number }> {
  const worker = lab.worker!;
  const { leader } = await lab.waitForSingleLeader(options.sessionTimeoutMs + 10_000);
  const follower = lab.masters.find((master) => !master.hasExited && master !== leader);
  if (!follower) throw new Error("Cannot run a failover round: there is no second master");
  if (lastRole(follower) !== "follower") {
    // A master that has just joined may not have decided yet.
    await waitForEvent(follower, "I am the follower", {
      from: follower.lines.length,
      where: (record) => record.leader !== undefined,
      timeoutMs: 10_000,
    });
  }
  const leaderNode = eventsOf(leader, "I am the leader").findLast((e) => e.record.node)!.record
    .node;
  const nodeGone = Promise.withResolvers<number>();
  const stat = await zk.exists(`${lab.electionPath}/${leaderNode}`, (event) => {
    if (event.type === "NODE_DELETED") nodeGone.resolve(performance.now());
  });
  if (!stat) {
    throw new Error(`Cannot run a failover round: the leader's node ${leaderNode} is gone`);
  }
  const marks = { worker: worker.lines.length, follower: follower.lines.length };
  const leaderMark = leader.lines.length;
  const timeoutMs = options.signal === "SIGKILL" ? options.sessionTimeoutMs + 5000 : 5000;

  const sentAt = performance.now();
  const sentAtWall = performance.timeOrigin + sentAt;
  leader.signal(options.signal);
  const decided = await waitForEvent(follower, "I am the leader", {
    from: marks.follower,
    where: (record) => record.epoch !== undefined,
    timeoutMs,
  });
  const epoch = BigInt(decided.record.epoch);
  const [accepted, confirmed, nodeGoneAt] = await Promise.all([
    waitForEvent(worker, "Accepted a new leader epoch", {
      from: marks.worker,
      where: (record) => BigInt(record.epoch) === epoch,
      timeoutMs,
    }),
    waitForEvent(follower, "The worker accepted our leadership", {
      from: decided.index,
      timeoutMs,
    }),
    withDeadline(nodeGone.promise, timeoutMs, `the deletion of ${leaderNode}`),
  ]);
  await leader.exited;
  const shutdown = eventsOf(leader, "Shutting down", leaderMark)[0];
  const ownTime = (event: { record: Record<string, unknown> }) => {
    const at = parseIsoTime(String(event.record.time));
    if (Number.isNaN(at)) throw new Error(`Cannot time a line without a microsecond "time"`);
    return at - sentAtWall;
  };
  return {
    nodeGoneMs: nodeGoneAt - sentAt,
    decidedMs: ownTime(decided),
    acceptedMs: ownTime(accepted),
    confirmedMs: ownTime(confirmed),
    acceptedLineMs: accepted.at - sentAt,
    ...(shutdown ? { shutdownSeenMs: ownTime(shutdown) } : {}),
    successorPid: follower.pid,
  };
}

/** Starts a master in place of the stopped one and waits until it follows, then `settleMs`. */
export async function replaceStoppedMaster(lab: Lab, settleMs: number): Promise<void> {
  const master = await lab.startMaster();
  await waitForEvent(master, "I am the follower", {
    where: (record) => record.leader !== undefined,
    timeoutMs: 10_000,
  });
  await delay(settleMs);
}

/** `promise`, or a rejection naming `what` after `timeoutMs`; the timer never outlives it. */
function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Waited ${timeoutMs} ms for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
