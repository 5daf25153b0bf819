/**
 * The worker: performs tasks sent over gRPC (`PerformTask` answers `<message> gatech`) and fences
 * off stale leaders: a call carrying an epoch older than the current leader's is refused with
 * FAILED_PRECONDITION and not performed. Calls without an epoch (plain clients) are served (under
 * mutual TLS with WORKER_PLAIN_CLIENTS, only to the certificates named there). Each
 * task id is performed at most once (see task_ledger.ts).
 */
import type { WorkerConfig } from "../config/config.ts";
import { describeTls } from "../config/tls.ts";
import { EpochFence, FenceUnavailableError } from "../fencing/epoch_fence.ts";
import { plainCallRefusal } from "../fencing/plain_clients.ts";
import { peerName } from "../grpc/credentials.ts";
import { createServer, grpc, startServer, stopServer } from "../grpc/grpc.ts";
import type { RunContext } from "./process_runner.ts";
import { untilAborted } from "./process_runner.ts";
import { isRejection, validateTaskRequest } from "../tasks/request.ts";
import { TaskLedger } from "../tasks/ledger.ts";
import { ZkSession } from "../zookeeper/session.ts";

/** Runs the worker until `context.signal` aborts, then shuts down in order. */
export async function runWorker(config: WorkerConfig, context: RunContext): Promise<void> {
  const { logger, signal } = context;
  logger.info(describeTls(config.tls));
  const ledger = await TaskLedger.open({
    window: config.dedupWindow,
    journalPath: config.journalPath,
  });
  const fence = new EpochFence(config.electionPath, logger, {
    highestAccepted: ledger.highestEpoch,
    onAccept: (epoch) => ledger.recordEpoch(epoch),
  });
  const { server } = createServer({
    PerformTask(call, callback) {
      const task = validateTaskRequest(call.request);
      if (isRejection(task)) return callback({ code: task.code, details: task.details });
      const refusal = plainCallRefusal(task.epoch, peerName(call), config.plainClients);
      if (refusal) {
        logger.warn("Refused a task without an epoch", { task: task.taskId, reason: refusal });
        return callback({ code: grpc.status.PERMISSION_DENIED, details: refusal });
      }
      fence.admit(task.epoch).then((verdict) => {
        if (verdict.kind !== "accept") {
          logger.warn("Refused a task from a stale leader", {
            task: task.taskId,
            reason: verdict.reason,
          });
          return callback({ code: grpc.status.FAILED_PRECONDITION, details: verdict.reason });
        }
        const earlier = ledger.lookup(task.taskId, task.epoch);
        if (earlier !== undefined) {
          logger.info("Task already performed; returning its first result", { task: task.taskId });
          return callback(null, { message: earlier });
        }
        const result = `${task.message} gatech`;
        ledger.recordTask(task.taskId, task.epoch, result);
        logger.info(`Performing task: ${task.taskId}`);
        return callback(null, { message: result });
      }, (error) => {
        const code = error instanceof FenceUnavailableError
          ? grpc.status.UNAVAILABLE
          : grpc.status.INTERNAL;
        return callback({ code, details: error instanceof Error ? error.message : String(error) });
      });
    },
    SubmitTask(_call, callback) {
      return callback({
        code: grpc.status.UNIMPLEMENTED,
        details: "The worker performs tasks (PerformTask); submit tasks to the leading master",
      });
    },
  });
  const port = await startServer(server, config.host, config.port, {
    tls: config.tls,
    onRefused: ({ reason, meaning, since }) =>
      logger.warn("Refused a connection in the TLS handshake", {
        reason,
        meaning,
        sinceLastReport: since,
      }),
  });
  logger.info(`server listening at ${config.host}:${port}`);

  const session = new ZkSession(config, { logger, onEvent: (event) => fence.handleSession(event) });
  session.start();

  await untilAborted(signal);
  await session.close();
  await stopServer(server, 500);
  ledger.close();
  logger.info("Worker stopped");
}
