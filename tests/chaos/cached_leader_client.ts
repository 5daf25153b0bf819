/**
 * A client that submits tasks the way many real ones do: straight to a master, with no ZooKeeper
 * of its own. It remembers the leader it knows and keeps using it until that master refuses it;
 * a follower's refusal names the leader ("the leader is master2 at host:port"), which it then
 * remembers; a master it cannot reach at all, or a refusal without a name, sends it to the next
 * master in the list. A master that is slow (paused) is waited for and asked again: a paused
 * leader wakes up to a queue of calls, and what it does with them is what the suite judges.
 *
 * Each call that a master forwarded and the worker refused as stale is kept (`refusals`), with
 * when the client sent it, for the checker (history_checker.ts).
 */
import { backoffDelay, delay } from "../../lib/common/backoff.ts";
import {
  callUnary,
  createMapReduceClient,
  describeGrpcError,
  grpc,
  type MapReduceClient,
} from "../../lib/grpc/grpc.ts";
import type { ForwardedRefusal } from "./history_checker.ts";
import type { SubmitOptions, SubmitResult } from "../../lib/tasks/submitter.ts";

/** A master as the client knows it. */
export interface MasterAddress {
  readonly name: string;
  readonly address: string;
}

/** How long one call may wait: longer than a paused leader stays paused. */
const CALL_TIMEOUT_MS = 8000;

/** How the clients' calls went, for the summary's notes. */
export interface CallCounts {
  /** Calls answered with a result. */
  answered: number;
  /** Refused by a master as not the leader (a follower, or a leader that knew it had lost). */
  notLeader: number;
  /** Forwarded by a master and refused by the worker's fence. */
  staleForwarded: number;
  /** No answer in time, or the master could not be reached. */
  unanswered: number;
}

/** See the module comment. */
export class CachedLeaderClient {
  readonly refusals: ForwardedRefusal[] = [];
  readonly counts: CallCounts = { answered: 0, notLeader: 0, staleForwarded: 0, unanswered: 0 };
  readonly #clients = new Map<string, MapReduceClient>();
  #cached?: MasterAddress;
  #next: number;

  /** `masters` lists the masters now running; `start` picks the first one asked. */
  constructor(private readonly masters: () => readonly MasterAddress[], start: number) {
    this.#next = start;
  }

  /** Submits one task; resolves with its answer or rejects once `deadlineMs` has passed. */
  async submit(
    taskId: string,
    message: string,
    options: SubmitOptions = {},
  ): Promise<SubmitResult> {
    const deadline = performance.now() + (options.deadlineMs ?? 30_000);
    let lastError = "no attempt made";
    for (let attempt = 1;; attempt++) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new Error(`Task ${taskId} got no answer in time: ${lastError}`);
      const master = this.#cached ??= this.#pick();
      const sentAt = Date.now();
      try {
        if (!master) throw new Error("no master is running");
        const reply = await callUnary(this.#client(master.address), "SubmitTask", {
          task_id: taskId,
          message,
        }, { timeoutMs: Math.min(CALL_TIMEOUT_MS, remaining) });
        this.counts.answered++;
        return { message: reply.message, attempts: attempt, leader: master.name };
      } catch (error) {
        lastError = `${master?.name ?? "nobody"}: ${describeGrpcError(error)}`;
        if (master) this.#learn(master, taskId, sentAt, error as grpc.ServiceError);
      }
      await delay(Math.min(backoffDelay(attempt, { minDelayMs: 20, maxDelayMs: 500 }), remaining));
    }
  }

  /** Closes the gRPC clients. */
  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  /** What a failed call says about whom to ask next. */
  #learn(master: MasterAddress, taskId: string, sentAt: number, error: grpc.ServiceError): void {
    const details = error.details ?? "";
    if (error.code === grpc.status.FAILED_PRECONDITION) {
      const stale = /leader epoch (\d+)/.exec(details);
      if (stale) {
        this.counts.staleForwarded++;
        this.refusals.push({ master: master.name, task: taskId, epoch: BigInt(stale[1]), sentAt });
      } else this.counts.notLeader++;
      const named = /the leader is (\S+) at (\S+?)\.?$/.exec(details);
      const leader = named && this.masters().find((m) => m.address === named[2]);
      this.#cached = leader && leader.address !== master.address ? leader : undefined;
      return;
    }
    this.counts.unanswered++;
    // A paused or busy leader is asked again; one that is gone (or answered that the worker did
    // not) is kept too, unless the connection itself failed.
    const unreachable = error.code === grpc.status.UNAVAILABLE &&
      !details.startsWith("The worker did not answer");
    if (unreachable || !this.masters().some((m) => m.address === master.address)) {
      this.#cached = undefined;
    }
  }

  #pick(): MasterAddress | undefined {
    const masters = this.masters();
    return masters.length ? masters[this.#next++ % masters.length] : undefined;
  }

  #client(address: string): MapReduceClient {
    let client = this.#clients.get(address);
    if (!client) this.#clients.set(address, client = createMapReduceClient(address));
    return client;
  }
}
