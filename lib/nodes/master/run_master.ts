/**
 * A master process, wired: serves the lab's gRPC service, takes part in the election through a
 * LeaderLatch and, while it leads, drives the worker (term.ts announces the leadership,
 * forward_task.ts forwards submitted tasks), always with its epoch and only while its lease holds.
 */
import { realClock } from "../../common/clock.ts";
import { delay } from "../../common/backoff.ts";
import type { MasterConfig } from "../../config/config.ts";
import { describeTls } from "../../config/tls.ts";
import { leaderOf } from "../../election/decisions.ts";
import { LeaderLatch } from "../../election/leader_latch.ts";
import { readElection } from "../../election/read_election.ts";
import {
  checkHealth,
  createMapReduceClient,
  createServer,
  startServer,
  stopServer,
  warmUpCodecs,
} from "../../grpc/grpc.ts";
import { logRefusals, tlsHint } from "../../grpc/credentials.ts";
import { WorkerLink } from "../../grpc/worker_link.ts";
import { ZkSession } from "../../zookeeper/session.ts";
import { type RunContext, untilAborted } from "../process_runner.ts";
import { forwardTask } from "./forward_task.ts";
import { masterHandlers } from "./service.ts";
import { statusLine } from "./status_line.ts";
import { type CallWorker, LeaderTerms } from "./term.ts";

/** How long a stopping leader stays idle after asking for its node's deletion (see onStop below). */
const HANDOVER_GRACE_MS = 50;

/** Runs a master until `context.signal` aborts, then leaves the election first and stops. */
export async function runMaster(config: MasterConfig, context: RunContext): Promise<void> {
  const { logger, signal } = context;
  logger.info(describeTls(config.tls));
  warmUpCodecs();
  const worker = createMapReduceClient(config.workerAddress, config.tls);
  // Connect and make one real call now (a health check on the same channel), so the first call
  // after winning the election pays neither for the connection nor for a cold call path.
  checkHealth(config.workerAddress, { timeoutMs: config.workerTimeoutMs, via: worker }).catch(
    () => {
      // The worker may not be up yet; the leader's own calls retry.
    },
  );
  // Every master, follower or not, keeps a link open to the worker: a new leader's first task is
  // then one message on an open call (grpc/worker_link.ts). With WORKER_LINK=off it never opens.
  const link = new WorkerLink({
    unary: worker,
    link: createMapReduceClient(config.workerAddress, config.tls, { ownConnection: true }),
    logger,
  });
  if (config.workerLink) link.open();
  const callWorker: CallWorker = (request, options) => link.call(request, options);

  /** Our gRPC address, known once the server is bound (before any call is served). */
  let address = "";
  const { server, setHealth } = createServer(masterHandlers((task, cancelled) =>
    forwardTask(task, {
      name: config.name,
      address,
      latch,
      term: () => terms.current,
      callWorker,
      workerTimeoutMs: config.workerTimeoutMs,
      findLeader: async () => {
        const client = session.client;
        return client ? leaderOf(await readElection(client, config.electionPath)) : undefined;
      },
    }, cancelled)
  ));
  const port = await startServer(server, config.host, config.port, {
    tls: config.tls,
    onRefused: logRefusals(logger),
  });
  address = `${config.advertiseHost}:${port}`;
  logger.info("Master serving", { name: config.name, address, worker: config.workerAddress });

  // The handlers above use `latch`, `terms` and `session`; none of them runs before these lines,
  // because calls are served only from later event-loop turns.
  const latch = new LeaderLatch({
    electionPath: config.electionPath,
    member: { name: config.name, address },
    logger,
    onChange: (role) => {
      // The new term's first call goes out before anything else.
      terms.onRoleChange(role);
      setHealth(role.role === "none" ? "NOT_SERVING" : "SERVING");
    },
  });
  const terms = new LeaderTerms({
    latch,
    callWorker,
    workerAddress: config.workerAddress,
    workerTimeoutMs: config.workerTimeoutMs,
    electionPath: config.electionPath,
    logger,
    // A leader the worker refuses cannot get anything done: say so to health checks.
    onWorkerVerdict: (accepted) => setHealth(accepted ? "SERVING" : "NOT_SERVING"),
    explain: (error) => tlsHint(error, config.tls !== undefined),
  });
  // Leave the election the moment we are asked to stop: the successor takes over while we finish.
  // A leader's successor is taking over on the same cores: a leader leaves them to it for a moment
  // before the rest of its shutdown (its log lines, closing the session, the server and the
  // channel to the worker, whose GOAWAY the worker would handle just when the new leader's first
  // call arrives).
  context.onStop(async () => {
    const leading = latch.leadership() !== undefined;
    const left = latch.close();
    if (leading) await Promise.all([left, delay(HANDOVER_GRACE_MS)]);
  });
  const session = new ZkSession(config, {
    logger,
    onEvent: (event) => latch.handleSession(event),
  });
  latch.start();
  session.start();

  const status = realClock.setInterval(() => {
    const line = statusLine(latch.role);
    logger.info(line.message, line.fields);
  }, config.statusIntervalMs);

  await untilAborted(signal);
  // Leave the election first, so the successor takes over while we finish the rest.
  realClock.clearInterval(status);
  terms.end();
  await latch.close();
  await session.close();
  await stopServer(server, 500);
  link.close();
  worker.close();
  logger.info("Master stopped");
}
