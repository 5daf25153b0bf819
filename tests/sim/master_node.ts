/**
 * A simulated master: the real LeaderLatch and ZkSession, with the master's duties as
 * lib/nodes/master.ts does them (announce the leadership to the worker, retrying with backoff while
 * the term lasts; forward submitted tasks with our epoch while the lease holds), over the
 * simulated gRPC hop.
 */
import { status } from "@grpc/grpc-js";
import { retry } from "../../lib/common/backoff.ts";
import type { Candidate } from "../../lib/election/decisions.ts";
import { type LatchRole, LeaderLatch } from "../../lib/election/leader_latch.ts";
import { ZkSession } from "../../lib/zookeeper/session.ts";
import { SimProcess } from "./scheduler.ts";
import type { RpcResult } from "./rpc_hop.ts";
import { kitFor, type ProcessKit, type World } from "./world.ts";
import type { ModelZkClient } from "./zk_client.ts";

/** The announcement's task id, as in the original lab. */
const LEADER_ELECTION_TASK = "leader_election";
const WORKER_VERDICTS = new Set<number>([
  status.INVALID_ARGUMENT,
  status.FAILED_PRECONDITION,
  status.RESOURCE_EXHAUSTED,
]);

/** A PerformTask / SubmitTask request. */
export interface TaskCall {
  readonly task_id: string;
  readonly message: string;
  readonly epoch?: string;
}

/** See the module comment. */
export class SimMaster {
  readonly process: SimProcess;
  readonly kit: ProcessKit;
  readonly latch: LeaderLatch;
  readonly session: ZkSession;
  readonly address: string;
  #term?: AbortController;
  /** The ZooKeeper history of the session the latch uses. */
  history = 0;

  constructor(readonly world: World, readonly name: string, incarnation: number) {
    this.process = new SimProcess(name);
    this.kit = kitFor(world, this.process);
    this.address = `${name}:5005${incarnation % 10}`;
    const logger = world.trace.logger(name);
    const { clock, random, newGuid, config, connect } = this.kit;
    this.latch = new LeaderLatch({
      electionPath: config.electionPath,
      member: { name, address: this.address },
      sessionTimeoutMs: config.sessionTimeoutMs,
      logger,
      clock,
      random,
      newGuid,
      onChange: (role) => this.#onRoleChange(role),
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
  }

  /** Starts the election and serves SubmitTask. */
  start(): void {
    this.world.rpc.listen(this.address, {
      process: this.process,
      handle: (request) => this.#submit(request as TaskCall),
    });
    this.latch.start();
    this.session.start();
  }

  /** A clean stop (SIGTERM): leave the election first, then close the session. */
  async stop(): Promise<void> {
    this.world.rpc.listen(this.address, undefined);
    this.#term?.abort();
    await this.latch.close();
    await this.session.close();
    this.process.alive = false;
  }

  /** A crash (SIGKILL): nothing more runs; the kernel closes its connections. */
  crash(): void {
    this.process.alive = false;
    this.world.rpc.listen(this.address, undefined);
    for (const client of this.kit.clients) client.crash();
  }

  #onRoleChange(role: LatchRole): void {
    this.#term?.abort();
    this.#term = undefined;
    if (role.role === "leader") {
      this.world.checker.onClaim(this.name, role.self, this.latch.peekLeadership());
      this.#term = new AbortController();
      void this.#announce(role.self, this.#term.signal);
    }
  }

  #callWorker(request: TaskCall, signal?: AbortSignal) {
    const { rpc, settings } = this.world;
    return rpc.call<TaskCall, { message: string }>(
      this.process,
      this.kit.clock,
      settings.workerAddress,
      request,
      {
        timeoutMs: settings.workerTimeoutMs,
        signal,
        history: this.history,
      },
    );
  }

  async #announce(self: Candidate, termSignal: AbortSignal): Promise<void> {
    const trace = this.world.trace;
    try {
      await retry(() => {
        if (this.latch.leadership()?.epoch !== self.epoch) throw new Error("no longer the leader");
        return this.#callWorker(
          { task_id: LEADER_ELECTION_TASK, message: self.address, epoch: String(self.epoch) },
          termSignal,
        );
      }, {
        signal: termSignal,
        minDelayMs: 100,
        maxDelayMs: 5000,
        clock: this.kit.clock,
        random: this.kit.random,
        shouldRetry: (error) =>
          (error as { code?: number }).code !== status.FAILED_PRECONDITION && !termSignal.aborted,
      });
      trace.add(this.name, "The worker accepted our leadership", { epoch: self.epoch });
    } catch (error) {
      if (termSignal.aborted) return;
      trace.add(this.name, "The worker refused our epoch", {
        epoch: self.epoch,
        error: String(error),
      });
      this.latch.recheck("the worker refused our epoch");
    }
  }

  async #submit(request: TaskCall): Promise<RpcResult<{ message: string }>> {
    const leader = this.latch.leadership();
    if (!leader) {
      return { code: status.FAILED_PRECONDITION, details: `${this.name} is not the leader` };
    }
    try {
      const reply = await this.#callWorker({ ...request, epoch: String(leader.epoch) });
      return { ok: reply };
    } catch (error) {
      const { code, details } = error as { code: number; details: string };
      if (code === status.FAILED_PRECONDITION) this.latch.recheck("the worker refused our epoch");
      return WORKER_VERDICTS.has(code)
        ? { code, details }
        : { code: status.UNAVAILABLE, details: `The worker did not answer: ${details}` };
    }
  }
}
