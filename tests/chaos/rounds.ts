/**
 * One chaos round, the same for every fault: tasks start flowing, the fault is injected (and
 * undone: a restart, a heal), the cluster must settle on one leader, tasks flow a little longer,
 * then every task must have its one final answer and the checker must find the journal clean.
 * The stats are recorded before the assertions, so a failing round still shows in the summary.
 */
import assert from "node:assert/strict";
import { waitForEvent } from "../harness/events.ts";
import { delay } from "../../lib/common/backoff.ts";
import { checkRound, readJournalFile } from "./checker.ts";
import { checkAgainstHistory } from "./history_checker.ts";
import type { ChaosCluster } from "./cluster.ts";
import { startLoad, type TaskOutcome } from "./load.ts";
import type { FamilyStats } from "./summary.ts";

/** How long tasks flow before the fault and after the cluster has settled again. */
const FLOW_MS = 600;

/** What a fault gets: the cluster, the round (from 1) and a way to time a failover. */
export interface RoundContext {
  readonly cluster: ChaosCluster;
  readonly round: number;
  /**
   * Waits until the worker accepts an epoch above `epoch` (or, with `fromLine`, any epoch it
   * accepts from that line of its output on: after ZooKeeper lost its data, epochs start again
   * from the bottom), records the time from `since` (a `performance.now()` taken when the fault
   * was injected) as a failover and returns the epoch.
   */
  failover(since: number, epoch: bigint, options?: { fromLine?: number }): Promise<bigint>;
  /** Adds a line under the summary table. */
  note(text: string): void;
}

/** Injects one fault and undoes it; the round then waits for one leader by itself. */
export type Fault = (context: RoundContext) => Promise<void>;

/** Runs `rounds` rounds of `fault` as test steps; throws after the first failing round. */
export async function runRounds(
  t: Deno.TestContext,
  cluster: ChaosCluster,
  stats: FamilyStats,
  options: { rounds: number; prefix: string; fault: Fault },
): Promise<void> {
  for (let round = 1; round <= options.rounds; round++) {
    const passed = await t.step(`round ${round}`, () => runRound(cluster, stats, round, options));
    stats.staleRejected = cluster.workers.reduce(
      (total, worker) => total + worker.count("Refused a task from a stale leader"),
      0,
    );
    if (!passed) throw new Error(`${stats.fault}: round ${round} failed (see its step)`);
  }
  const calls = cluster.cachedLeaderClients.reduce((total, client) => ({
    answered: total.answered + client.counts.answered,
    notLeader: total.notLeader + client.counts.notLeader,
    staleForwarded: total.staleForwarded + client.counts.staleForwarded,
    unanswered: total.unanswered + client.counts.unanswered,
  }), { answered: 0, notLeader: 0, staleForwarded: 0, unanswered: 0 });
  stats.callsToFollowers = calls.notLeader;
  stats.notes.push(
    `clients with a cached leader: ${calls.answered} calls answered, ${calls.notLeader} refused ` +
      `by a master that did not lead, ${calls.staleForwarded} forwarded by a stale leader and ` +
      `refused by the worker, ${calls.unanswered} unanswered or unreachable`,
  );
}

async function runRound(
  cluster: ChaosCluster,
  stats: FamilyStats,
  round: number,
  options: { prefix: string; fault: Fault },
): Promise<void> {
  const load = startLoad(cluster.submitters, { prefix: `${options.prefix}-r${round}` });
  let outcomes: TaskOutcome[];
  try {
    await delay(FLOW_MS);
    await options.fault({
      cluster,
      round,
      failover: async (since, epoch, { fromLine } = {}) => {
        const accepted = await waitForEvent(cluster.worker, "Accepted a new leader epoch", {
          from: fromLine,
          where: (record) => fromLine !== undefined || BigInt(record.epoch) > epoch,
          timeoutMs: 20_000,
        });
        stats.failoversMs.push(accepted.at - since);
        return BigInt(accepted.record.epoch);
      },
      note: (text) => stats.notes.push(`round ${round}: ${text}`),
    });
    await cluster.waitForOneLeader();
    await delay(FLOW_MS);
  } finally {
    // Every task gets its final answer even when the fault failed: nothing is left running.
    outcomes = await load.stop();
  }
  // Exactly one leader at the end, as the masters, the worker's journal and ZooKeeper all say.
  await cluster.waitForOneLeader();
  const journal = await readJournalFile(cluster.journalPath);
  const { readings, starts } = cluster.history;
  const report = checkRound(journal.lines, outcomes);
  const againstHistory = checkAgainstHistory({
    readings,
    starts,
    journal: journal.lines,
    outcomes,
    claims: cluster.claims(),
    refusals: cluster.cachedLeaderClients.flatMap((client) => client.refusals),
  });
  stats.rounds++;
  stats.submitted += report.submitted;
  stats.completed += report.completed;
  stats.duplicated = report.duplicated.length; // the journal is the family's, so this is a total
  stats.lost += report.lost.length;
  stats.longestTaskMs = Math.max(
    stats.longestTaskMs,
    ...outcomes.map((outcome) => outcome.settledAt - outcome.submittedAt),
  );
  assert.deepEqual(
    [...journal.violations, ...report.violations, ...againstHistory],
    [],
    "invariant violations",
  );
  assert.deepEqual(report.duplicated, [], "tasks performed twice");
  assert.deepEqual(report.lost, [], "tasks without their one right answer");
  assert.deepEqual(cluster.crashes(), [], "processes that crashed");
}
