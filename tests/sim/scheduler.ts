/**
 * Simulated time: one queue of events ordered by simulated time (ties broken by a seeded random
 * key, so the seed also picks the order of simultaneous events), and the processes that own them.
 *
 * Each simulated process gets a {@linkcode Clock} whose timers are events of this queue. A paused
 * process runs nothing: its events wait and fire, in their order, when it resumes (its clock has
 * jumped, its timers fire late). A crashed process's events are dropped. Between events the
 * scheduler lets pending promise continuations run with a fixed chain of awaits, never a real
 * timer, so a run is a pure function of its seed.
 */
import type { Clock, TimerId } from "../../lib/common/clock.ts";
import type { Prng } from "./prng.ts";

/** A participant whose events can be paused or dropped: a master, the worker, a server. */
export class SimProcess {
  /** Events of this process wait until then. */
  pausedUntil = 0;
  /** False once crashed or stopped: its remaining events are dropped. */
  alive = true;
  constructor(readonly name: string) {}
}

interface SimEvent {
  at: number;
  key: number;
  seq: number;
  owner?: SimProcess;
  run: () => void | Promise<void>;
  cancelled: boolean;
}

/** How many promise turns run between two events: deeper than any continuation chain we make. */
const DRAIN_TURNS = 48;

/** See the module comment. */
export class SimScheduler {
  #now = 0;
  #seq = 0;
  #heap: SimEvent[] = [];
  #timers = new Map<number, SimEvent>();
  #nextTimer = 1;
  /** Events run so far. */
  steps = 0;

  constructor(readonly random: Prng) {}

  /** Simulated milliseconds since the start. */
  get now(): number {
    return this.#now;
  }

  /**
   * Runs `run` at `at` (not before now) on behalf of `owner`. A `run` that returns a promise is
   * awaited before anything else happens (a worker reading its journal from disk).
   */
  at(at: number, run: () => void | Promise<void>, owner?: SimProcess): { cancel(): void } {
    const event: SimEvent = {
      at: Math.max(at, this.#now),
      key: this.random.next(),
      seq: this.#seq++,
      owner,
      run,
      cancelled: false,
    };
    this.#push(event);
    return { cancel: () => void (event.cancelled = true) };
  }

  /** Runs `run` after `ms`. */
  after(ms: number, run: () => void | Promise<void>, owner?: SimProcess): { cancel(): void } {
    return this.at(this.#now + ms, run, owner);
  }

  /** A clock for `owner`: its timers fire a little late at random, as real timers do. */
  clockFor(owner: SimProcess): Clock {
    const start = (callback: () => void, ms: number, repeat: boolean): TimerId => {
      const id = this.#nextTimer++;
      const arm = (from: number) => {
        const lateness = this.random.chance(0.1) ? this.random.between(0, 2) : 0;
        const event: SimEvent = {
          at: from + Math.max(0, ms) + lateness,
          key: this.random.next(),
          seq: this.#seq++,
          owner,
          run: () => {
            if (repeat) arm(this.#now);
            else this.#timers.delete(id);
            callback();
          },
          cancelled: false,
        };
        this.#timers.set(id, event);
        this.#push(event);
      };
      arm(this.#now);
      return id;
    };
    const clear = (id: TimerId | undefined) => {
      if (id === undefined) return;
      const event = this.#timers.get(id);
      if (event) event.cancelled = true;
      this.#timers.delete(id);
    };
    return {
      now: () => this.#now,
      setTimeout: (callback, ms) => start(callback, ms, false),
      clearTimeout: clear,
      setInterval: (callback, ms) => start(callback, ms, true),
      clearInterval: clear,
    };
  }

  /** Lets every pending promise continuation run (a fixed number of turns: deterministic). */
  async drain(): Promise<void> {
    for (let i = 0; i < DRAIN_TURNS; i++) await null;
  }

  /**
   * Runs events in order until simulated time `until` or until `stop()` says so, calling
   * `afterEach` after every event (with its continuations run), e.g. to check invariants.
   */
  async run(until: number, afterEach: () => void, stop: () => boolean = () => false) {
    await this.drain();
    while (this.#heap.length > 0 && !stop()) {
      const event = this.#pop()!;
      if (event.cancelled) continue;
      if (event.at > until) {
        this.#push(event);
        break;
      }
      if (event.owner && !event.owner.alive) continue;
      if (event.owner && event.owner.pausedUntil > event.at) {
        // Paused: fire when it resumes, keeping this event's place among its own.
        event.at = event.owner.pausedUntil;
        this.#push(event);
        continue;
      }
      this.#now = Math.max(this.#now, event.at);
      this.steps++;
      const running = event.run();
      if (running) await running;
      await this.drain();
      afterEach();
    }
  }

  #less(a: SimEvent, b: SimEvent): boolean {
    if (a.at !== b.at) return a.at < b.at;
    return a.key !== b.key ? a.key < b.key : a.seq < b.seq;
  }

  #push(event: SimEvent): void {
    const heap = this.#heap;
    heap.push(event);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!this.#less(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  #pop(): SimEvent | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      for (let i = 0;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < heap.length && this.#less(heap[l], heap[m])) m = l;
        if (r < heap.length && this.#less(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
}
