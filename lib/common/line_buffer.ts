/**
 * When a process's log lines are written: the policy behind lib/common/log.ts, apart from stdout so
 * that it can be tested with a fake clock and fake timers.
 *
 * What it promises: lines are written in the order they were pushed, whole, in as few writes as
 * the rules below allow; `flush()` writes everything now (log.ts calls it on `unload`, so
 * `Deno.exit` loses nothing).
 * - A line is written at the end of its event-loop turn, with every other line of that turn: one
 *   write per turn instead of one per line, and the turn's own work (a deletion to send, a reply)
 *   goes out before it.
 * - A *frequent* line (one per task: a busy worker makes thousands a second) is written the same
 *   way when the last write was at least {@linkcode GATHER_MS} ago. Otherwise it waits for the
 *   next write, at most until {@linkcode GATHER_MS} after the last one. A worker doing a few tasks
 *   a second writes each line at once, as before; one doing a thousand writes about a hundred times
 *   a second instead of a thousand. Each write to a pipe wakes its reader, and on two cores those
 *   wake-ups cost the worker more than its own handling of a task. Any other line still goes out at
 *   the end of its turn, taking the waiting lines along, so a line about a change of state (a new
 *   leader's epoch accepted, a refusal) is never held back, nor reordered.
 * A process killed with SIGKILL loses the lines not yet written: at most those of the last
 * {@linkcode GATHER_MS}, for tasks the journal (lib/tasks/ledger.ts) has recorded already.
 */
import { setImmediate } from "node:timers";

/** The longest a frequent line waits for other lines to share its write. */
export const GATHER_MS = 10;

/** What a {@linkcode LineBuffer} needs from its surroundings; tests give fakes. */
export interface LineBufferOptions {
  /** Writes whole lines (each ends with a newline) to the output. */
  readonly write: (text: string) => void;
  /** A monotonic clock in ms; default `performance.now()`. */
  readonly now?: () => number;
  /** Calls `run` after `ms` without keeping the process alive; returns a cancel. */
  readonly setTimer?: (run: () => void, ms: number) => () => void;
  /** Calls `run` at the end of the current event-loop turn; default `setImmediate`. */
  readonly atTurnEnd?: (run: () => void) => void;
}

function unrefTimer(run: () => void, ms: number): () => void {
  const id = setTimeout(run, ms);
  Deno.unrefTimer(id);
  return () => clearTimeout(id);
}

/** See the module comment. */
export class LineBuffer {
  #pending: string[] = [];
  #lastWriteAt = -Infinity;
  #turnEndScheduled = false;
  #cancelTimer?: () => void;
  readonly #write: (text: string) => void;
  readonly #now: () => number;
  readonly #setTimer: (run: () => void, ms: number) => () => void;
  readonly #atTurnEnd: (run: () => void) => void;

  constructor(options: LineBufferOptions) {
    this.#write = options.write;
    this.#now = options.now ?? (() => performance.now());
    this.#setTimer = options.setTimer ?? unrefTimer;
    this.#atTurnEnd = options.atTurnEnd ?? ((run) => void setImmediate(run));
  }

  /** Queues `line` (without its newline); `frequent`: see the module comment. */
  push(line: string, options: { frequent?: boolean } = {}): void {
    this.#pending.push(line + "\n");
    if (this.#turnEndScheduled) return;
    if (options.frequent) {
      if (this.#cancelTimer) return; // a write is already on its way
      const sinceWrite = this.#now() - this.#lastWriteAt;
      if (sinceWrite < GATHER_MS) {
        this.#cancelTimer = this.#setTimer(() => {
          this.#cancelTimer = undefined;
          this.flush();
        }, GATHER_MS - sinceWrite);
        return;
      }
    }
    this.#turnEndScheduled = true;
    this.#atTurnEnd(() => {
      this.#turnEndScheduled = false;
      this.flush();
    });
  }

  /** Writes every queued line now, in one write. */
  flush(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    if (this.#pending.length === 0) return;
    const text = this.#pending.join("");
    this.#pending = [];
    this.#lastWriteAt = this.#now();
    this.#write(text);
  }
}
