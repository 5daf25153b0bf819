/**
 * The steady stream of work during a chaos round: a new task every `intervalMs`, each with a
 * unique id and message, handed to the submitters in turn (the suite's: one that finds the leader
 * in ZooKeeper, and clients that keep using the master they know, see cached_leader_client.ts),
 * each retrying with the same id until its deadline. Tasks run concurrently, so a stalled leader
 * does not slow the stream down. `stop()` ends the stream and waits for every task's one final
 * answer.
 */
import type { SubmitOptions, SubmitResult } from "../../lib/tasks/submitter.ts";

/** What happened to one submitted task. */
export interface TaskOutcome {
  readonly id: string;
  readonly message: string;
  /** `performance.now()` when it was submitted and when its final answer came. */
  readonly submittedAt: number;
  /** When it was submitted, in wall-clock ms (`Date.now()`), the clock of the journal and logs. */
  readonly sentAt: number;
  readonly settledAt: number;
  /** The answer, when the task succeeded. */
  readonly answer?: string;
  readonly attempts?: number;
  /** The final error, when it failed. */
  readonly error?: string;
}

/** Submits one task; TaskSubmitter.submit fits. */
export type Submit = (
  taskId: string,
  message: string,
  options: SubmitOptions,
) => Promise<SubmitResult>;

/** Options for {@linkcode startLoad}. */
export interface LoadOptions {
  /** Starts every task id, e.g. `sigkill-r2`; ids are `<prefix>-<n>`. */
  readonly prefix: string;
  /** Time between two submissions. Default 50 ms. */
  readonly intervalMs?: number;
  /** Each task's total deadline, retries included. Default 30 000 ms. */
  readonly deadlineMs?: number;
}

/** A running stream of tasks. */
export interface Load {
  /** How many tasks have been submitted so far. */
  readonly submitted: number;
  /** Stops submitting and resolves with every task's outcome once all have settled. */
  stop(): Promise<TaskOutcome[]>;
}

/** Starts submitting tasks at once; see the module comment. */
export function startLoad(submitters: readonly Submit[], options: LoadOptions): Load {
  const { prefix, intervalMs = 50, deadlineMs = 30_000 } = options;
  if (!(intervalMs > 0) || !(deadlineMs > 0)) {
    throw new RangeError(
      `Cannot start the load: intervalMs and deadlineMs must be positive: ${intervalMs}, ${deadlineMs}`,
    );
  }
  if (submitters.length === 0) throw new RangeError("Cannot start the load: no submitters given");
  const pending: Promise<TaskOutcome>[] = [];
  const submitOne = () => {
    const id = `${prefix}-${pending.length + 1}`;
    const message = `payload of ${id}`;
    const submittedAt = performance.now();
    const sentAt = Date.now();
    const submit = submitters[pending.length % submitters.length];
    pending.push(
      submit(id, message, { deadlineMs }).then(
        (result) => ({
          id,
          message,
          submittedAt,
          sentAt,
          settledAt: performance.now(),
          answer: result.message,
          attempts: result.attempts,
        }),
        (error) => ({
          id,
          message,
          submittedAt,
          sentAt,
          settledAt: performance.now(),
          error: error instanceof Error ? error.message : String(error),
        }),
      ),
    );
  };
  submitOne();
  const timer = setInterval(submitOne, intervalMs);
  return {
    get submitted() {
      return pending.length;
    },
    stop() {
      clearInterval(timer);
      return Promise.all(pending);
    },
  };
}
