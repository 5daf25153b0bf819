/**
 * The chaos checker's second half: what the worker performed, what each master said about its own
 * leadership, and what each master forwarded, judged against ZooKeeper's history of leader epochs
 * as the suite's own observer recorded it (election_history.ts, epoch_windows.ts). It catches a
 * leader that acts after losing its lease even when the worker's fence then refuses it, so the
 * lease and the fence are each proven on their own:
 * - a task performed under an epoch that was not the leader's at any instant between its request
 *   and its answer (the epoch could not lead yet when it was performed, or had stopped leading
 *   before the task was submitted), or under an epoch ZooKeeper never showed;
 * - a master that said "I am the leader" (on taking over, or in its periodic status line, which is
 *   logged only while its lease holds) at a moment its epoch could not be the leader's;
 * - a master that forwarded a call to the worker, with an epoch whose node ZooKeeper had already
 *   deleted before the client even sent the call: no valid lease can outlive its node.
 * Pure, so it is tested with plain data (checker_test.ts).
 */
import type { JournalLine } from "./checker.ts";
import {
  clockTime,
  historyAt,
  type HistoryStart,
  leadershipWindow,
  type Reading,
} from "./epoch_windows.ts";
import type { TaskOutcome } from "./load.ts";

/** A master saying it leads, from its log. */
export interface LeaderClaim {
  readonly master: string;
  readonly epoch: bigint;
  /** The log line's own time (wall-clock ms). */
  readonly at: number;
}

/** A call that a master forwarded and the worker refused as stale, as the client saw it. */
export interface ForwardedRefusal {
  readonly master: string;
  readonly task: string;
  readonly epoch: bigint;
  /** When the client sent the call (wall-clock ms): the master forwarded it later. */
  readonly sentAt: number;
}

/** Everything the history check judges. */
export interface HistoryEvidence {
  readonly readings: readonly Reading[];
  readonly starts: readonly HistoryStart[];
  readonly journal: readonly JournalLine[];
  readonly outcomes: readonly TaskOutcome[];
  readonly claims: readonly LeaderClaim[];
  readonly refusals: readonly ForwardedRefusal[];
}

/** The violations found, each a sentence naming who, which epoch and when. */
export function checkAgainstHistory(evidence: HistoryEvidence): string[] {
  const { readings, starts } = evidence;
  const windowOf = (epoch: bigint, at: number) =>
    leadershipWindow(readings, starts, historyAt(starts, at), epoch);
  const submitted = new Map(evidence.outcomes.map((outcome) => [outcome.id, outcome.sentAt]));
  const violations: string[] = [];

  for (const entry of evidence.journal) {
    if (entry.type !== "task" || entry.epoch === 0n) continue;
    const window = windowOf(entry.epoch, entry.at);
    const what =
      `journal line ${entry.line}: task ${entry.task} performed under epoch ${entry.epoch}`;
    if (!window) {
      violations.push(`${what}, which ZooKeeper's election never showed`);
      continue;
    }
    if (entry.at < window.notBefore) {
      violations.push(
        `${what} at ${clockTime(entry.at)}, before that epoch could lead ` +
          `(not before ${clockTime(window.notBefore)})`,
      );
    }
    const sentAt = submitted.get(entry.task);
    if (sentAt !== undefined && sentAt > window.notAfter) {
      violations.push(
        `${what}, an epoch whose node was gone by ${clockTime(window.notAfter)}, ` +
          `before the task was submitted at ${clockTime(sentAt)}`,
      );
    }
  }

  for (const claim of evidence.claims) {
    const window = windowOf(claim.epoch, claim.at);
    const what = `${claim.master} said "I am the leader" with epoch ${claim.epoch} at ` +
      clockTime(claim.at);
    if (!window) violations.push(`${what}, an epoch ZooKeeper's election never showed`);
    else if (claim.at > window.notAfter) {
      violations.push(`${what}, but its node was gone by ${clockTime(window.notAfter)}`);
    } else if (claim.at < window.notBefore) {
      violations.push(
        `${what}, before that epoch could lead (not before ${clockTime(window.notBefore)})`,
      );
    }
  }

  for (const refusal of evidence.refusals) {
    const window = windowOf(refusal.epoch, refusal.sentAt);
    if (window && refusal.sentAt > window.notAfter) {
      violations.push(
        `${refusal.master} forwarded task ${refusal.task} with epoch ${refusal.epoch} after ` +
          `${clockTime(refusal.sentAt)}, when that epoch's node was gone by ` +
          `${clockTime(window.notAfter)}: it acted without a valid lease`,
      );
    }
  }
  return violations;
}
