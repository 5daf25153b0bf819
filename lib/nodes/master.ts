/**
 * A master: serves the lab's gRPC service, takes part in the election through a LeaderLatch and,
 * while it leads, drives the worker: it announces itself (`leader_election`) and forwards submitted
 * tasks, always with its epoch, and only while its lease holds.
 */
import { retry } from "../common/backoff.ts";
import type { MasterConfig } from "../config/config.ts";
import { describeTls } from "../config/tls.ts";
import { tlsHint } from "../grpc/credentials.ts";
import { type Candidate, leaderOf } from "../election/decisions.ts";
import { readElection } from "../election/read_election.ts";
import {
  callUnary,
  checkHealth,
  createMapReduceClient,
  createServer,
  describeGrpcError,
  grpc,
  hasCode,
  startServer,
  stopServer,
} from "../grpc/grpc.ts";
import { type LatchRole, LeaderLatch } from "../election/leader_latch.ts";
import { type RunContext, untilAborted } from "./process_runner.ts";
import { isRejection, validateTaskRequest } from "../tasks/request.ts";
import { ZkSession } from "../zookeeper/session.ts";

/** Codes with which the worker itself refuses a task: retrying elsewhere cannot change them. */
const WORKER_VERDICTS = new Set<grpc.status>([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.RESOURCE_EXHAUSTED,
]);

/** The task id of the call a new leader makes to the worker, as in the original lab. */
export const LEADER_ELECTION_TASK = "leader_election";

/** Runs a master until `context.signal` aborts, then leaves the election first and stops. */
export async function runMaster(config: MasterConfig, context: RunContext): Promise<void> {
  const { logger, signal } = context;
  logger.info(describeTls(config.tls));
  const worker = createMapReduceClient(config.workerAddress, config.tls);
  // Connect and make one real call now (a health check on the same channel), so the first call
  // after winning the election pays neither for the connection nor for a cold call path.
  checkHealth(config.workerAddress, { timeoutMs: config.workerTimeoutMs, via: worker }).catch(
    () => {
      // The worker may not be up yet; the leader's own calls retry.
    },
  );
  let term: AbortController | undefined;

  /**
   * Why we cannot take a submission, naming the leader. A follower watches only its predecessor, so
   * what it last heard of the leader may be old: ask ZooKeeper.
   */
  async function notLeaderMessage(): Promise<string> {
    const client = session.client;
    const leader = client
      ? leaderOf(await readElection(client, config.electionPath).catch(() => []))
      : undefined;
    return leader
      ? `${config.name} is not the leader; the leader is ${leader.name} at ${leader.address}`
      : `${config.name} is not the leader, and there is no leader right now`;
  }

  const { server, setHealth } = createServer({
    SubmitTask(call, callback) {
      const task = validateTaskRequest(call.request);
      if (isRejection(task)) return callback({ code: task.code, details: task.details });
      if (task.taskId === LEADER_ELECTION_TASK) {
        // The worker remembers this id per epoch, for the leader's own announcement.
        return callback({
          code: grpc.status.INVALID_ARGUMENT,
          details: `task_id "${LEADER_ELECTION_TASK}" is reserved for a new leader's announcement`,
        });
      }
      const leader = latch.leadership();
      if (!leader) {
        return void notLeaderMessage().then((details) =>
          callback({ code: grpc.status.FAILED_PRECONDITION, details })
        );
      }
      callUnary(worker, "PerformTask", {
        task_id: task.taskId,
        message: task.message,
        epoch: String(leader.epoch),
      }, { timeoutMs: config.workerTimeoutMs }).then(
        (reply) => callback(null, reply),
        (error: grpc.ServiceError) => {
          if (hasCode(error, grpc.status.FAILED_PRECONDITION)) {
            latch.recheck("the worker refused our epoch");
          }
          // Only the worker's own verdicts pass through. Anything else means the worker did not
          // answer (it died or restarted mid-call): the client should try again, with the same
          // task id, whether or not the task was performed.
          const verdict = WORKER_VERDICTS.has(error.code);
          callback({
            code: verdict ? error.code : grpc.status.UNAVAILABLE,
            details: verdict
              ? describeGrpcError(error)
              : `The worker did not answer: ${describeGrpcError(error)}`,
          });
        },
      );
    },
    PerformTask(_call, callback) {
      return callback({
        code: grpc.status.UNIMPLEMENTED,
        details: "Masters take SubmitTask; PerformTask is served by the worker",
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
  const address = `${config.advertiseHost}:${port}`;
  logger.info("Master serving", { name: config.name, address, worker: config.workerAddress });

  /** Tells the worker about our leadership, retrying while this term lasts. */
  async function announce(self: Candidate, termSignal: AbortSignal): Promise<void> {
    try {
      const reply = await retry(() => {
        if (latch.leadership()?.epoch !== self.epoch) throw new Error("no longer the leader");
        return callUnary(worker, "PerformTask", {
          task_id: LEADER_ELECTION_TASK,
          message: self.address,
          epoch: String(self.epoch),
        }, { timeoutMs: config.workerTimeoutMs, signal: termSignal });
      }, {
        signal: termSignal,
        minDelayMs: 100,
        maxDelayMs: 5000,
        shouldRetry: (error) =>
          !hasCode(error, grpc.status.FAILED_PRECONDITION) && !termSignal.aborted,
        onError: (error, attempt, retryInMs) =>
          logger.warn("Cannot reach the worker", {
            worker: config.workerAddress,
            attempt,
            retryInMs,
            error: describeGrpcError(error),
            hint: tlsHint(error, config.tls !== undefined),
          }),
      });
      logger.info("The worker accepted our leadership", {
        epoch: self.epoch,
        reply: reply.message,
      });
    } catch (error) {
      if (termSignal.aborted) return;
      logger.warn("The worker refused our epoch", {
        epoch: self.epoch,
        error: describeGrpcError(error),
      });
      latch.recheck("the worker refused our epoch");
    }
  }

  const onRoleChange = (role: LatchRole) => {
    term?.abort();
    term = undefined;
    setHealth(role.role === "none" ? "NOT_SERVING" : "SERVING");
    if (role.role === "leader") {
      term = new AbortController();
      void announce(role.self, term.signal);
    }
  };

  // The handlers above and announce() use `latch`; none of them runs before this line, because
  // calls are served only from later event-loop turns and the role changes only after start().
  const latch = new LeaderLatch({
    electionPath: config.electionPath,
    member: { name: config.name, address },
    sessionTimeoutMs: config.sessionTimeoutMs,
    logger,
    onChange: onRoleChange,
  });
  // Leave the election the moment we are asked to stop: the successor takes over while we finish.
  signal.addEventListener("abort", () => void latch.close(), { once: true });
  const session = new ZkSession(config, {
    logger,
    onEvent: (event) => latch.handleSession(event),
  });
  latch.start();
  session.start();

  const status = setInterval(() => {
    logger.info(latch.leadership() ? "I am the leader" : "I am the follower");
  }, config.statusIntervalMs);

  await untilAborted(signal);
  // Leave the election first, so the successor takes over while we finish the rest.
  clearInterval(status);
  term?.abort();
  await latch.close();
  await session.close();
  await stopServer(server, 500);
  worker.close();
  logger.info("Master stopped");
}
