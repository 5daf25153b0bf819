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
 */

import { ANNOUNCEMENT_TASK } from "./protocol.ts";

/** One line of the journal. */
export type JournalEntry =
  | { type: "task"; task: string; epoch: string; result: string; at: string }
  | { type: "epoch"; epoch: string; at: string };

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
}

/** See the module comment. */
export class TaskLedger {
  readonly #results = new Map<string, string>();
  #highestEpoch = 0n;
  #journal?: Deno.FsFile;
  readonly #encoder = new TextEncoder();

  private constructor(private readonly window: number) {}

  /** Opens the ledger, reloading the journal if there is one. */
  static async open(options: TaskLedgerOptions): Promise<TaskLedger> {
    const ledger = new TaskLedger(options.window);
    if (options.journalPath) {
      for (const entry of parseJournal(await loadJournal(options.journalPath))) {
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
    return this.#results.get(taskKey(taskId, epoch));
  }

  /** Records a task as performed (journal first), before it is acknowledged. */
  recordTask(taskId: string, epoch: bigint, result: string): void {
    this.#write({
      type: "task",
      task: taskId,
      epoch: String(epoch),
      result,
      at: new Date().toISOString(),
    });
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
    if (this.#journal) {
      // writeSync may write less than asked; the record must be whole before the task is answered.
      const bytes = this.#encoder.encode(JSON.stringify(entry) + "\n");
      for (let written = 0; written < bytes.length;) {
        written += this.#journal.writeSync(bytes.subarray(written));
      }
    }
    this.#apply(entry);
  }

  #apply(entry: JournalEntry): void {
    const epoch = BigInt(entry.epoch);
    if (entry.type === "epoch") {
      if (epoch > this.#highestEpoch) this.#highestEpoch = epoch;
      return;
    }
    const key = taskKey(entry.task, epoch);
    this.#results.delete(key);
    this.#results.set(key, entry.result);
    // Maps iterate in insertion order: the first key is the oldest.
    while (this.#results.size > this.window) {
      this.#results.delete(this.#results.keys().next().value!);
    }
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

/** The records of a journal's text; a torn or garbled line is skipped. */
function parseJournal(text: string): JournalEntry[] {
  return text.split("\n").flatMap((line) => {
    if (line.trim() === "") return [];
    try {
      return [JSON.parse(line) as JournalEntry];
    } catch {
      return []; // a write cut short by a crash
    }
  });
}

/** Reads a journal; a missing file is an empty journal, and a torn last line is skipped. */
export async function readJournal(path: string): Promise<JournalEntry[]> {
  return parseJournal(await readText(path));
}
