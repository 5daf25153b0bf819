/**
 * The chaos suite's independent checker: it reads the worker's journal file itself (it does not
 * trust the parser the worker uses to reload it) and judges it, with what the submitting clients
 * were told, against the suite's invariants:
 * - epochs only increase, in the order the worker accepted them;
 * - at most one epoch at any moment: every task the worker performed carries the epoch it had
 *   accepted last (or 0, a plain call without an epoch), never one it had already moved past;
 * - no task id performed twice (the announcement `leader_election` once per epoch);
 * - every submitted task got one final answer, the right one, and the worker recorded it.
 * The judging is pure, so it is unit-tested with plain data (checker_test.ts).
 */
import { taskKey } from "../../lib/tasks/ledger.ts";

/** The task id of a leader's announcement, as the original lab names it (the checker's own copy). */
const ANNOUNCEMENT_TASK = "leader_election";
import type { TaskOutcome } from "./load.ts";

/** One journal line as the checker reads it; `line` counts from 1. */
export type JournalLine =
  | { readonly line: number; readonly at: number; readonly type: "epoch"; readonly epoch: bigint }
  /** The worker's fence found ZooKeeper's history restarted: the epochs above no longer count. */
  | { readonly line: number; readonly at: number; readonly type: "history" }
  | {
    readonly line: number;
    /** When the worker recorded it (wall-clock ms). */
    readonly at: number;
    readonly type: "task";
    readonly task: string;
    readonly epoch: bigint;
    readonly result: string;
  };

/** What the checker found. Each list names the offending task ids or explains the violation. */
export interface CheckReport {
  /** Broken invariants other than duplicates and losses: each a sentence naming the line. */
  readonly violations: readonly string[];
  /** Task keys performed more than once. */
  readonly duplicated: readonly string[];
  /** Submitted tasks without the right final answer, each with what happened instead. */
  readonly lost: readonly string[];
  readonly submitted: number;
  readonly completed: number;
}

/** Parses journal text; a line that is not a well-formed record is returned as a violation. */
export function parseJournal(text: string): { lines: JournalLine[]; violations: string[] } {
  const lines: JournalLine[] = [];
  const violations: string[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    if (raw === "") return;
    try {
      const record = JSON.parse(raw);
      const at = typeof record.at === "string" ? Date.parse(record.at) : NaN;
      if (Number.isNaN(at)) throw new Error();
      if (record.type === "history" && typeof record.zxid === "string") {
        return void lines.push({ line, at, type: "history" });
      }
      if (typeof record.epoch !== "string" || !/^\d{1,20}$/.test(record.epoch)) throw new Error();
      const epoch = BigInt(record.epoch);
      if (record.type === "epoch") return void lines.push({ line, at, type: "epoch", epoch });
      if (
        record.type === "task" && typeof record.task === "string" &&
        typeof record.result === "string"
      ) {
        return void lines.push({
          line,
          at,
          type: "task",
          task: record.task,
          epoch,
          result: record.result,
        });
      }
      throw new Error();
    } catch {
      violations.push(`journal line ${line} is not a task or epoch record: ${raw.slice(0, 120)}`);
    }
  });
  return { lines, violations };
}

/** Reads and parses the journal file; a missing file is an empty journal. */
export async function readJournalFile(
  path: string,
): Promise<{ lines: JournalLine[]; violations: string[] }> {
  try {
    return parseJournal(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { lines: [], violations: [] };
    throw error;
  }
}

/** The highest epoch the journal records as accepted (0n if none). */
export function highestEpoch(lines: readonly JournalLine[]): bigint {
  return lines.reduce(
    (max, entry) => entry.type === "epoch" && entry.epoch > max ? entry.epoch : max,
    0n,
  );
}

/**
 * The epoch the journal records as accepted last (0n if none): the highest one, except after
 * ZooKeeper lost its data, when the new history's epochs start again from the bottom.
 */
export function lastEpoch(lines: readonly JournalLine[]): bigint {
  const last = lines.findLast((entry) => entry.type !== "task");
  return last?.type === "epoch" ? last.epoch : 0n;
}

/**
 * Judges the whole journal (epochs and duplicates) and one round's submissions against it. After
 * the worker recorded that ZooKeeper's history restarted (a data loss), epochs start again from
 * the bottom: the order of epochs is judged within each history. (Whether the epochs were
 * ZooKeeper's at the time is history_checker.ts's part, from the observer's own view.)
 */
export function checkRound(
  lines: readonly JournalLine[],
  outcomes: readonly TaskOutcome[],
): CheckReport {
  const violations: string[] = [];
  const performed = new Map<string, JournalLine[]>();
  let current = 0n;
  let history = 0;
  for (const entry of lines) {
    if (entry.type === "history") {
      history++;
      current = 0n;
      continue;
    }
    if (entry.type === "epoch") {
      if (entry.epoch <= current) {
        violations.push(
          `journal line ${entry.line}: epoch ${entry.epoch} accepted after epoch ${current}`,
        );
      }
      if (entry.epoch > current) current = entry.epoch;
      continue;
    }
    if (entry.epoch !== 0n && entry.epoch !== current) {
      violations.push(
        `journal line ${entry.line}: task ${entry.task} performed with epoch ${entry.epoch} ` +
          `while the accepted epoch was ${current}`,
      );
    }
    // An announcement is once per epoch, and epoch numbers repeat in a new history.
    const key = entry.task === ANNOUNCEMENT_TASK && history > 0
      ? `history ${history}: ${taskKey(entry.task, entry.epoch)}`
      : taskKey(entry.task, entry.epoch);
    performed.set(key, [...(performed.get(key) ?? []), entry]);
  }
  const duplicated = [...performed].filter(([, entries]) => entries.length > 1).map(([key]) => key);

  const lost: string[] = [];
  let completed = 0;
  for (const outcome of outcomes) {
    const expected = `${outcome.message} gatech`;
    if (outcome.answer !== expected) {
      lost.push(
        `${outcome.id}: ${
          outcome.error ?? `answered ${JSON.stringify(outcome.answer)}, not ${expected}`
        }`,
      );
      continue;
    }
    completed++;
    const records = performed.get(taskKey(outcome.id, 0n)) ?? [];
    if (records.length === 0) {
      violations.push(`task ${outcome.id} was answered but the worker's journal has no record`);
    } else if (records[0].type === "task" && records[0].result !== outcome.answer) {
      violations.push(
        `task ${outcome.id} was answered ${JSON.stringify(outcome.answer)} but the journal ` +
          `recorded ${JSON.stringify(records[0].result)}`,
      );
    }
  }
  return { violations, duplicated, lost, submitted: outcomes.length, completed };
}
