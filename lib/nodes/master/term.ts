/**
 * A leader's term: from the moment the latch makes this master leader until it demotes it. A term
 * announces the leadership to the worker (task `leader_election` with our epoch, retried while the
 * term lasts), and its signal aborts whatever was started on its behalf when it ends, so nothing
 * of an old term outlives it.
 *
 * Plain code with its effects injected (the worker call, the latch): the process wiring passes the
 * real ones (run_master.ts), the deterministic simulation passes models.
 */
import { retry } from "../../common/backoff.ts";
import type { Clock, RandomSource } from "../../common/clock.ts";
import type { Logger } from "../../common/log.ts";
import type { Candidate } from "../../election/decisions.ts";
import type { LatchRole } from "../../election/leader_latch.ts";
import {
  type CallOptions,
  describeGrpcError,
  grpc,
  hasCode,
  type TaskRequest,
  type TaskResponse,
} from "../../grpc/grpc.ts";
import { ANNOUNCEMENT_TASK } from "../../tasks/protocol.ts";

/** One PerformTask call to the worker; rejects with a `grpc.ServiceError` (`code`, `details`). */
export type CallWorker = (
  request: Partial<TaskRequest>,
  options: CallOptions,
) => Promise<TaskResponse>;

/** What a term needs of the latch. */
export interface Leadership {
  /** Our candidate while we lead with a valid lease, else undefined. */
  leadership(): Candidate | undefined;
  /** Re-reads the election; the role changes only if the election did. */
  recheck(): void;
}

/** A term under way. */
export interface Term {
  /** Our election node as leader; its `epoch` goes with every call of the term. */
  readonly self: Candidate;
  /** Aborted when the term ends. */
  readonly signal: AbortSignal;
}

/** Options for {@linkcode LeaderTerms}. */
export interface LeaderTermsOptions {
  readonly latch: Leadership;
  readonly callWorker: CallWorker;
  /** The worker's address, for logs. */
  readonly workerAddress: string;
  /** The deadline of each call to the worker. */
  readonly workerTimeoutMs: number;
  /** Our election path, to name both when the worker follows another one. */
  readonly electionPath: string;
  readonly logger: Logger;
  /** A hint for the log when a call to the worker fails, e.g. that the two disagree about TLS. */
  readonly explain?: (error: unknown) => string | undefined;
  /** Told whether the worker accepts the current term (false while it refuses it). */
  readonly onWorkerVerdict?: (accepted: boolean) => void;
  /** The clock of the announcement's retries. Default the real one. */
  readonly clock?: Clock;
  /** The jitter of the announcement's retries. Default `Math.random`. */
  readonly random?: RandomSource;
}

/** Follows the latch's role: one term per leadership, each announced to the worker. */
export class LeaderTerms {
  #term?: { readonly self: Candidate; readonly controller: AbortController };
  /** The refusal logged last (epoch and reason): a new term of the same epoch does not repeat it. */
  #loggedRefusal?: string;

  constructor(private readonly options: LeaderTermsOptions) {}

  /** The term under way, if we lead. */
  get current(): Term | undefined {
    const term = this.#term;
    return term && { self: term.self, signal: term.controller.signal };
  }

  /** Ends the old term on every change of role and starts a new one on each leadership. */
  onRoleChange(role: LatchRole): void {
    this.end();
    if (role.role !== "leader") return;
    const term = { self: role.self, controller: new AbortController() };
    this.#term = term;
    void this.#announce(term.self, term.controller.signal);
  }

  /** Ends the term under way, if any. */
  end(): void {
    this.#term?.controller.abort(new Error("the term ended"));
    this.#term = undefined;
  }

  /**
   * Tells the worker about our leadership, retrying while this term lasts. A refusal is retried
   * too, with the same capped, jittered backoff (the worker may not have caught up with ZooKeeper
   * yet, or ZooKeeper's history restarted under it), logged once per reason, and makes the latch
   * re-read the election: if another master leads now, the term ends.
   */
  async #announce(self: Candidate, signal: AbortSignal): Promise<void> {
    const { latch, callWorker, logger, workerAddress, workerTimeoutMs } = this.options;
    try {
      const reply = await retry(() => {
        if (latch.leadership()?.epoch !== self.epoch) throw new Error("no longer the leader");
        return callWorker({
          task_id: ANNOUNCEMENT_TASK,
          message: self.address,
          epoch: String(self.epoch),
        }, { timeoutMs: workerTimeoutMs, signal });
      }, {
        signal,
        minDelayMs: 100,
        maxDelayMs: 5000,
        clock: this.options.clock,
        random: this.options.random,
        shouldRetry: () => !signal.aborted && latch.leadership()?.epoch === self.epoch,
        onError: (error, attempt, retryInMs) => {
          if (!hasCode(error, grpc.status.FAILED_PRECONDITION)) {
            return logger.warn("Cannot reach the worker", {
              worker: workerAddress,
              attempt,
              retryInMs,
              error: describeGrpcError(error),
              hint: this.options.explain?.(error),
            });
          }
          this.options.onWorkerVerdict?.(false);
          const reason = (error as grpc.ServiceError).details;
          const refusal = `${self.epoch} ${reason}`;
          if (refusal !== this.#loggedRefusal) {
            this.#loggedRefusal = refusal;
            this.#logRefusal(self, reason, retryInMs);
          }
          latch.recheck();
        },
      });
      this.options.onWorkerVerdict?.(true);
      this.#loggedRefusal = undefined;
      logger.info("The worker accepted our leadership", {
        epoch: self.epoch,
        reply: reply.message,
      });
    } catch {
      // The term ended (or we no longer lead): the next term announces itself.
    }
  }

  #logRefusal(self: Candidate, reason: string, retryInMs: number): void {
    const { logger, electionPath } = this.options;
    logger.warn("The worker refused our epoch; trying again", {
      epoch: self.epoch,
      reason,
      retryInMs,
    });
    const workerPath = electionPathIn(reason);
    if (workerPath !== undefined && workerPath !== electionPath) {
      logger.error("The worker follows another election path than this master", {
        masterElectionPath: electionPath,
        workerElectionPath: workerPath,
        hint: "set the same ELECTION_PATH for the masters and the worker",
      });
    }
  }
}

/** The election path a worker's refusal names (see fencing/epoch_fence.ts), if any. */
export function electionPathIn(reason: string): string | undefined {
  return /\(election path (\/\S*)\)$/.exec(reason)?.[1];
}
