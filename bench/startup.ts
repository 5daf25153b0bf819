/**
 * Start-up: with ZooKeeper already up, launch the worker and two masters at the same moment and
 * time, from the launch, the worker serving, the first leader deciding, and the worker accepting
 * that leader's epoch. Each round is a fresh lab (fresh election path) on the shared ZooKeeper.
 */
import { eventsOf, waitForEvent } from "../tests/harness/events.ts";
import { Lab } from "../tests/harness/lab.ts";
import { freePort } from "../lib/common/ports.ts";
import type { ZooKeeperServer } from "../tests/harness/zookeeper.ts";

/** One start-up, in ms from the launch. */
export interface StartupRound {
  /** The worker logged that its gRPC server listens. */
  readonly workerServingMs: number;
  /** The first master logged `I am the leader`. */
  readonly decidedMs: number;
  /** The worker logged `Accepted a new leader epoch`. */
  readonly acceptedMs: number;
}

/** Options for {@linkcode runStartups}. */
export interface StartupOptions {
  readonly rounds: number;
  readonly warmupRounds: number;
  readonly sessionTimeoutMs: number;
  readonly onRound?: (round: StartupRound, index: number, warmup: boolean) => void;
}

/** Runs warm-up and measured start-ups; resolves with the measured ones. */
export async function runStartups(
  zk: ZooKeeperServer,
  options: StartupOptions,
): Promise<StartupRound[]> {
  const measured: StartupRound[] = [];
  for (let index = 0; index < options.warmupRounds + options.rounds; index++) {
    const warmup = index < options.warmupRounds;
    const lab = new Lab(zk, freePort(), {
      sessionTimeoutMs: options.sessionTimeoutMs,
      statusIntervalMs: 5000,
    }, false);
    try {
      const round = await startupRound(lab);
      options.onRound?.(round, index, warmup);
      if (!warmup) measured.push(round);
    } finally {
      await lab.close();
    }
  }
  return measured;
}

async function startupRound(lab: Lab): Promise<StartupRound> {
  const launchedAt = performance.now();
  // Each start spawns its process before its first await: all three launch now.
  await Promise.all([lab.startWorker(), lab.startMaster(), lab.startMaster()]);
  const worker = lab.worker!;
  const accepted = await waitForEvent(worker, "Accepted a new leader epoch", { timeoutMs: 20_000 });
  const serving = await worker.waitForLine("server listening");
  // The leader decided before the worker could accept it, so its line is already in.
  const decided = lab.masters.flatMap((master) => eventsOf(master, "I am the leader"))
    .find((event) => event.record.epoch === accepted.record.epoch);
  if (!decided) throw new Error("Cannot time the start-up: no master logged the accepted epoch");
  return {
    workerServingMs: serving.at - launchedAt,
    decidedMs: decided.at - launchedAt,
    acceptedMs: accepted.at - launchedAt,
  };
}
