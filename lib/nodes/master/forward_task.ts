/**
 * The leader's part of SubmitTask, as plain code with injected effects: take a valid task only
 * while we lead, forward it to the worker with our epoch, and turn the worker's answer into the
 * client's: the worker's own verdicts pass through, anything else means the worker did not answer
 * and the client should retry (see tasks/protocol.ts).
 */
import type { Candidate } from "../../election/decisions.ts";
import { describeGrpcError, grpc, hasCode, type TaskResponse } from "../../grpc/grpc.ts";
import { ANNOUNCEMENT_TASK, WORKER_DID_NOT_ANSWER, WORKER_VERDICTS } from "../../tasks/protocol.ts";
import type { TaskRejection, ValidTask } from "../../tasks/request.ts";
import type { CallWorker, Leadership } from "./term.ts";

/** The answer to a SubmitTask: the worker's reply or the status to send. */
export type SubmitAnswer = { readonly reply: TaskResponse } | TaskRejection;

/** What {@linkcode forwardTask} needs. */
export interface ForwardDeps {
  /** This master's name, for messages. */
  readonly name: string;
  readonly latch: Leadership;
  readonly callWorker: CallWorker;
  /** The deadline of the call to the worker. */
  readonly workerTimeoutMs: number;
  /** The leader as ZooKeeper names it now (undefined: none, or cannot ask). */
  readonly findLeader: () => Promise<Candidate | undefined>;
}

/** Handles one valid SubmitTask. */
export async function forwardTask(task: ValidTask, deps: ForwardDeps): Promise<SubmitAnswer> {
  if (task.taskId === ANNOUNCEMENT_TASK) {
    // The worker remembers this id per epoch, for the leader's own announcement.
    return {
      code: grpc.status.INVALID_ARGUMENT,
      details: `task_id "${ANNOUNCEMENT_TASK}" is reserved for a new leader's announcement`,
    };
  }
  const leader = deps.latch.leadership();
  if (!leader) {
    // A follower watches only its predecessor, so what it last heard of the leader may be old.
    const current = await deps.findLeader().catch(() => undefined);
    return { code: grpc.status.FAILED_PRECONDITION, details: notLeaderMessage(deps.name, current) };
  }
  try {
    const reply = await deps.callWorker({
      task_id: task.taskId,
      message: task.message,
      epoch: String(leader.epoch),
    }, { timeoutMs: deps.workerTimeoutMs });
    return { reply };
  } catch (error) {
    if (hasCode(error, grpc.status.FAILED_PRECONDITION)) {
      deps.latch.recheck("the worker refused our epoch");
    }
    // Only the worker's own verdicts pass through. Anything else means the worker did not answer
    // (it died or restarted mid-call): the client should try again, with the same task id,
    // whether or not the task was performed.
    const code = (error as grpc.ServiceError).code;
    if (WORKER_VERDICTS.has(code)) return { code, details: describeGrpcError(error) };
    return {
      code: WORKER_DID_NOT_ANSWER,
      details: `The worker did not answer: ${describeGrpcError(error)}`,
    };
  }
}

/** Why a master cannot take a submission, naming the leader if there is one. */
export function notLeaderMessage(name: string, leader: Candidate | undefined): string {
  return leader
    ? `${name} is not the leader; the leader is ${leader.name} at ${leader.address}`
    : `${name} is not the leader, and there is no leader right now`;
}
