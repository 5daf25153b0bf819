/**
 * Submitting tasks so that they survive failovers: find the leader through ZooKeeper, call its
 * SubmitTask, and when the call fails in a way a failover explains (UNAVAILABLE, FAILED_PRECONDITION,
 * DEADLINE_EXCEEDED, no leader yet, ZooKeeper busy) find the leader again and retry with the same
 * task id, with backoff, until a total deadline. The worker performs each task id at most once, so
 * a retry after a lost answer returns the first result instead of doing the task twice.
 */
import { backoffDelay, delay } from "../common/backoff.ts";
import { type Candidate, leaderOf } from "../election/decisions.ts";
import { readElection } from "../election/read_election.ts";
import {
  callUnary,
  createMapReduceClient,
  describeGrpcError,
  grpc,
  isConnectionFailure,
  type MapReduceClient,
  type TlsCredentials,
} from "../grpc/grpc.ts";
import type { ZkClient } from "../zookeeper/client.ts";
import { RETRIED_CODES } from "./protocol.ts";

/** A task that got no answer within its deadline, or an answer that retrying cannot change. */
export class SubmitError extends Error {
  override name = "SubmitError";
  constructor(message: string, readonly code?: grpc.status) {
    super(message);
  }
}

/** The answer to a submitted task. */
export interface SubmitResult {
  readonly message: string;
  /** How many SubmitTask calls it took. */
  readonly attempts: number;
  /** The name of the master that answered. */
  readonly leader: string;
}

/** Options for {@linkcode TaskSubmitter.submit}. */
export interface SubmitOptions {
  /** The total time the task may take, retries included. Default 30 000 ms. */
  readonly deadlineMs?: number;
  /** The deadline of each call. Default 2000 ms. */
  readonly callTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Options for {@linkcode TaskSubmitter}. */
export interface TaskSubmitterOptions {
  /** The ZooKeeper client to read the election with, or undefined while disconnected. */
  readonly zk: () => ZkClient | undefined;
  /** The parent node of the election. */
  readonly electionPath: string;
  /**
   * Turns a leader into the address to call; by default the address it wrote into its election
   * node (a client outside the masters' network, like the host of a Compose lab, maps it to a
   * published port instead).
   */
  readonly resolveAddress?: (leader: Candidate) => string;
  /** Mutual TLS for the calls to the masters; plaintext when undefined. */
  readonly tls?: TlsCredentials;
}

/** See the module comment. */
export class TaskSubmitter {
  readonly #clients = new Map<string, MapReduceClient>();
  /** The leader last found; forgotten after any failure, so a retry asks ZooKeeper again. */
  #leader?: Candidate;

  readonly #zk: () => ZkClient | undefined;
  readonly #electionPath: string;
  readonly #resolveAddress: (leader: Candidate) => string;
  readonly #tls?: TlsCredentials;

  /** A submitter that finds the leader through `options.zk` (see {@linkcode TaskSubmitterOptions}). */
  constructor(options: TaskSubmitterOptions) {
    this.#zk = options.zk;
    this.#electionPath = options.electionPath;
    this.#resolveAddress = options.resolveAddress ?? ((leader) => leader.address);
    this.#tls = options.tls;
  }

  /** Submits one task; resolves with its one final answer or rejects with a SubmitError. */
  async submit(
    taskId: string,
    message: string,
    options: SubmitOptions = {},
  ): Promise<SubmitResult> {
    const { deadlineMs = 30_000, callTimeoutMs = 2000, signal } = options;
    const deadline = performance.now() + deadlineMs;
    let lastError = "no attempt made";
    for (let attempt = 1;; attempt++) {
      signal?.throwIfAborted();
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        throw new SubmitError(`Task ${taskId} got no answer within ${deadlineMs} ms: ${lastError}`);
      }
      try {
        const leader = await this.#findLeader();
        const reply = await callUnary(this.#client(this.#resolveAddress(leader)), "SubmitTask", {
          task_id: taskId,
          message,
        }, { timeoutMs: Math.min(callTimeoutMs, remaining), signal });
        return { message: reply.message, attempts: attempt, leader: leader.name };
      } catch (error) {
        const code = (error as grpc.ServiceError).code;
        if (typeof code === "number" && !RETRIED_CODES.has(code) && !isConnectionFailure(error)) {
          throw new SubmitError(`Task ${taskId} was refused: ${describeGrpcError(error)}`, code);
        }
        this.#leader = undefined;
        lastError = describeGrpcError(error);
      }
      const pause = Math.min(
        backoffDelay(attempt, { minDelayMs: 20, maxDelayMs: 1000 }),
        deadline - performance.now(),
      );
      if (pause > 0) await delay(pause, { signal });
    }
  }

  /** Closes the gRPC clients. */
  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  async #findLeader(): Promise<Candidate> {
    if (this.#leader) return this.#leader;
    const client = this.#zk();
    if (!client) throw new Error("not connected to ZooKeeper");
    const leader = leaderOf(await readElection(client, this.#electionPath));
    if (!leader) throw new Error("there is no leader right now");
    return this.#leader = leader;
  }

  #client(address: string): MapReduceClient {
    let client = this.#clients.get(address);
    if (!client) this.#clients.set(address, client = createMapReduceClient(address, this.#tls));
    return client;
  }
}
