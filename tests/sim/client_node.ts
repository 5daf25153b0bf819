/**
 * A simulated client of the masters' SubmitTask: it keeps submitting tasks to the leader it last
 * knew (as real clients with a cached leader do), moves to another master when refused, and
 * retries a task that got no answer with the same task id, so the worker's at-most-once memory is
 * exercised too.
 */
import { status } from "@grpc/grpc-js";
import { SimProcess } from "./scheduler.ts";
import type { World } from "./world.ts";
import type { Prng } from "./prng.ts";
import type { TaskRequest } from "../../lib/grpc/grpc.ts";

/** See the module comment. */
export class SimClient {
  readonly process = new SimProcess("client");
  #next = 1;
  #unanswered: string[] = [];
  #target?: string;
  readonly #random: Prng;

  constructor(readonly world: World, readonly masters: () => string[]) {
    this.#random = world.random.fork();
  }

  /** Submits one task every 100-300 ms, forever. */
  start(): void {
    const { scheduler } = this.world;
    const clock = scheduler.clockFor(this.process);
    const tick = () => {
      clock.setTimeout(tick, this.#random.between(100, 300));
      this.#submit(clock);
    };
    clock.setTimeout(tick, 100);
  }

  #submit(clock: ReturnType<World["scheduler"]["clockFor"]>): void {
    const addresses = this.masters();
    if (addresses.length === 0) return;
    const retry = this.#unanswered.length > 0 && this.#random.chance(0.5);
    const taskId = retry ? this.#unanswered.shift()! : `task-${this.#next++}`;
    const target = this.#target && addresses.includes(this.#target)
      ? this.#target
      : this.#random.pick(addresses);
    this.world.rpc.call<Partial<TaskRequest>, { message: string }>(this.process, clock, target, {
      task_id: taskId,
      message: taskId,
    }, { timeoutMs: 1000, history: 0 }).then(
      () => void (this.#target = target),
      (error: { code: number }) => {
        this.#target = this.#random.pick(addresses);
        // Refused by a follower: not performed. Anything else: it may have been; retry the id.
        if (error.code !== status.FAILED_PRECONDITION && error.code !== status.INVALID_ARGUMENT) {
          this.#unanswered.push(taskId);
        } else if (retry) this.#unanswered.push(taskId);
      },
    );
  }
}
