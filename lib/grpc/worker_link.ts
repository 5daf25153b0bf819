/**
 * Both ends of PerformTasks, the link from a master to the worker: PerformTask's requests and
 * answers as the messages of one long-lived call, which every master opens at start, follower or
 * not. A new leader's first task is then one message on a stream already open instead of a new
 * call. On the lab's 2-core test machine, after 1.5 s of idle, a task took 5.5 ms there and back
 * as a unary call and 2.7 ms as a message on the link (bench/link_hop.ts): setting up a new call
 * in grpc-js and Deno is most of the cost, and after idle it runs slowly.
 *
 * The client end, {@linkcode WorkerLink}, answers each call as PerformTask would, with the same
 * codes; callers cannot tell the difference. Each call has its own deadline. While the link is
 * not up (opening, broken, or a worker without the method, asked again every 30 s), calls go as
 * unary PerformTask calls. A broken link fails the calls it carried with UNAVAILABLE (as a unary
 * call whose connection breaks: the task may or may not have been performed) and is opened again
 * with backoff. A call whose deadline passes on the link cancels the link too, so that a
 * connection that went silent is replaced instead of swallowing every later call.
 *
 * The server end, {@linkcode serveTaskLink}, answers every message with `perform`, in any order
 * (each answer carries its request's id), and ends the call when told to stop once the answers
 * in flight are written.
 */
import { backoffDelay } from "../common/backoff.ts";
import type { Logger } from "../common/log.ts";
import {
  type CallOptions,
  callUnary,
  describeGrpcError,
  grpc,
  hasCode,
  type LinkedAnswer,
  type LinkedTask,
  type MapReduceClient,
  serviceError,
  type TaskAnswer,
  type TaskRequest,
  type TaskResponse,
} from "./grpc.ts";

/** A call on the link, waiting for its answer. */
interface Pending {
  resolve(response: TaskResponse): void;
  reject(error: grpc.ServiceError): void;
}

/** The backoff of reopening a link, and the first delay (full jitter below it, see backoff.ts). */
const REOPEN_BACKOFF = { minDelayMs: 100, maxDelayMs: 2000 };
/** How long a link waits before asking again a worker that has no PerformTasks (it may be upgraded). */
const UNSUPPORTED_RETRY_MS = 30_000;

/** Options for {@linkcode WorkerLink}. */
export interface WorkerLinkOptions {
  /** The client of the unary calls. */
  readonly unary: MapReduceClient;
  /**
   * The client of the link, on a connection of its own (createMapReduceClient's `ownConnection`):
   * while the worker is away, the link's attempts to open again put their channel in and out of
   * connection backoff, in which grpc-js fails new calls at once. The unary calls' channel stays
   * as before: untouched until a call needs it. The link closes it in {@linkcode WorkerLink.close}.
   */
  readonly link: MapReduceClient;
  /** Hears when the link comes up and when it breaks. */
  readonly logger?: Logger;
}

/** See the module comment. */
export class WorkerLink {
  readonly #unary: MapReduceClient;
  readonly #linkClient: MapReduceClient;
  readonly #logger?: Logger;
  #call?: grpc.ClientDuplexStream<LinkedTask, LinkedAnswer>;
  /** True once the open call answered its ping: calls go on the link. */
  #up = false;
  /** The worker had no PerformTasks when last asked (said once in the log). */
  #unsupported = false;
  #closed = false;
  #nextId = 1;
  readonly #pending = new Map<string, Pending>();
  /** Failed opens in a row, for the backoff. */
  #failures = 0;
  #reopenTimer?: ReturnType<typeof setTimeout>;

  constructor(options: WorkerLinkOptions) {
    this.#unary = options.unary;
    this.#linkClient = options.link;
    this.#logger = options.logger;
  }

  /** True while calls go on the link (not as unary calls). */
  get up(): boolean {
    return this.#up;
  }

  /** Opens the link (again), unless it is open or closed for good. */
  open(): void {
    if (this.#call || this.#closed) return;
    const call = this.#linkClient.PerformTasks(new grpc.Metadata());
    this.#call = call;
    const pingId = this.#newId();
    this.#pending.set(pingId, {
      resolve: () => {
        if (this.#call !== call) return;
        this.#up = true;
        this.#failures = 0;
        this.#unsupported = false;
        this.#logger?.info("Linked to the worker: tasks go as messages of one open call");
      },
      reject: () => {
        // The call's end reports it.
      },
    });
    call.on("data", (answer: LinkedAnswer) => this.#onAnswer(answer));
    // A call that ends, with any status, ends the link; "error" comes before "status".
    call.on("error", (error: grpc.ServiceError) => this.#onEnd(call, error));
    call.on("status", (status: grpc.StatusObject) => {
      this.#onEnd(call, serviceError(status.code, status.details || "the worker ended the link"));
    });
    call.write({ id: pingId, task: null });
  }

  /** One PerformTask: on the link when it is up, else as a unary call. */
  call(request: Partial<TaskRequest>, options: CallOptions): Promise<TaskResponse> {
    const call = this.#call;
    if (!this.#up || !call) return callUnary(this.#unary, "PerformTask", request, options);
    if (options.signal?.aborted) {
      return Promise.reject(serviceError(grpc.status.CANCELLED, "Cancelled on client"));
    }
    return new Promise<TaskResponse>((resolve, reject) => {
      const id = this.#newId();
      const settle = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        this.#pending.delete(id);
      };
      const timer = setTimeout(() => {
        settle();
        reject(serviceError(grpc.status.DEADLINE_EXCEEDED, "Deadline exceeded on the link"));
        // The worker may be stuck or the connection silent: replace the link (see above).
        if (this.#call === call) this.#cancel("a call's deadline passed on it");
      }, options.timeoutMs);
      const onAbort = () => {
        settle();
        reject(serviceError(grpc.status.CANCELLED, "Cancelled on client"));
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (response) => {
          settle();
          resolve(response);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      call.write({ id, task: request });
    });
  }

  /**
   * Ends the link for good and closes its client; calls it carries fail with UNAVAILABLE, later
   * calls go unary (the unary client is the caller's to close).
   */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#reopenTimer);
    this.#cancel("the master is stopping");
    this.#linkClient.close();
  }

  #newId(): string {
    return String(this.#nextId++);
  }

  #onAnswer(answer: LinkedAnswer): void {
    const pending = this.#pending.get(answer.id);
    if (!pending) return; // its caller gave up (deadline or cancel)
    this.#pending.delete(answer.id);
    if (answer.code === grpc.status.OK) pending.resolve(answer.response ?? { message: "" });
    else pending.reject(serviceError(answer.code, answer.details));
  }

  /** Cancels the call under way, if any; its end fails what it carried and reopens. */
  #cancel(reason: string): void {
    const call = this.#call;
    if (!call) return;
    this.#onEnd(call, serviceError(grpc.status.CANCELLED, reason));
    call.cancel();
  }

  #onEnd(call: grpc.ClientDuplexStream<LinkedTask, LinkedAnswer>, error: grpc.ServiceError) {
    if (this.#call !== call) return; // already handled
    const wasUp = this.#up;
    this.#call = undefined;
    this.#up = false;
    const lost = serviceError(
      grpc.status.UNAVAILABLE,
      `the link to the worker ended (${describeGrpcError(error)}); ` +
        "the task may or may not have been performed",
    );
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const { reject } of pending) reject(lost);
    if (this.#closed) return;
    if (hasCode(error, grpc.status.UNIMPLEMENTED)) {
      if (!this.#unsupported) {
        this.#logger?.info("The worker has no PerformTasks: tasks go as one call each", {
          askingAgainInMs: UNSUPPORTED_RETRY_MS,
        });
      }
      this.#unsupported = true;
      this.#reopenTimer = setTimeout(() => this.open(), UNSUPPORTED_RETRY_MS);
      return;
    }
    if (wasUp && error.code === grpc.status.OK) {
      this.#logger?.info("The worker closed the link (it is stopping); tasks go as one call each");
    } else if (wasUp) {
      const message = "Lost the link to the worker; tasks go as one call each until it is back";
      this.#logger?.warn(message, { error: describeGrpcError(error) });
    }
    this.#failures++;
    this.#reopenTimer = setTimeout(() => this.open(), backoffDelay(this.#failures, REOPEN_BACKOFF));
  }
}

/** The server end of one link, for the worker's shutdown. */
export interface ServedLink {
  /** Stops taking messages; resolves once the answers in flight are written and the call ended. */
  end(): Promise<void>;
}

/**
 * Serves one PerformTasks call: each task's answer is `perform(task)`'s, sent with its id.
 * `onEnded` hears once that nothing more can be written on it.
 */
export function serveTaskLink(
  call: grpc.ServerDuplexStream<LinkedTask, LinkedAnswer>,
  perform: (task: Partial<TaskRequest>) => Promise<TaskAnswer>,
  onEnded?: () => void,
): ServedLink {
  let inFlight = 0;
  /** No new tasks: the master ended its side, or the worker is stopping. */
  let ending = false;
  /** Nothing more can be written: the call ended, or was cancelled or broke. */
  let ended = false;
  const whenEnded: (() => void)[] = [];
  const markEnded = () => {
    if (ended) return false;
    ended = true;
    onEnded?.();
    return true;
  };
  const finishIfIdle = () => {
    if (!ending || inFlight > 0) return;
    if (markEnded()) call.end();
    for (const resolve of whenEnded.splice(0)) resolve();
  };
  const answer = (id: string, result: TaskAnswer) => {
    if (ended) return;
    call.write(
      "reply" in result
        ? { id, response: result.reply, code: grpc.status.OK, details: "" }
        : { id, response: null, code: result.code, details: result.details },
    );
  };
  call.on("data", (linked: LinkedTask) => {
    if (ending) return; // a stopping worker takes nothing new: the master's deadline tells it
    if (!linked.task) return answer(linked.id, { reply: { message: "" } }); // a ping
    inFlight++;
    perform(linked.task)
      .catch((error) => ({ code: grpc.status.INTERNAL, details: String(error) }))
      .then((result) => {
        answer(linked.id, result);
        inFlight--;
        finishIfIdle();
      });
  });
  // The master ended its side: end ours once the answers in flight are sent.
  call.on("end", () => {
    ending = true;
    finishIfIdle();
  });
  call.on("error", () => {
    // Cancelled or broken: the tasks in flight still finish, but their answers cannot be sent.
    markEnded();
    ending = true;
    finishIfIdle();
  });
  return {
    end() {
      ending = true;
      return new Promise((resolve) => {
        whenEnded.push(resolve);
        finishIfIdle();
      });
    },
  };
}
