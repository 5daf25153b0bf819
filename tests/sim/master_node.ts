/**
 * A simulated master: the real LeaderLatch and ZkSession, and the master's real duties from
 * lib/nodes/master (LeaderTerms announces each leadership to the worker, forwardTask forwards
 * submitted tasks with our epoch while the lease holds), wired as run_master.ts wires them but
 * over the simulated gRPC hop, clock and randomness.
 */
import type { Candidate } from "../../lib/election/decisions.ts";
import { leaderOf } from "../../lib/election/decisions.ts";
import { LeaderLatch } from "../../lib/election/leader_latch.ts";
import { readElection } from "../../lib/election/read_election.ts";
import type { TaskRequest, TaskResponse } from "../../lib/grpc/grpc.ts";
import { forwardTask } from "../../lib/nodes/master/forward_task.ts";
import { type CallWorker, LeaderTerms } from "../../lib/nodes/master/term.ts";
import { isRejection, validateTaskRequest } from "../../lib/tasks/request.ts";
import { ZkSession } from "../../lib/zookeeper/session.ts";
import type { RpcResult } from "./rpc_hop.ts";
import { SimProcess } from "./scheduler.ts";
import { kitFor, type ProcessKit, type World } from "./world.ts";
import type { ModelZkClient } from "./zk_client.ts";

/** See the module comment. */
export class SimMaster {
  readonly process: SimProcess;
  readonly kit: ProcessKit;
  readonly latch: LeaderLatch;
  readonly session: ZkSession;
  readonly terms: LeaderTerms;
  readonly address: string;
  /** The ZooKeeper history of the session the latch uses. */
  history = 0;

  constructor(readonly world: World, readonly name: string, incarnation: number) {
    this.process = new SimProcess(name);
    this.kit = kitFor(world, this.process);
    this.address = `${name}:5005${incarnation % 10}`;
    const logger = world.trace.logger(name);
    const { clock, random, newGuid, config, connect } = this.kit;
    const callWorker: CallWorker = (request, options) =>
      world.rpc.call<Partial<TaskRequest>, TaskResponse>(
        this.process,
        clock,
        world.settings.workerAddress,
        request,
        { ...options, history: this.history },
      );
    this.terms = new LeaderTerms({
      latch: {
        leadership: () => this.latch.leadership(),
        recheck: () => this.latch.recheck(),
      },
      callWorker,
      workerAddress: world.settings.workerAddress,
      workerTimeoutMs: world.settings.workerTimeoutMs,
      electionPath: config.electionPath,
      logger,
      clock,
      random,
    });
    this.latch = new LeaderLatch({
      electionPath: config.electionPath,
      member: { name, address: this.address },
      logger,
      clock,
      random,
      newGuid,
      onChange: (role) => {
        if (role.role === "leader") {
          world.checker.onClaim(name, role.self, this.latch.peekLeadership());
        }
        this.terms.onRoleChange(role);
      },
    });
    this.session = new ZkSession(config, {
      logger,
      clock,
      random,
      connect,
      onEvent: (event) => {
        if (event.type === "connected") this.history = (event.client as ModelZkClient).history;
        this.latch.handleSession(event);
      },
    });
    this.#callWorker = callWorker;
  }

  readonly #callWorker: CallWorker;

  /** Starts the election and serves SubmitTask. */
  start(): void {
    this.world.rpc.listen(this.address, {
      process: this.process,
      handle: (request) => this.#submit(request as Partial<TaskRequest>),
    });
    this.latch.start();
    this.session.start();
  }

  /** A clean stop (SIGTERM), in run_master.ts's order: leave the election, then the session. */
  async stop(): Promise<void> {
    this.world.rpc.listen(this.address, undefined);
    const leaving = this.latch.close();
    this.terms.end();
    await leaving;
    await this.session.close();
    this.process.alive = false;
  }

  /** A crash (SIGKILL): nothing more runs; the kernel closes its connections. */
  crash(): void {
    this.process.alive = false;
    this.world.rpc.listen(this.address, undefined);
    for (const client of this.kit.clients) client.crash();
  }

  async #submit(request: Partial<TaskRequest>): Promise<RpcResult<TaskResponse>> {
    const task = validateTaskRequest(request);
    if (isRejection(task)) return task;
    const answer = await forwardTask(task, {
      name: this.name,
      address: this.address,
      latch: this.latch,
      term: () => this.terms.current,
      callWorker: this.#callWorker,
      workerTimeoutMs: this.world.settings.workerTimeoutMs,
      findLeader: async (): Promise<Candidate | undefined> => {
        const client = this.session.client;
        const path = this.world.settings.electionPath;
        return client ? leaderOf(await readElection(client, path)) : undefined;
      },
    });
    return "reply" in answer ? { ok: answer.reply } : answer;
  }
}
