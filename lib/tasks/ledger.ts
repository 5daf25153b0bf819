/**
 * The worker's memory of performed tasks, so that each task id is performed at most once: a
 * repeated id (a client retrying through a new leader after a failover) gets the first result
 * back instead of a second execution.
 *
 * The memory is a window of the most recent `window` task ids (oldest forgotten first), so it is
 * bounded. With a journal file, every performed task and every newly accepted epoch is appended
 * to it *before* the task is acknowledged, and a restarted worker reloads the window and its
 * highest accepted epoch from it. The journal survives a crash of the process, not of the machine
 * (it is not fsync'ed), and it is also the record the chaos suite's checker reads.
 *
 * Recording a task is on every PerformTask's path, so it costs O(1): the window's order is kept in
 * a queue beside the map instead of being read from the map's own order (taking a Map's first key
 * after many deletions scans the deleted slots: 7 µs a task with the default window of 10 000).
 */

import { ANNOUNCEMENT_TASK } from "./protocol.ts";

/** One line of the journal. */
export type JournalEntry =
  | { type: "task"; task: string; epoch: string; result: string; at: string }
  | { type: "epoch"; epoch: string; at: string }
  /**
   * The ZooKeeper history the fence found (see fencing/epoch_fence.ts): `marker` names it, `zxid`
   * is the newest zxid seen then. With `restarted`, the epochs above belong to an old history and
   * no longer count.
   */
  | { type: "history"; marker: string; zxid: string; restarted: boolean; at: string };

/** The key under which a task is remembered. */
export function taskKey(taskId: string, epoch: bigint): string {
  return taskId === ANNOUNCEMENT_TASK ? `${taskId}@${epoch}` : taskId;
}

/** Options for {@linkcode TaskLedger.open}. */
export interface TaskLedgerOptions {
  /** How many task ids are remembered. */
  readonly window: number;
  /** An append-only JSON-lines file to keep and reload the record; none when undefined. */
  readonly journalPath?: string;
  /** Told about each journal line skipped at reload (1-based line number, why). */
  readonly onSkippedLine?: (line: number, reason: string) => void;
}

/** One remembered task: its key and first result. */
interface Remembered {
  readonly key: string;
  readonly result: string;
}

/** See the module comment. */
export class TaskLedger {
  readonly #results = new Map<string, Remembered>();
  /**
   * Every record in the order it was made, oldest from `#oldest` on. A key recorded again has a
   * newer record; its older one stays here, no longer in `#results`, and is skipped when evicted.
   */
  #order: Remembered[] = [];
  #oldest = 0;
  #highestEpoch = 0n;
  #historyMarker?: string;
  #journal?: Deno.FsFile;
  readonly #encoder = new TextEncoder();

  private constructor(private readonly window: number) {}

  /** Opens the ledger, reloading the journal if there is one. */
  static async open(options: TaskLedgerOptions): Promise<TaskLedger> {
    const ledger = new TaskLedger(options.window);
    if (options.journalPath) {
      const text = await loadJournal(options.journalPath);
      for (const entry of parseJournal(text, options.onSkippedLine)) {
        ledger.#apply(entry);
      }
      ledger.#journal = await Deno.open(options.journalPath, { append: true, create: true });
    }
    return ledger;
  }

  /** The highest epoch the journal records as accepted (0n without a journal). */
  get highestEpoch(): bigint {
    return this.#highestEpoch;
  }

  /** How many task ids are remembered now. */
  get size(): number {
    return this.#results.size;
  }

  /** The first result of a task already performed, or undefined. */
  lookup(taskId: string, epoch: bigint): string | undefined {
    return this.#results.get(taskKey(taskId, epoch))?.result;
  }

  /** Records a task as performed (journal first), before it is acknowledged. */
  recordTask(taskId: string, epoch: bigint, result: string): void {
    this.#append(() => ({
      type: "task",
      task: taskId,
      epoch: String(epoch),
      result,
      at: new Date().toISOString(),
    }));
    this.#remember(taskKey(taskId, epoch), result);
  }

  /** Records the history the fence found; after a restart the epochs so far no longer count. */
  recordHistory(history: { marker: string; lastZxid: bigint; restarted: boolean }): void {
    this.#write({
      type: "history",
      marker: history.marker,
      zxid: String(history.lastZxid),
      restarted: history.restarted,
      at: new Date().toISOString(),
    });
  }

  /** The history marker the journal names last (undefined without one). */
  get historyMarker(): string | undefined {
    return this.#historyMarker;
  }

  /** Records a newly accepted leader epoch. */
  recordEpoch(epoch: bigint): void {
    if (epoch > this.#highestEpoch) {
      this.#write({ type: "epoch", epoch: String(epoch), at: new Date().toISOString() });
    }
  }

  /** Closes the journal. */
  close(): void {
    this.#journal?.close();
    this.#journal = undefined;
  }

  #write(entry: JournalEntry): void {
    this.#append(() => entry);
    this.#apply(entry);
  }

  /** Appends a line to the journal, if there is one (the entry is only made then). */
  #append(entry: () => JournalEntry): void {
    if (!this.#journal) return;
    // writeSync may write less than asked; the record must be whole before the task is answered.
    const bytes = this.#encoder.encode(JSON.stringify(entry()) + "\n");
    for (let written = 0; written < bytes.length;) {
      written += this.#journal.writeSync(bytes.subarray(written));
    }
  }

  /** Remembers `key` as the newest task, forgetting the oldest beyond the window. */
  #remember(key: string, result: string): void {
    const remembered = { key, result };
    this.#results.set(key, remembered);
    this.#order.push(remembered);
    while (this.#results.size > this.window) {
      const oldest = this.#order[this.#oldest++];
      if (this.#results.get(oldest.key) === oldest) this.#results.delete(oldest.key);
    }
    // Drop the evicted head now and then, and the superseded records if they pile up (a journal
    // that records the same ids again and again), so the queue stays within twice the window.
    if (this.#oldest > 1024 && this.#oldest * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#oldest);
      this.#oldest = 0;
    }
    if (this.#order.length - this.#oldest > 2 * this.window + 1024) {
      this.#order = this.#order.slice(this.#oldest).filter((r) => this.#results.get(r.key) === r);
      this.#oldest = 0;
    }
  }

  #apply(entry: JournalEntry): void {
    if (entry.type === "history") {
      this.#historyMarker = entry.marker;
      if (entry.restarted) this.#highestEpoch = 0n;
      return;
    }
    const epoch = BigInt(entry.epoch);
    if (entry.type === "epoch") {
      if (epoch > this.#highestEpoch) this.#highestEpoch = epoch;
      return;
    }
    this.#remember(taskKey(entry.task, epoch), entry.result);
  }
}

/** A journal's text; a missing file is an empty journal. */
async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "";
    throw error;
  }
}

/**
 * A journal's text, after cutting a last line that a crash left unfinished, so that the next
 * record starts on a line of its own instead of being glued to it (and lost with it). That line's
 * task was never answered: the record is written before the answer.
 */
async function loadJournal(path: string): Promise<string> {
  const text = await readText(path);
  if (text === "" || text.endsWith("\n")) return text;
  const whole = text.slice(0, text.lastIndexOf("\n") + 1);
  await Deno.truncate(path, new TextEncoder().encode(whole).byteLength);
  return whole;
}

/** The records of a journal's text; a torn, garbled or wrongly shaped line is skipped. */
function parseJournal(
  text: string,
  onSkipped: (line: number, reason: string) => void = () => {},
): JournalEntry[] {
  return text.split("\n").flatMap((line, index) => {
    if (line.trim() === "") return [];
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      onSkipped(index + 1, "not JSON"); // a write cut short by a crash, or a stray edit
      return [];
    }
    const problem = shapeProblem(value);
    if (problem) {
      onSkipped(index + 1, problem);
      return [];
    }
    return [value as JournalEntry];
  });
}

const DECIMAL = /^\d{1,20}$/;

/** Why a parsed line is not a journal entry, or undefined when it is one. */
function shapeProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not an object";
  const entry = value as Record<string, unknown>;
  const decimal = (field: string) =>
    typeof entry[field] === "string" && DECIMAL.test(entry[field] as string)
      ? undefined
      : `"${field}" must be a decimal string`;
  switch (entry.type) {
    case "task":
      if (typeof entry.task !== "string") return '"task" must be a string';
      if (typeof entry.result !== "string") return '"result" must be a string';
      return decimal("epoch");
    case "epoch":
      return decimal("epoch");
    case "history":
      if (typeof entry.marker !== "string") return '"marker" must be a string';
      if (typeof entry.restarted !== "boolean") return '"restarted" must be true or false';
      return decimal("zxid");
    default:
      return `unknown "type": ${JSON.stringify(entry.type)}`;
  }
}

/** Reads a journal; a missing file is an empty journal, and a torn last line is skipped. */
export async function readJournal(path: string): Promise<JournalEntry[]> {
  return parseJournal(await readText(path));
}
