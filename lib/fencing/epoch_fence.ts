/**
 * The worker's fence at work: keeps what the worker knows (the highest epoch accepted, the current
 * leader's epoch from a watch on the election) and asks ZooKeeper about epochs it does not know.
 * The decisions themselves are the pure functions of fencing.ts.
 *
 * The leader's epoch comes from ZooKeeper, not from memory, so the fence survives a worker restart:
 * a stale leader's calls are refused by a freshly started worker too.
 *
 * The watch's reads send the reads of the nodes already seen along with the listing
 * (read_election.ts), so a change of leader costs the worker one round trip: it knows the new
 * leader's epoch one round trip after the old leader's node went, usually before the new leader's
 * first call arrives. A verification (an epoch the watch has not shown) reads after a sync.
 */
import { ElectionNames, readElection } from "../election/read_election.ts";
import { leaderOf } from "../election/decisions.ts";
import {
  afterAccept,
  type FenceState,
  type FinalVerdict,
  judgeEpoch,
  judgeVerified,
} from "./rules.ts";
import type { Logger } from "../common/log.ts";
import { type Clock, realClock } from "../common/clock.ts";
import type { SessionEvent } from "../zookeeper/session.ts";
import type { ZkClient } from "../zookeeper/client.ts";

/** ZooKeeper cannot be asked right now; the caller should retry. */
export class FenceUnavailableError extends Error {
  override name = "FenceUnavailableError";
}

/** Options for {@linkcode EpochFence}. */
export interface EpochFenceOptions {
  /** The election whose leader the fence follows. */
  readonly electionPath: string;
  readonly logger: Logger;
  /** The highest epoch accepted before (from the worker's journal). */
  readonly highestAccepted?: bigint;
  /** Told about each newly accepted epoch, before the task it came with is performed. */
  readonly onAccept?: (epoch: bigint) => void;
  /** The clock of verifications and read retries. Default the real one. */
  readonly clock?: Clock;
}

/** See the module comment. */
export class EpochFence {
  #state: FenceState;
  #client?: ZkClient;
  /** The names the watch's last read listed: a change costs one round trip (read_election.ts). */
  readonly #known = new ElectionNames();
  #verification?: { startedAt: number; result: Promise<bigint> };
  #watchRead?: Promise<void>;
  readonly #clock: Clock;

  constructor(private readonly options: EpochFenceOptions) {
    this.#clock = options.clock ?? realClock;
    this.#state = { highestAccepted: options.highestAccepted ?? 0n, leaderEpoch: 0n };
  }

  /** What the fence knows now. */
  get state(): FenceState {
    return this.#state;
  }

  /** Follows the session: watches the election whenever connected. */
  handleSession(event: SessionEvent): void {
    this.#client = event.type === "connected" ? event.client : undefined;
    if (event.type === "connected") void this.#watchElection(event.client);
  }

  /** Judges a request's epoch, asking ZooKeeper when it is unknown; accepting raises the floor. */
  async admit(epoch: bigint): Promise<FinalVerdict> {
    const arrivedAt = this.#clock.now();
    const first = judgeEpoch(epoch, this.#state);
    const verdict = first.kind === "verify" ? await this.#verify(epoch, arrivedAt) : first;
    if (verdict.kind === "accept" && epoch > this.#state.highestAccepted) {
      this.options.logger.info("Accepted a new leader epoch", {
        epoch,
        previous: this.#state.highestAccepted,
      });
      this.options.onAccept?.(epoch);
      this.#state = afterAccept(epoch, this.#state);
    }
    return verdict;
  }

  async #verify(epoch: bigint, arrivedAt: number): Promise<FinalVerdict> {
    // A new leader's first call often arrives while the read set off by the same change of
    // leader (our watch fired) is still under way: its answer may make the sync unnecessary.
    if (this.#watchRead) {
      await this.#watchRead;
      const known = judgeEpoch(epoch, this.#state);
      if (known.kind !== "verify") return known;
    }
    const leaderEpoch = await this.#confirmLeaderEpoch(arrivedAt);
    // Judge again with what was learned; the leader may have changed while we asked.
    const again = judgeEpoch(epoch, this.#state);
    return again.kind === "verify" ? judgeVerified(epoch, leaderEpoch) : again;
  }

  readonly #onElectionChange = () => {
    if (this.#client) void this.#watchElection(this.#client);
  };

  /** Reads the election and watches it; `#watchRead` is set while the read is under way. */
  #watchElection(client: ZkClient): Promise<void> {
    const read = this.#readAndWatch(client).finally(() => {
      if (this.#watchRead === read) this.#watchRead = undefined;
    });
    return this.#watchRead = read;
  }

  async #readAndWatch(client: ZkClient): Promise<void> {
    try {
      const order = await readElection(client, this.options.electionPath, {
        known: this.#known,
        childWatcher: this.#onElectionChange,
      });
      // A missing path sets no child watch: watch for its creation instead.
      if (
        order.length === 0 &&
        !(await client.exists(this.options.electionPath, this.#onElectionChange))
      ) {
        this.#learnLeaderEpoch(0n);
        return;
      }
      this.#learnLeaderEpoch(leaderOf(order)?.epoch ?? 0n);
    } catch (error) {
      this.options.logger.warn("Cannot read the election", { error: String(error) });
      this.#clock.setTimeout(this.#onElectionChange, 200);
    }
  }

  #learnLeaderEpoch(leaderEpoch: bigint): void {
    if (leaderEpoch === this.#state.leaderEpoch) return;
    this.#state = { ...this.#state, leaderEpoch };
  }

  /**
   * The current leader's epoch after a sync. A verification already under way is shared only if it
   * started after this request arrived; an older one might have read the election before the
   * sender became leader.
   */
  #confirmLeaderEpoch(arrivedAt: number): Promise<bigint> {
    const current = this.#verification;
    if (current && current.startedAt >= arrivedAt) return current.result;
    const client = this.#client;
    if (!client) {
      return Promise.reject(
        new FenceUnavailableError("not connected to ZooKeeper: cannot check the epoch"),
      );
    }
    const result = (async () => {
      try {
        // The read is sent right behind the sync, without waiting for it: ZooKeeper serves a
        // session's requests in order, so the read still sees everything the sync waits for,
        // and both take one round trip instead of three.
        const synced = client.sync();
        const read = readElection(client, this.options.electionPath, { known: this.#known });
        const [, order] = await Promise.all([synced, read]);
        const leaderEpoch = leaderOf(order)?.epoch ?? 0n;
        this.#learnLeaderEpoch(leaderEpoch);
        return leaderEpoch;
      } catch (error) {
        throw new FenceUnavailableError(`cannot check the epoch with ZooKeeper: ${error}`);
      }
    })();
    const verification = { startedAt: this.#clock.now(), result };
    this.#verification = verification;
    const forget = () => {
      if (this.#verification === verification) this.#verification = undefined;
    };
    result.then(forget, forget);
    return result;
  }
}
