/**
 * The worker's handling of one PerformTask, as plain code with its parts injected: the fence
 * judges the epoch (a stale leader's task is refused with FAILED_PRECONDITION and not performed),
 * the ledger makes each task id happen at most once, and performing a task answers
 * `<message> gatech`. The gRPC server around it is wired in run_worker.ts.
 */
import type { Logger } from "../../common/log.ts";
import {
  type EpochFence,
  type EpochFenceOptions,
  FenceUnavailableError,
} from "../../fencing/epoch_fence.ts";
import { grpc, type TaskAnswer } from "../../grpc/grpc.ts";
import type { TaskLedger } from "../../tasks/ledger.ts";
import type { ValidTask } from "../../tasks/request.ts";

/**
 * The fence's memory, kept in the ledger's journal: the highest epoch accepted and the ZooKeeper
 * history it belongs to are reloaded at start and each new one is recorded before it counts. The
 * worker process and the simulation wire the fence through this one function, so a restarted
 * worker remembers the same things in both.
 */
export function fenceMemory(
  ledger: Pick<TaskLedger, "highestEpoch" | "historyMarker" | "recordEpoch" | "recordHistory">,
): Pick<EpochFenceOptions, "highestAccepted" | "onAccept" | "historyMarker" | "onHistory"> {
  return {
    highestAccepted: ledger.highestEpoch,
    onAccept: (epoch) => ledger.recordEpoch(epoch),
    historyMarker: ledger.historyMarker,
    onHistory: (history) => ledger.recordHistory(history),
  };
}

/** What {@linkcode performTask} needs. */
export interface PerformDeps {
  readonly fence: Pick<EpochFence, "admit">;
  readonly ledger: Pick<TaskLedger, "lookup" | "recordTask">;
  readonly logger: Logger;
  /**
   * Where the line of each task performed (or answered again) goes: one line per task, so the
   * worker gives a logger of frequent lines (common/log.ts). Default `logger`.
   */
  readonly taskLogger?: Pick<Logger, "info">;
}

/** Judges, deduplicates and performs one valid task. */
export async function performTask(task: ValidTask, deps: PerformDeps): Promise<TaskAnswer> {
  const { fence, ledger, logger, taskLogger = logger } = deps;
  let verdict;
  try {
    verdict = await fence.admit(task.epoch);
  } catch (error) {
    const code = error instanceof FenceUnavailableError
      ? grpc.status.UNAVAILABLE
      : grpc.status.INTERNAL;
    return { code, details: error instanceof Error ? error.message : String(error) };
  }
  if (verdict.kind !== "accept") {
    logger.warn("Refused a task from a stale leader", {
      task: task.taskId,
      reason: verdict.reason,
    });
    return { code: grpc.status.FAILED_PRECONDITION, details: verdict.reason };
  }
  const earlier = ledger.lookup(task.taskId, task.epoch);
  if (earlier !== undefined) {
    taskLogger.info("Task already performed; returning its first result", { task: task.taskId });
    return { reply: { message: earlier } };
  }
  const result = `${task.message} gatech`;
  ledger.recordTask(task.taskId, task.epoch, result);
  taskLogger.info(`Performing task: ${task.taskId}`);
  return { reply: { message: result } };
}
