/**
 * A simulated worker: the real EpochFence, TaskLedger and ZkSession, handling PerformTask as
 * lib/nodes/worker.ts does (validate, fence, perform at most once, answer), over the simulated
 * gRPC hop. Every task it performs is reported to the checker.
 */
import { status } from "@grpc/grpc-js";
import { EpochFence, FenceUnavailableError } from "../../lib/fencing/epoch_fence.ts";
import { TaskLedger } from "../../lib/tasks/ledger.ts";
import { isRejection, validateTaskRequest } from "../../lib/tasks/request.ts";
import { ZkSession } from "../../lib/zookeeper/session.ts";
import type { CallMeta, RpcResult } from "./rpc_hop.ts";
import { SimProcess } from "./scheduler.ts";
import type { TaskCall } from "./master_node.ts";
import { kitFor, type ProcessKit, type World } from "./world.ts";

/** See the module comment. */
export class SimWorker {
  readonly process = new SimProcess("worker");
  readonly kit: ProcessKit;
  fence!: EpochFence;
  session!: ZkSession;
  #ledger!: TaskLedger;

  constructor(readonly world: World, readonly memory: number, readonly journalPath?: string) {
    this.kit = kitFor(world, this.process);
  }

  /** Opens the ledger (reloading the journal, if any), then serves and watches the election. */
  async start(): Promise<void> {
    const { world, kit } = this;
    const logger = world.trace.logger("worker");
    this.#ledger = await TaskLedger.open({ window: 100_000, journalPath: this.journalPath });
    this.fence = new EpochFence(kit.config.electionPath, logger, {
      highestAccepted: this.#ledger.highestEpoch,
      onAccept: (epoch) => this.#ledger.recordEpoch(epoch),
      clock: kit.clock,
    });
    this.session = new ZkSession(kit.config, {
      logger,
      clock: kit.clock,
      random: kit.random,
      connect: kit.connect,
      onEvent: (event) => this.fence.handleSession(event),
    });
    world.rpc.listen(world.settings.workerAddress, {
      process: this.process,
      handle: (request, meta) => this.#perform(request as TaskCall, meta),
    });
    this.session.start();
  }

  /** A crash: nothing more runs, the journal keeps what was written. */
  crash(): void {
    this.process.alive = false;
    this.world.rpc.listen(this.world.settings.workerAddress, undefined);
    for (const client of this.kit.clients) client.crash();
    this.#ledger?.close();
  }

  async #perform(request: TaskCall, meta: CallMeta): Promise<RpcResult<{ message: string }>> {
    const task = validateTaskRequest(request);
    if (isRejection(task)) return { code: task.code, details: task.details };
    let verdict;
    try {
      verdict = await this.fence.admit(task.epoch);
    } catch (error) {
      const code = error instanceof FenceUnavailableError ? status.UNAVAILABLE : status.INTERNAL;
      return { code, details: String(error) };
    }
    if (!this.process.alive) return { code: status.UNAVAILABLE, details: "worker gone" };
    if (verdict.kind !== "accept") {
      this.world.trace.add("worker", "Refused a task from a stale leader", {
        task: task.taskId,
        from: meta.caller,
        reason: verdict.reason,
      });
      return { code: status.FAILED_PRECONDITION, details: verdict.reason };
    }
    const earlier = this.#ledger.lookup(task.taskId, task.epoch);
    if (earlier !== undefined) return { ok: { message: earlier } };
    const result = `${task.message} gatech`;
    this.#ledger.recordTask(task.taskId, task.epoch, result);
    this.world.trace.add("worker", `Performing task: ${task.taskId}`, {
      epoch: task.epoch,
      from: meta.caller,
    });
    this.world.checker.onPerformed({
      task: task.taskId,
      epoch: task.epoch,
      meta,
      at: this.world.scheduler.now,
      memory: this.memory,
    });
    return { ok: { message: result } };
  }
}
