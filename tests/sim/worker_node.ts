/**
 * A simulated worker: the real EpochFence, TaskLedger and ZkSession, and the real PerformTask
 * handling (lib/nodes/worker/perform_task.ts: fence, perform at most once, answer), over the
 * simulated gRPC hop. Every task it performs is reported to the checker as the ledger records it.
 */
import { EpochFence } from "../../lib/fencing/epoch_fence.ts";
import type { TaskRequest, TaskResponse } from "../../lib/grpc/grpc.ts";
import { fenceMemory, performTask } from "../../lib/nodes/worker/perform_task.ts";
import { TaskLedger } from "../../lib/tasks/ledger.ts";
import { isRejection, validateTaskRequest } from "../../lib/tasks/request.ts";
import { ZkSession } from "../../lib/zookeeper/session.ts";
import type { CallMeta, RpcResult } from "./rpc_hop.ts";
import { SimProcess } from "./scheduler.ts";
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
    this.fence = new EpochFence({
      electionPath: kit.config.electionPath,
      logger,
      ...fenceMemory(this.#ledger),
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
      handle: (request, meta) => this.#perform(request as Partial<TaskRequest>, meta),
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

  async #perform(request: Partial<TaskRequest>, meta: CallMeta): Promise<RpcResult<TaskResponse>> {
    const task = validateTaskRequest(request);
    if (isRejection(task)) return task;
    const { world } = this;
    const ledger = this.#ledger;
    const answer = await performTask(task, {
      fence: this.fence,
      logger: world.trace.logger("worker"),
      ledger: {
        lookup: (taskId, epoch) => ledger.lookup(taskId, epoch),
        recordTask: (taskId, epoch, result) => {
          ledger.recordTask(taskId, epoch, result);
          world.checker.onPerformed({
            task: taskId,
            epoch,
            meta,
            at: world.scheduler.now,
            memory: this.memory,
          });
        },
      },
    });
    return "reply" in answer ? { ok: answer.reply } : answer;
  }
}
