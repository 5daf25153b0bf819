/**
 * The worker process, wired: a gRPC server whose PerformTask is perform_task.ts, the epoch fence
 * following a ZooKeeper session, and the task ledger with its optional journal. Calls without an
 * epoch (plain clients) are served unfenced; under mutual TLS with WORKER_PLAIN_CLIENTS, only to
 * the certificates named there (fencing/plain_clients.ts).
 */
import { createLogger } from "../../common/log.ts";
import type { WorkerConfig } from "../../config/config.ts";
import { describeTls } from "../../config/tls.ts";
import { EpochFence } from "../../fencing/epoch_fence.ts";
import { plainCallRefusal } from "../../fencing/plain_clients.ts";
import { NO_EPOCH } from "../../fencing/rules.ts";
import { logRefusals, peerName } from "../../grpc/credentials.ts";
import { createServer, grpc, startServer, stopServer, warmUpCodecs } from "../../grpc/grpc.ts";
import { TaskLedger } from "../../tasks/ledger.ts";
import { isRejection, validateTaskRequest } from "../../tasks/request.ts";
import { ZkSession } from "../../zookeeper/session.ts";
import { type RunContext, untilAborted } from "../process_runner.ts";
import { fenceMemory, performTask } from "./perform_task.ts";

/** Runs the worker until `context.signal` aborts, then shuts down in order. */
export async function runWorker(config: WorkerConfig, context: RunContext): Promise<void> {
  const { logger, signal } = context;
  logger.info(describeTls(config.tls));
  const ledger = await TaskLedger.open({
    window: config.dedupWindow,
    journalPath: config.journalPath,
    onSkippedLine: (line, reason) =>
      logger.warn("Skipped a journal line that is not a record", {
        journal: config.journalPath,
        line,
        reason,
      }),
  });
  const fence = new EpochFence({
    electionPath: config.electionPath,
    logger,
    ...fenceMemory(ledger),
    // Healthy only while new leaders can be verified: not before ZooKeeper answers.
    onReadyChange: (ready) => setHealth(ready ? "SERVING" : "NOT_SERVING"),
  });
  // The lines of performed tasks are frequent: a busy worker writes them in fewer, bigger writes.
  const taskLogger = createLogger(config.logFormat, { frequent: true });
  warmUpCodecs();
  const { server, setHealth } = createServer({
    PerformTask(call, callback) {
      const task = validateTaskRequest(call.request);
      if (isRejection(task)) return callback({ code: task.code, details: task.details });
      // Only an epoch-less call needs the caller's name: reading its certificate costs the others.
      const refusal = task.epoch === NO_EPOCH
        ? plainCallRefusal(task.epoch, peerName(call), config.plainClients)
        : undefined;
      if (refusal) {
        logger.warn("Refused a task without an epoch", { task: task.taskId, reason: refusal });
        return callback({ code: grpc.status.PERMISSION_DENIED, details: refusal });
      }
      performTask(task, { fence, ledger, logger, taskLogger }).then(
        (answer) =>
          "reply" in answer
            ? callback(null, answer.reply)
            : callback({ code: answer.code, details: answer.details }),
        (error) => callback({ code: grpc.status.INTERNAL, details: String(error) }),
      );
    },
    SubmitTask(_call, callback) {
      return callback({
        code: grpc.status.UNIMPLEMENTED,
        details: "The worker performs tasks (PerformTask); submit tasks to the leading master",
      });
    },
  });
  setHealth("NOT_SERVING");
  const port = await startServer(server, config.host, config.port, {
    tls: config.tls,
    onRefused: logRefusals(logger),
  });
  logger.info(`server listening at ${config.host}:${port}`);

  const session = new ZkSession(config, { logger, onEvent: (event) => fence.handleSession(event) });
  session.start();

  await untilAborted(signal);
  // Drain the calls in flight first: their verifications still need ZooKeeper.
  await stopServer(server, 500);
  await session.close();
  ledger.close();
  logger.info("Worker stopped");
}
