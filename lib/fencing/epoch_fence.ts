/**
 * The worker's fence at work: keeps what the worker knows (the highest epoch accepted, the current
 * leader's epoch from a watch on the election) and asks ZooKeeper about epochs it does not know.
 * The decisions themselves are the pure functions of fencing.ts.
 *
 * The leader's epoch comes from ZooKeeper, not from memory, so the fence survives a worker restart:
 * a stale leader's calls are refused by a freshly started worker too.
 *
 * ZooKeeper's history can restart under us (a new ensemble, a wiped data directory, a restored
 * backup): its zxids start again below the epochs we know, and without care the new ensemble's
 * leaders would be refused as stale forever. So on every new session, before judging any epoch,
 * the fence syncs, reads the history marker (a persistent node beside the election that a fence
 * creates with a random id when it is missing) and compares (`historyRestarted` in rules.ts): the
 * newest zxid below the highest epoch it knows (a restored backup), or a marker other than the one
 * it knew (a new ensemble, even one whose zxids have already passed the old epochs), means the
 * history restarted. The fence then forgets the old history's epochs (told to `onHistory`, which
 * the worker's journal records) and accepts only what the new ensemble, read after a sync, names
 * as its leader. A stale leader of the old history is still refused: its epoch is not the new
 * ensemble's leader's.
 *
 * The watch's reads send the reads of the nodes already seen along with the listing
 * (read_election.ts), so a change costs the worker one round trip. A change of leader usually
 * costs none: the watch's read also sets a data watch on every master node, so while no watch has
 * fired since that read, the fence knows the election exactly, and the deletion of a node tells it
 * the election without that node, hence the new leader's epoch, before the new leader (woken by
 * the same deletion) can call. A verification (an epoch the watch has not shown) reads after a sync.
 */
import { ElectionNames, readElection } from "../election/read_election.ts";
import { type Candidate, leaderOf } from "../election/decisions.ts";
import {
  afterAccept,
  afterLearn,
  type FenceState,
  type FinalVerdict,
  floorOf,
  historyRestarted,
  judgeEpoch,
  judgeVerified,
  NEW_HISTORY,
} from "./rules.ts";
import type { Logger } from "../common/log.ts";
import { type Clock, realClock } from "../common/clock.ts";
import type { SessionEvent } from "../zookeeper/session.ts";
import type { WatchEvent, ZkClient } from "../zookeeper/client.ts";

/**
 * How long after learning the new leader from a deletion the watch reads the election again (it
 * must, to watch the children again). Measured in the bench's interleaved rounds: 20 ms instead of
 * at once saved about a tenth of the hand-over when two cores are busy.
 */
export const REREAD_AFTER_DELETION_MS = 20;

/** ZooKeeper cannot be asked right now; the caller should retry. */
export class FenceUnavailableError extends Error {
  override name = "FenceUnavailableError";
}

/** What the fence learned about ZooKeeper's history on a new session. */
export interface HistoryNews {
  /** The id in the history marker. */
  readonly marker: string;
  /** The newest zxid seen right after a sync. */
  readonly lastZxid: bigint;
  /** True when the history restarted: the epochs known before no longer count. */
  readonly restarted: boolean;
}

/** Where the history marker of an election lives: beside it, so deleting the election spares it. */
export function historyMarkerPath(electionPath: string): string {
  return `${electionPath}-history`;
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
  /** The history marker the fence last saw (from the worker's journal), if any. */
  readonly historyMarker?: string;
  /**
   * Told when the fence learns the history it is in: a restart (before any epoch of the new
   * history is accepted) or a marker it did not know. The worker's journal records it.
   */
  readonly onHistory?: (history: HistoryNews) => void;
  /** Told whenever the fence becomes able (true) or unable (false) to verify new epochs. */
  readonly onReadyChange?: (ready: boolean) => void;
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
  /**
   * The election as the watch's last read found it, while that is still exactly how it is: no
   * watch has fired since the read began, on the same client. Undefined otherwise.
   */
  #exactView?: { readonly client: ZkClient; readonly order: readonly Candidate[] };
  /** Counts watch events, so a read can tell whether one came while it ran. */
  #watchEvents = 0;
  /** Set when a deletion told the new leader; the child watch's event that follows clears it. */
  #learnedFromDeletion = false;
  /** The deletions that arrived together with the first one since an exact read (see below). */
  #deletions?: { readonly paths: Set<string>; spoiled: boolean };
  /** The history check of the current session; judging waits for it. */
  #historyCheck?: Promise<void>;
  #ready = false;
  /** The session whose history check finished. */
  #historyCheckedFor?: bigint;
  /** The id in the history marker, as last seen (or as the journal remembers it). */
  #marker?: string;
  readonly #clock: Clock;

  constructor(private readonly options: EpochFenceOptions) {
    this.#clock = options.clock ?? realClock;
    this.#state = { highestAccepted: options.highestAccepted ?? 0n, leaderEpoch: 0n };
    this.#marker = options.historyMarker;
  }

  /** What the fence knows now. */
  get state(): FenceState {
    return this.#state;
  }

  /** Whether the fence can verify new epochs now (connected, history checked). */
  get ready(): boolean {
    return this.#ready;
  }

  /** Follows the session: checks the history on each new session, then watches the election. */
  handleSession(event: SessionEvent): void {
    // Watches set again after a reconnection report what they missed in no particular order.
    this.#exactView = undefined;
    this.#learnedFromDeletion = false;
    if (this.#deletions) this.#deletions.spoiled = true;
    if (event.type !== "connected") {
      this.#client = undefined;
      this.#historyCheck = undefined;
      return this.#setReady(false);
    }
    const { client } = event;
    this.#client = client;
    // A reconnection keeps the session, but only a session whose history check finished may skip
    // it: a check cut short by a disconnection must run again, or a restarted history goes unseen.
    if (!event.newSession && this.#historyCheckedFor === client.sessionId) {
      this.#setReady(true);
      return void this.#watchElection(client);
    }
    this.#setReady(false);
    this.#startHistoryCheck(client);
  }

  #startHistoryCheck(client: ZkClient): void {
    const check = this.#checkHistory(client);
    check.catch(() => {
      // Retried by #checkHistory itself; a request that waits on it hears of the failure.
    });
    this.#historyCheck = check;
  }

  /** On a new session: syncs, compares, forgets the old history if it restarted, then watches. */
  async #checkHistory(client: ZkClient): Promise<void> {
    let marker: string;
    try {
      await client.sync();
      marker = await this.#historyMarker(client);
    } catch (error) {
      if (client === this.#client) {
        this.options.logger.warn("Cannot check ZooKeeper's history; trying again", {
          error: String(error),
        });
        this.#clock.setTimeout(() => {
          if (client === this.#client) this.#startHistoryCheck(client);
        }, 200);
      }
      throw new FenceUnavailableError(`cannot check the epoch with ZooKeeper: ${error}`);
    }
    if (client !== this.#client) return;
    this.#historyCheckedFor = client.sessionId;
    const lastZxid = client.lastZxid;
    const known = this.#marker;
    this.#marker = marker;
    if (historyRestarted(lastZxid, this.#state, { known, found: marker })) {
      this.options.logger.warn(
        "ZooKeeper's history restarted (new or restored ensemble): forgetting the old leader epochs; the new ensemble's leader will be accepted once ZooKeeper confirms it",
        { lastZxid, highestKnownEpoch: floorOf(this.#state), marker, previousMarker: known },
      );
      this.options.onHistory?.({ marker, lastZxid, restarted: true });
      this.#state = NEW_HISTORY;
      this.#verification = undefined;
    } else if (marker !== known) {
      this.options.onHistory?.({ marker, lastZxid, restarted: false });
    }
    this.#setReady(true);
    await this.#watchElection(client);
  }

  /**
   * The id in the history marker, a persistent node beside the election path that the first
   * fence to find it missing creates with a random id. A new ensemble has none (or another one).
   */
  async #historyMarker(client: ZkClient): Promise<string> {
    const path = historyMarkerPath(this.options.electionPath);
    const read = async () => {
      const found = await client.getData(path);
      return found && new TextDecoder().decode(found.data);
    };
    const existing = await read();
    if (existing) return existing;
    const id = crypto.randomUUID();
    try {
      await client.create(path, new TextEncoder().encode(id), "persistent");
      return id;
    } catch (error) {
      // Another worker made it first: theirs is the history's.
      const made = await read();
      if (made) return made;
      throw error;
    }
  }

  #setReady(ready: boolean): void {
    if (ready === this.#ready) return;
    this.#ready = ready;
    this.options.onReadyChange?.(ready);
  }

  /** Judges a request's epoch, asking ZooKeeper when it is unknown; accepting raises the floor. */
  async admit(epoch: bigint): Promise<FinalVerdict> {
    const arrivedAt = this.#clock.now();
    // Nothing is judged against the epochs of a history that may have restarted.
    if (epoch !== 0n && this.#historyCheck) {
      const check = this.#historyCheck;
      await check.catch((error) => {
        throw error instanceof FenceUnavailableError
          ? error
          : new FenceUnavailableError(`cannot check the epoch with ZooKeeper: ${error}`);
      });
    }
    const first = judgeEpoch(epoch, this.#state);
    const judged = first.kind === "verify" ? await this.#verify(epoch, arrivedAt) : first;
    // Name our election path: a master following another one can then say so.
    const verdict: FinalVerdict = judged.kind === "reject"
      ? { kind: "reject", reason: `${judged.reason} (election path ${this.options.electionPath})` }
      : judged;
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
    this.#watchEvents++;
    this.#exactView = undefined;
    const client = this.#client;
    if (!client) return;
    if (!this.#learnedFromDeletion) return void this.#watchElection(client);
    // The deletion just told us the new leader, whose first call is on its way: read a moment
    // later, so that the call does not wait for the cores behind our read.
    this.#learnedFromDeletion = false;
    this.#clock.setTimeout(() => {
      if (client === this.#client) void this.#watchElection(client);
    }, REREAD_AFTER_DELETION_MS);
  };

  /**
   * A master node's data watch fired. The first event since an exact read is the first change
   * since it, and ZooKeeper reports a node's deletion before the change of its parent's children:
   * a deletion then leaves the election exactly as read, without that node. So do several, when
   * one transaction (an operator's multi) deletes several nodes: their events come one right after
   * the other, and the client library handles what one read of the socket brings before any
   * continuation runs, so the deletions are gathered until then (if ZooKeeper sent them in separate
   * packets, the fence may follow a node of that multi until its next read, as it follows any
   * leader whose node someone else removed until it hears). The new first node is the leader;
   * the child watch, firing right after, makes us read the election again. A data change among
   * them, or before, waits for that read.
   */
  readonly #onNodeChange = (event: WatchEvent) => {
    this.#watchEvents++;
    const view = this.#exactView;
    this.#exactView = undefined;
    const gathering = this.#deletions;
    if (gathering && event.type === "NODE_DELETED") return void gathering.paths.add(event.path);
    if (gathering) gathering.spoiled = true;
    if (!view || view.client !== this.#client || event.type !== "NODE_DELETED") {
      // The child watch does not fire for a node's data: read again for it.
      if (event.type !== "NODE_DELETED" && this.#client) void this.#watchElection(this.#client);
      return;
    }
    const deletions = { paths: new Set([event.path]), spoiled: false };
    this.#deletions = deletions;
    this.#learnedFromDeletion = true;
    queueMicrotask(() => {
      this.#deletions = undefined;
      if (deletions.spoiled) return;
      const { electionPath } = this.options;
      const rest = view.order.filter((c) => !deletions.paths.has(`${electionPath}/${c.node}`));
      this.#learnLeaderEpoch(view.client, leaderOf(rest)?.epoch ?? 0n);
    });
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
      const eventsBefore = this.#watchEvents;
      const order = await readElection(client, this.options.electionPath, {
        known: this.#known,
        childWatcher: this.#onElectionChange,
        everyNodeWatcher: this.#onNodeChange,
      });
      // Exact only if no watch fired while the read ran (what it reports may predate the read).
      if (eventsBefore === this.#watchEvents && client === this.#client) {
        this.#exactView = { client, order };
      }
      // A missing path sets no child watch: watch for its creation instead.
      if (
        order.length === 0 &&
        !(await client.exists(this.options.electionPath, this.#onElectionChange))
      ) {
        return;
      }
      this.#learnLeaderEpoch(client, leaderOf(order)?.epoch ?? 0n);
    } catch (error) {
      this.options.logger.warn("Cannot read the election", { error: String(error) });
      this.#clock.setTimeout(this.#onElectionChange, 200);
    }
  }

  /** Learns from a read by `client`; a read by an older session (maybe another history) is not news. */
  #learnLeaderEpoch(client: ZkClient, leaderEpoch: bigint): void {
    if (client === this.#client) this.#state = afterLearn(leaderEpoch, this.#state);
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
        this.#learnLeaderEpoch(client, leaderEpoch);
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
