/**
 * LeaderLatch: one master's part in the election, driven by watches, never by polling.
 *
 * Every change (a watch firing, a reconnection, a worker refusing our epoch) schedules one "check":
 * read the election, decide (pure, in decisions.ts), set the watches the decision needs, and report
 * the role. Checks run one at a time; triggers during a check make it run once more.
 *
 * Connection loss, as in Curator's LeaderLatch: while disconnected we stop leading at once and keep
 * the node (the session may live on); on reconnection we re-read and re-verify before leading again;
 * when the session is lost its node went with it, so we join again under the new session, with a
 * new guid so that a node of the old session is never mistaken for ours.
 *
 * A leader may act only while its lease holds: it must have heard from ZooKeeper about its own node
 * within the read timeout (two thirds of the session timeout that ZooKeeper granted, which may be
 * shorter than the one asked for), measured from when the confirming
 * request was sent (the session's heartbeat keeps such answers coming, see zookeeper/session.ts; the arithmetic is zookeeper/lease.ts). Every
 * action checks the lease first, and a timer demotes the leader the moment it runs out, so a
 * process that was paused past its session timeout wakes up as a non-leader instead of acting on
 * its old belief. A watch on our own node demotes us the moment the node is deleted.
 */
import { backoffDelay } from "../common/backoff.ts";
import { type Clock, type RandomSource, realClock, type TimerId } from "../common/clock.ts";
import { connectionEffect } from "./connection_effect.ts";
import {
  type Candidate,
  decide,
  encodeMemberInfo,
  type MemberInfo,
  memberNodePrefix,
  parseMemberNode,
} from "./decisions.ts";
import { leaseHolds, readTimeoutMs } from "../zookeeper/lease.ts";
import { ElectionNames, readElection } from "./read_election.ts";
import type { Logger } from "../common/log.ts";
import type { SessionEvent } from "../zookeeper/session.ts";
import type { WatchEvent, ZkClient } from "../zookeeper/client.ts";

/** Where a master stands in the election. */
export type LatchRole =
  | { readonly role: "leader"; readonly self: Candidate }
  | {
    readonly role: "follower";
    readonly self: Candidate;
    readonly leader: Candidate;
    readonly predecessor: Candidate;
  }
  | { readonly role: "none"; readonly reason: string };

/** Options for {@linkcode LeaderLatch}. */
export interface LeaderLatchOptions {
  readonly electionPath: string;
  readonly member: MemberInfo;
  readonly logger: Logger;
  /** Told only when the role really changes (or the leader changes, for a follower). */
  readonly onChange?: (role: LatchRole) => void;
  /** The clock of the lease and the retries. Default the real one. */
  readonly clock?: Clock;
  /** The jitter of the retries. Default `Math.random`. */
  readonly random?: RandomSource;
  /** Makes the guid of each new node. Default `crypto.randomUUID`. */
  readonly newGuid?: () => string;
}

/**
 * How long after taking over on its predecessor's deletion (see `#takeOver`) a new leader reads the
 * election to confirm. Measured in the bench's interleaved rounds: 20 ms instead of at once saved
 * about a tenth of the hand-over when two cores are busy.
 */
export const CONFIRM_AFTER_TAKEOVER_MS = 20;

/** How many checks may follow each other at once before the loop backs off. */
const MAX_CHECKS_IN_A_ROW = 10;

/**
 * How long leaving waits for ZooKeeper to confirm our node's deletion. A silent ZooKeeper must not
 * hold a stopping process past its exit deadline (1.8 s); closing the session removes the node too.
 */
export const LEAVE_TIMEOUT_MS = 300;

/** See the module comment. */
export class LeaderLatch {
  #lifecycle: "latent" | "started" | "closed" = "latent";
  #role: LatchRole = { role: "none", reason: "not started" };
  #client?: ZkClient;
  #guid: string;
  #ownNode?: string;
  /** Whether the data watch on our own node is set and has not fired: its deletion will tell us. */
  #ownWatchArmed = false;
  /** Counts our own node's watch events, so a read can tell whether one came while it ran. */
  #ownWatchEvents = 0;
  /** The names our last read listed: read along with the next listing (read_election.ts). */
  readonly #known = new ElectionNames();
  #checking = false;
  #closing?: Promise<void>;
  #again = false;
  #failures = 0;
  #retryTimer?: TimerId;
  #leaseTimer?: TimerId;
  /** Counts session events: a check compares it after each await to know its view is current. */
  #sessionView = 0;
  readonly #clock: Clock;
  readonly #newGuid: () => string;

  constructor(private readonly options: LeaderLatchOptions) {
    this.#clock = options.clock ?? realClock;
    this.#newGuid = options.newGuid ?? (() => crypto.randomUUID());
    this.#guid = this.#newGuid();
  }

  /** Starts taking part; call {@linkcode handleSession} with every session event. */
  start(): void {
    if (this.#lifecycle !== "latent") throw new Error("Cannot start a LeaderLatch twice");
    this.#lifecycle = "started";
    this.#schedule();
  }

  /** Reacts to the ZooKeeper session: the single switch over connection states (see connection_effect.ts). */
  handleSession(event: SessionEvent): void {
    if (this.#lifecycle === "closed") return;
    this.#sessionView++;
    const effect = connectionEffect(event);
    // Only a connected session gives us a client to read the election with.
    this.#client = event.type === "connected" ? event.client : undefined;
    // Our watch is set again on the next read, whatever the session did meanwhile.
    this.#ownWatchArmed = false;
    switch (effect) {
      case "join":
        this.#guid = this.#newGuid();
        this.#ownNode = undefined;
        return this.#schedule();
      case "recheck":
        return this.#schedule();
      case "suspend":
        return this.#setRole({ role: "none", reason: reasonOf(event) });
      case "drop":
        this.#ownNode = undefined;
        return this.#setRole({ role: "none", reason: reasonOf(event) });
    }
  }

  /** The current role; a leader whose lease ran out is demoted first. */
  get role(): LatchRole {
    this.#checkLease();
    return this.#role;
  }

  /** Our candidate if we lead right now with a valid lease, else undefined. The gate for acting. */
  leadership(): Candidate | undefined {
    const role = this.role;
    return role.role === "leader" ? role.self : undefined;
  }

  /**
   * Our candidate if we lead with a valid lease at this instant, judged as {@linkcode leadership}
   * judges it but without acting on an expired lease (no demotion, no log, no check): for
   * observers, such as the simulation's checker, that must not change what they watch.
   */
  peekLeadership(): Candidate | undefined {
    if (this.#role.role !== "leader") return undefined;
    return this.#leaseHeld(this.#clock.now()) ? this.#role.self : undefined;
  }

  /**
   * Re-reads the election now, e.g. after the worker refused our epoch. The role changes only if
   * the election did: dropping it first would make a leader that the worker keeps refusing lead
   * again at once, and so announce again, in a hot loop. (While our lease holds no other master
   * can lead, so keeping the role until the read is safe; the worker fences it regardless.)
   */
  recheck(): void {
    this.#schedule();
  }

  /** Leaves the election: our node is deleted now so the successor takes over at once. */
  close(): Promise<void> {
    return this.#closing ??= this.#leave();
  }

  async #leave(): Promise<void> {
    this.#lifecycle = "closed";
    this.#clock.clearTimeout(this.#retryTimer);
    const client = this.#client;
    const ownNode = this.#ownNode;
    this.#client = undefined;
    this.#ownNode = undefined;
    // Ask for the deletion first and drop the role in the same turn: nothing can act on our
    // leadership in between, and the successor hears of the deletion a little sooner.
    const removed = client && ownNode
      ? client.remove(this.#path(ownNode)).catch(() => {
        // Closing the session removes it too.
      })
      : undefined;
    this.#setRole({ role: "none", reason: "leaving the election" });
    if (!removed) return;
    let timer: TimerId | undefined;
    await Promise.race([
      removed,
      new Promise<void>((resolve) => timer = this.#clock.setTimeout(resolve, LEAVE_TIMEOUT_MS)),
    ]);
    this.#clock.clearTimeout(timer);
  }

  #path(node: string): string {
    return `${this.options.electionPath}/${node}`;
  }

  readonly #onWatch = (event: WatchEvent) => {
    if (this.#ownNode && event.path === this.#path(this.#ownNode)) {
      this.#ownWatchArmed = false;
      this.#ownWatchEvents++;
      // Our own node gone: stop leading now, before the check that follows reads the election.
      if (event.type === "NODE_DELETED") {
        this.#setRole({ role: "none", reason: "our election node was deleted" });
      }
    } else if (event.type === "NODE_DELETED") {
      // Decide once the rest of what ZooKeeper sent with this event has been handled (the client
      // library handles what one read of the socket brings before any continuation runs): one
      // transaction, an operator's multi, may have deleted our node too, and that event is next.
      return queueMicrotask(() => {
        if (!this.#takeOver(event.path)) return this.#schedule();
        // Confirm with one read a moment later, so that our first call as leader and the
        // worker's handling of it do not share the cores with that read.
        this.#clock.setTimeout(() => this.#schedule(), CONFIRM_AFTER_TAKEOVER_MS);
      });
    }
    this.#schedule();
  };

  /**
   * Leads the moment our predecessor's node is deleted, if that predecessor was the leader in our
   * last read, without reading the election first. Why no one else can lead then:
   * - our last read listed the predecessor P as the only master node below ours (valid or not); a
   *   node made since gets a higher sequence, because sequence numbers only grow while the path
   *   lives, and the path lived throughout (P was in it until now, and a path with children cannot
   *   be deleted);
   * - our own node still exists, unchanged: the data watch on it is set and has not fired, and
   *   ZooKeeper delivers a client's watch events in the order of its changes, so our node's
   *   deletion or a change of its data, had it come before P's deletion, would have reached us
   *   first. One transaction (an operator's multi) can delete both: the two events then come one
   *   right after the other, and we decide only after what arrived with P's (see `#onWatch`). If
   *   ZooKeeper sent them in separate packets, we lead until the next one comes, as any leader
   *   whose node someone else removed leads until its watch tells it;
   * - so at P's deletion ours is the lowest node, which is what "leader" means. From then on it is
   *   as after a read: our lease gates every action (no one else can lead before our session
   *   expires, unless someone deletes our node, which our watch reports), and the worker's fence
   *   judges our epoch with its own view of the election.
   * What this cannot know is a node planted under a chosen lower name by a program allowed to write
   * the path (see the README on ZK_AUTH): the read that follows (CONFIRM_AFTER_TAKEOVER_MS later)
   * finds it and we step down, and the worker, which watches the whole election, does not follow
   * us meanwhile.
   * Anything unusual (a check under way or failing, a watch not set, no lease) takes the usual path.
   */
  #takeOver(deletedPath: string): boolean {
    const role = this.#role;
    const client = this.#client;
    if (this.#lifecycle !== "started" || this.#checking || this.#retryTimer !== undefined) {
      return false;
    }
    if (role.role !== "follower" || role.predecessor.node !== role.leader.node) return false;
    if (deletedPath !== this.#path(role.predecessor.node) || !this.#ownWatchArmed) return false;
    if (!client || role.self.node !== this.#ownNode || role.self.owner !== client.sessionId) {
      return false;
    }
    if (!onlyNodeBelow(this.#known.names, role.predecessor, role.self)) return false;
    if (!this.#leaseHeld(this.#clock.now())) return false;
    this.#setRole({ role: "leader", self: role.self });
    return true;
  }

  #schedule(): void {
    if (this.#lifecycle !== "started") return;
    if (this.#checking) {
      this.#again = true;
      return;
    }
    this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    void this.#runChecks();
  }

  async #runChecks(): Promise<void> {
    this.#checking = true;
    try {
      let count = 0;
      do {
        this.#again = false;
        if (++count > MAX_CHECKS_IN_A_ROW) throw new Error("the election kept changing under us");
        await this.#check();
      } while (this.#again && this.#lifecycle === "started");
      this.#failures = 0;
    } catch (error) {
      this.#failures++;
      const delayMs = backoffDelay(this.#failures, {
        minDelayMs: 50,
        maxDelayMs: 2000,
        random: this.options.random,
      });
      this.options.logger.warn("Election check failed", {
        error: error instanceof Error ? error.message : String(error),
        attempt: this.#failures,
        retryInMs: delayMs,
      });
      if (this.#role.role === "leader") {
        this.#setRole({ role: "none", reason: "cannot confirm leadership with ZooKeeper" });
      }
      this.#retryTimer = this.#clock.setTimeout(() => this.#schedule(), delayMs);
    } finally {
      this.#checking = false;
    }
  }

  async #check(): Promise<void> {
    const client = this.#client;
    if (!client || this.#lifecycle !== "started") return;
    const sessionId = client.sessionId;
    const view = this.#sessionView;
    // After every await: if the session changed (or our node did), what we read is not about
    // the session we would act in; look again.
    const changed = (ownNode?: string) =>
      view !== this.#sessionView || client !== this.#client || this.#lifecycle !== "started" ||
      (ownNode !== undefined && ownNode !== this.#ownNode);
    if (!this.#ownNode) {
      const joined = await this.#join(client);
      // The session may have changed while we joined: that node is not ours to use.
      if (changed()) return void (this.#again = true);
      this.#ownNode = joined;
    }
    const ownNode = this.#ownNode;
    // The watch on our node is set again only once it has fired: set twice, it would fire twice.
    const rearm = !this.#ownWatchArmed;
    const eventsBefore = this.#ownWatchEvents;
    const order = await readElection(client, this.options.electionPath, {
      nodeWatch: rearm ? { node: ownNode, watcher: this.#onWatch } : undefined,
      known: this.#known,
    });
    if (changed(ownNode)) return void (this.#again = true);
    // Set only if it has not fired since (its event can come before this continuation runs).
    if (rearm && eventsBefore === this.#ownWatchEvents && order.some((c) => c.node === ownNode)) {
      this.#ownWatchArmed = true;
    }
    await this.#removeStrayNodes(client, order, ownNode);
    if (changed(ownNode)) return void (this.#again = true);
    const decision = decide(order, { node: ownNode, sessionId });
    switch (decision.kind) {
      case "rejoin":
        this.options.logger.warn("Our election node is gone; joining again", { node: ownNode });
        this.#ownNode = undefined;
        this.#setRole({ role: "none", reason: "our election node is gone" });
        this.#again = true;
        return;
      case "lead":
        // Claim only with a lease: reads that took longer than the read timeout (or a pause in
        // the middle of the check) prove nothing about now. Read again instead.
        if (!this.#leaseHeld(this.#clock.now())) {
          throw new Error("the election was read too slowly to be sure we lead now");
        }
        return this.#setRole({ role: "leader", self: decision.self });
      case "follow": {
        // Watch only the predecessor. If it left before the watch was set, look again.
        const stat = await client.exists(this.#path(decision.predecessor.node), this.#onWatch);
        if (changed(ownNode) || !stat) return void (this.#again = true);
        const { self, leader, predecessor } = decision;
        return this.#setRole({ role: "follower", self, leader, predecessor });
      }
    }
  }

  /** Creates our node; the guid in its name finds it again if the reply to a create was lost. */
  async #join(client: ZkClient): Promise<string> {
    const { electionPath, member } = this.options;
    await client.ensurePath(electionPath);
    const existing = (await client.getChildren(electionPath))
      .find((node) => parseMemberNode(node)?.guid === this.#guid);
    if (existing) return existing;
    const path = await client.create(
      `${electionPath}/${memberNodePrefix(this.#guid)}`,
      encodeMemberInfo(member),
      "ephemeral-sequential",
    );
    const node = path.slice(electionPath.length + 1);
    this.options.logger.info("Joined the election", { node, path: electionPath });
    return node;
  }

  /** Deletes extra nodes of ours (a create retried after a lost reply), so none blocks others. */
  async #removeStrayNodes(client: ZkClient, order: readonly Candidate[], ownNode: string) {
    for (const stray of order.filter((c) => c.guid === this.#guid && c.node !== ownNode)) {
      await client.remove(this.#path(stray.node));
    }
  }

  #setRole(next: LatchRole): void {
    const previous = this.#role;
    this.#role = next;
    if (next.role === "leader" && previous.role !== "leader") this.#startLease();
    if (next.role !== "leader" && previous.role === "leader") this.#stopLease();
    if (!isChange(previous, next)) return;
    const { logger } = this.options;
    switch (next.role) {
      case "leader":
        logger.info("I am the leader", {
          epoch: next.self.epoch,
          node: next.self.node,
          address: next.self.address,
        });
        break;
      case "follower":
        logger.info("I am the follower", {
          leader: next.leader.name,
          leaderAddress: next.leader.address,
          leaderEpoch: next.leader.epoch,
          watching: next.predecessor.node,
        });
        break;
      case "none": {
        // Leaving on purpose is news, not trouble.
        const log = this.#lifecycle === "closed" ? logger.info : logger.warn;
        if (previous.role === "leader") log("I am no longer the leader", { reason: next.reason });
        else if (previous.role === "follower") {
          log("Left the election for now", { reason: next.reason });
        }
        break;
      }
    }
    this.options.onChange?.(next);
  }

  /** When the latest answered request was sent: the lease runs from there. */
  #confirmedAt(): number {
    return this.#client?.lastConfirmedAt ?? -Infinity;
  }

  /** The session timeout ZooKeeper granted (not the one asked for): the lease follows it. */
  #sessionTimeoutMs(): number {
    return this.#client?.sessionTimeoutMs ?? 0;
  }

  #startLease(): void {
    this.#armLeaseTimer();
  }

  #stopLease(): void {
    this.#clock.clearTimeout(this.#leaseTimer);
    this.#leaseTimer = undefined;
  }

  #armLeaseTimer(): void {
    this.#clock.clearTimeout(this.#leaseTimer);
    const remaining = this.#confirmedAt() + readTimeoutMs(this.#sessionTimeoutMs()) -
      this.#clock.now();
    this.#leaseTimer = this.#clock.setTimeout(
      () => this.#checkLease(true),
      Math.max(0, remaining) + 1,
    );
  }

  /**
   * Whether the lease holds at `now`: the one rule that claiming, acting and observing use. It
   * follows the session timeout ZooKeeper granted (see zookeeper/lease.ts).
   */
  #leaseHeld(now: number): boolean {
    return leaseHolds(this.#confirmedAt(), now, this.#sessionTimeoutMs());
  }

  /** Demotes a leader whose lease has run out; otherwise follows the lease's renewals. */
  #checkLease(fromTimer = false): void {
    if (this.#role.role !== "leader") return;
    const now = this.#clock.now();
    const confirmedAt = this.#confirmedAt();
    if (this.#leaseHeld(now)) {
      if (fromTimer) this.#armLeaseTimer();
      return;
    }
    const silentMs = Math.round(now - confirmedAt);
    this.#setRole({ role: "none", reason: `no word from ZooKeeper for ${silentMs} ms` });
    this.#schedule();
  }
}

/** Whether, of the master nodes `names` lists, `predecessor` is the only one below `self`. */
function onlyNodeBelow(
  names: readonly string[],
  predecessor: Candidate,
  self: Candidate,
): boolean {
  return names.every((node) => {
    if (node === predecessor.node || node === self.node) return true;
    const sequence = parseMemberNode(node)?.sequence;
    return sequence !== undefined && sequence > self.sequence;
  });
}

function isChange(previous: LatchRole, next: LatchRole): boolean {
  if (previous.role !== next.role) return true;
  if (previous.role === "leader" && next.role === "leader") {
    return previous.self.epoch !== next.self.epoch;
  }
  if (previous.role === "follower" && next.role === "follower") {
    return previous.leader.epoch !== next.leader.epoch;
  }
  return false;
}

function reasonOf(event: SessionEvent): string {
  return event.type === "connected" ? "connected" : event.reason;
}
