/**
 * The leader's part of SubmitTask, as plain code with injected effects: take a valid task only
 * while we lead, forward it to the worker with our epoch, and turn the worker's answer into the
 * client's: the worker's own verdicts pass through, anything else means the worker did not answer
 * and the client should retry (see tasks/protocol.ts).
 *
 * A forwarded call belongs to the term it was sent in: it is cancelled when the term ends, which
 * includes the moment our lease runs out (the latch demotes us then, on a timer), so it never
 * outlives the lease; and a client that cancels cancels it too. (A fixed deadline of "the lease
 * left at sending" would cut calls short although heartbeats keep renewing the lease.)
 */
import type { Candidate } from "../../election/decisions.ts";
import { describeGrpcError, grpc, hasCode, type TaskResponse } from "../../grpc/grpc.ts";
import { ANNOUNCEMENT_TASK, WORKER_DID_NOT_ANSWER, WORKER_VERDICTS } from "../../tasks/protocol.ts";
import type { TaskRejection, ValidTask } from "../../tasks/request.ts";
import type { CallWorker, Leadership, Term } from "./term.ts";

/** The answer to a SubmitTask: the worker's reply or the status to send. */
export type SubmitAnswer = { readonly reply: TaskResponse } | TaskRejection;

/** What {@linkcode forwardTask} needs. */
export interface ForwardDeps {
  /** This master's name and address, for messages. */
  readonly name: string;
  readonly address: string;
  readonly latch: Leadership;
  /** The term under way, if we lead (LeaderTerms.current). */
  readonly term: () => Term | undefined;
  readonly callWorker: CallWorker;
  /** The deadline of the call to the worker. */
  readonly workerTimeoutMs: number;
  /** The leader as ZooKeeper names it now (undefined: none, or cannot ask). */
  readonly findLeader: () => Promise<Candidate | undefined>;
}

/** Handles one valid SubmitTask; `signal` is the client's cancellation. */
export async function forwardTask(
  task: ValidTask,
  deps: ForwardDeps,
  signal?: AbortSignal,
): Promise<SubmitAnswer> {
  if (task.taskId === ANNOUNCEMENT_TASK) {
    // The worker remembers this id per epoch, for the leader's own announcement.
    return {
      code: grpc.status.INVALID_ARGUMENT,
      details: `task_id "${ANNOUNCEMENT_TASK}" is reserved for a new leader's announcement`,
    };
  }
  const leader = deps.latch.leadership();
  const term = deps.term();
  if (!leader || term?.self.epoch !== leader.epoch) {
    // A follower watches only its predecessor, so what it last heard of the leader may be old.
    const current = await deps.findLeader().catch(() => undefined);
    return {
      code: grpc.status.FAILED_PRECONDITION,
      details: notLeaderMessage({ name: deps.name, address: deps.address }, current),
    };
  }
  const timeoutMs = deps.workerTimeoutMs;
  const callSignal = signal ? AbortSignal.any([term.signal, signal]) : term.signal;
  try {
    const reply = await deps.callWorker({
      task_id: task.taskId,
      message: task.message,
      epoch: String(leader.epoch),
    }, { timeoutMs, signal: callSignal });
    return { reply };
  } catch (error) {
    if (hasCode(error, grpc.status.FAILED_PRECONDITION)) deps.latch.recheck();
    // Only the worker's own verdicts pass through. Anything else means the worker did not answer
    // (it died or restarted mid-call, or we stopped leading): the client should try again, with
    // the same task id, whether or not the task was performed.
    const code = (error as grpc.ServiceError).code;
    if (WORKER_VERDICTS.has(code)) return { code, details: describeGrpcError(error) };
    if (term.signal.aborted) {
      return {
        code: WORKER_DID_NOT_ANSWER,
        details: `${deps.name} stopped leading while the task was with the worker; it may or ` +
          "may not have been performed: retry with the same task_id",
      };
    }
    return {
      code: WORKER_DID_NOT_ANSWER,
      details: `The worker did not answer: ${describeGrpcError(error)}`,
    };
  }
}

/**
 * Why a master cannot take a submission, naming the leader if there is one. When ZooKeeper names
 * this very master (its lease ran out, or its term has not started yet), it says that instead of
 * sending the client to itself.
 */
export function notLeaderMessage(
  self: { readonly name: string; readonly address: string },
  leader: Candidate | undefined,
): string {
  if (leader && leader.address === self.address) {
    return `${self.name} leads in ZooKeeper but cannot act as leader right now ` +
      "(it is confirming its leadership with ZooKeeper); try again shortly";
  }
  return leader
    ? `${self.name} is not the leader; the leader is ${leader.name} at ${leader.address}`
    : `${self.name} is not the leader, and there is no leader right now`;
}
