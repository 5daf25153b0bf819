/**
 * ZooKeeper's history of leader epochs, as the chaos suite's own observer records it: the test's
 * session watches the election and reads it after every change, and each reading keeps when it
 * was sent and answered (wall-clock ms, the clock the worker's journal and the masters' logs use),
 * so the state it shows held at some instant in between. It never trusts what a master or the
 * worker says about who led.
 *
 * A wiped ZooKeeper (a new ensemble) starts a new history, whose epochs (zxids) start again from
 * the bottom: readings carry the number of their history, and {@linkcode ElectionHistory.restart}
 * (called by the fault, between the old server's stop and the new one's start) opens the next.
 * The judging of these readings is pure and lives in epoch_windows.ts.
 */
import { readElection } from "../../lib/election/read_election.ts";
import type { ZkClient } from "../../lib/zookeeper/client.ts";
import type { SessionEvent } from "../../lib/zookeeper/session.ts";
import type { HistoryStart, Reading } from "./epoch_windows.ts";

/** See the module comment. */
export class ElectionHistory {
  readonly readings: Reading[] = [];
  /** When each history began (the first at 0: before the cluster started). */
  readonly starts: HistoryStart[] = [{ history: 0, at: 0 }];
  #client?: ZkClient;
  #reading = false;
  #again = false;
  #closed = false;
  #retry?: ReturnType<typeof setTimeout>;

  constructor(private readonly electionPath: string) {}

  /** The history readings are recorded in now. */
  get current(): number {
    return this.starts.at(-1)!.history;
  }

  /** Follows the test's session: reads (and watches) whenever connected. */
  handleSession(event: SessionEvent): void {
    this.#client = event.type === "connected" ? event.client : undefined;
    if (event.type === "connected") this.#schedule();
  }

  /** ZooKeeper lost its data: readings from now on belong to a new history. */
  restart(): void {
    this.starts.push({ history: this.current + 1, at: Date.now() });
  }

  /** Stops reading. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
  }

  readonly #onChange = () => this.#schedule();

  #schedule(): void {
    if (this.#closed) return;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    void this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    this.#reading = true;
    try {
      do {
        this.#again = false;
        await this.#readOnce();
      } while (this.#again && !this.#closed);
    } finally {
      this.#reading = false;
    }
  }

  async #readOnce(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const history = this.current;
    const sentAt = Date.now();
    try {
      // After a sync the server has caught up with the ensemble as of some instant after sentAt,
      // so a lagging server cannot show a state older than the reading claims.
      await client.sync();
      const order = await readElection(client, this.electionPath, { childWatcher: this.#onChange });
      // A missing path sets no child watch: watch for its creation instead.
      if (order.length === 0) await client.exists(this.electionPath, this.#onChange);
      // A reading that straddles a restart of the history belongs to neither.
      if (history !== this.current) return;
      this.readings.push({
        history,
        sentAt,
        answeredAt: Date.now(),
        members: order.map((candidate) => ({ name: candidate.name, epoch: candidate.epoch })),
      });
    } catch {
      // Disconnected or busy: the next connection (or this retry) reads again.
      clearTimeout(this.#retry);
      this.#retry = setTimeout(this.#onChange, 100);
    }
  }
}
