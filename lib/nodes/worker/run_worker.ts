/**
 * The worker process, wired: a gRPC server whose PerformTask (a call of its own, or a message on a
 * master's link, grpc/worker_link.ts) is perform_task.ts, the epoch fence following a ZooKeeper
 * session, and the task ledger with its optional journal. Calls without an epoch (plain clients)
 * are served unfenced; under mutual TLS with WORKER_PLAIN_CLIENTS, only to the certificates named
 * there (fencing/plain_clients.ts).
 */
import { createLogger } from "../../common/log.ts";
import type { WorkerConfig } from "../../config/config.ts";
import { describeTls } from "../../config/tls.ts";
import { EpochFence } from "../../fencing/epoch_fence.ts";
import { plainCallRefusal } from "../../fencing/plain_clients.ts";
import { NO_EPOCH } from "../../fencing/rules.ts";
import { logRefusals, peerName } from "../../grpc/credentials.ts";
import {
  createServer,
  grpc,
  startServer,
  stopServer,
  type TaskAnswer,
  type TaskRequest,
  warmUpCodecs,
} from "../../grpc/grpc.ts";
import { type ServedLink, serveTaskLink } from "../../grpc/worker_link.ts";
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
  /** A PerformTask's answer, on its own or on a link; `peer` names the caller's certificate. */
  const answer = async (
    request: Partial<TaskRequest>,
    peer: () => string | undefined,
  ): Promise<TaskAnswer> => {
    const task = validateTaskRequest(request);
    if (isRejection(task)) return task;
    // Only an epoch-less call needs the caller's name: reading its certificate costs the others.
    const refusal = task.epoch === NO_EPOCH
      ? plainCallRefusal(task.epoch, peer(), config.plainClients)
      : undefined;
    if (refusal) {
      logger.warn("Refused a task without an epoch", { task: task.taskId, reason: refusal });
      return { code: grpc.status.PERMISSION_DENIED, details: refusal };
    }
    return await performTask(task, { fence, ledger, logger, taskLogger });
  };
  /** The masters' open links (grpc/worker_link.ts), ended before the server stops. */
  const links = new Set<ServedLink>();
  const { server, setHealth } = createServer({
    PerformTask(call, callback) {
      answer(call.request, () => peerName(call)).then(
        (result) =>
          "reply" in result
            ? callback(null, result.reply)
            : callback({ code: result.code, details: result.details }),
        (error) => callback({ code: grpc.status.INTERNAL, details: String(error) }),
      );
    },
    PerformTasks(call) {
      const link = serveTaskLink(
        call,
        (request) => answer(request, () => peerName(call)),
        () => links.delete(link),
      );
      links.add(link);
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
  // Drain the calls in flight first: their verifications still need ZooKeeper. The server takes
  // no new call from here on; the links end once their answers in flight are sent.
  const stopped = stopServer(server, 500);
  await Promise.all([...links].map((link) => link.end()));
  await stopped;
  await session.close();
  ledger.close();
  logger.info("Worker stopped");
}
