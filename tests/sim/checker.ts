/**
 * The invariants, checked after every step of a run against the model ZooKeeper's ground truth
 * (the leader's committed tree, not any client's view):
 *
 * - lease: a master that holds a valid lease as leader, in its latch's own view
 *   (`peekLeadership()`: role leader and lease holding), has a live session at ZooKeeper;
 * - one leader: at no instant do two masters both hold a valid lease as leader. A master whose node
 *   someone else removed (an operator's delete, a path wiped, ZooKeeper's data lost) cannot know
 *   before ZooKeeper tells it, so it is excused for `excuseMs` after the removal, and only then;
 * - claim: a master claims leadership (its latch's onChange says leader) only while its lease holds;
 * - fence: the worker never performs a task under a (history, epoch) lower than one it accepted;
 * - once: no task is performed twice by one memory of the worker (one incarnation, or several
 *   sharing a journal);
 * - the leader's: a performed task's epoch was the leader's, in the sender's ZooKeeper history, at
 *   some instant between the request and the answer (excused as above for removed nodes);
 * - liveness: after the last fault heals, within the bound, a master holding the lease has had a
 *   task performed under its epoch.
 */
import { electionOrder, leaderOf, type NodeFacts } from "../../lib/election/decisions.ts";
import { taskKey } from "../../lib/tasks/ledger.ts";
import type { Candidate } from "../../lib/election/decisions.ts";
import type { Txn } from "./zk_model.ts";
import type { ZkTree } from "./zk_tree.ts";
import type { CallMeta } from "./rpc_hop.ts";

/** A master as the checker sees it. */
export interface ObservedMaster {
  readonly name: string;
  /** The latch's own view, without side effects. */
  peek(): Candidate | undefined;
  /** The ZooKeeper history of the session its latch uses. */
  readonly history: number;
}

/** One performed task. */
export interface Performed {
  readonly task: string;
  readonly epoch: bigint;
  readonly meta: CallMeta;
  readonly at: number;
  /** The worker's memory: a new one after a restart without its journal. */
  readonly memory: number;
}

interface LeaderSpan {
  readonly at: number;
  readonly history: number;
  readonly epoch: bigint;
  readonly node?: string;
}

/** See the module comment. */
export class Checker {
  readonly violations: string[] = [];
  readonly #spans: LeaderSpan[] = [];
  /** `history:path` of member nodes removed by someone else → when. */
  readonly #removedByOthers = new Map<string, number>();
  readonly #nodeOfEpoch = new Map<string, string>();
  #highestAccepted = { history: 0, epoch: 0n };
  readonly #performed = new Set<string>();
  /** When liveness was first met after the quiet point, or undefined. */
  livenessMetAt?: number;
  quietSince = Infinity;
  readonly performedLog: Performed[] = [];
  readonly #servedSinceQuiet = new Set<string>();
  /** Told when ZooKeeper's ground truth names a new leader (for the trace). */
  onLeaderChange?: (history: number, leader: Candidate | undefined) => void;

  constructor(
    readonly now: () => number,
    readonly electionPath: string,
    readonly excuseMs: number,
    readonly sessionState: (history: number, owner: bigint) => string | undefined,
  ) {
    this.#spans.push({ at: 0, history: 1, epoch: 0n });
  }

  #fail(message: string): void {
    if (this.violations.length < 5) {
      this.violations.push(`at ${this.now().toFixed(1)} ms: ${message}`);
    }
  }

  /** Ground truth: a transaction was committed at the leader. */
  onCommit(txn: Txn, tree: ZkTree, history: number): void {
    const prefix = this.electionPath + "/";
    if (!txn.ops.some((op) => op.path === this.electionPath || op.path.startsWith(prefix))) return;
    for (const op of txn.ops) {
      // Every member node's epoch, not only the leaders': a master can claim on a view in which
      // its node is first although someone else has removed it since (excused as such).
      const znode = op.op === "create" && op.path.startsWith(prefix)
        ? tree.nodes.get(op.path)
        : undefined;
      if (znode) this.#nodeOfEpoch.set(`${history}:${znode.czxid}`, op.path);
      if (txn.cause === "admin" && op.op === "delete") {
        this.#removedByOthers.set(`${history}:${op.path}`, this.now());
      }
    }
    this.#learnLeader(tree, history);
  }

  /** Ground truth: ZooKeeper lost its data; every node of `history` was removed by it. */
  onDataLoss(history: number, tree: ZkTree): void {
    for (const path of tree.nodes.keys()) {
      this.#removedByOthers.set(`${history}:${path}`, this.now());
    }
    this.#spans.push({ at: this.now(), history: history + 1, epoch: 0n });
  }

  #learnLeader(tree: ZkTree, history: number): void {
    const parent = tree.nodes.get(this.electionPath);
    const facts: NodeFacts[] = [...(parent?.children ?? [])].map((node) => {
      const znode = tree.nodes.get(`${this.electionPath}/${node}`)!;
      return { node, czxid: znode.czxid, ephemeralOwner: znode.ephemeralOwner, data: znode.data };
    });
    const leader = leaderOf(electionOrder(facts));
    const last = this.#spans[this.#spans.length - 1];
    if (last.history === history && last.epoch === (leader?.epoch ?? 0n)) return;
    this.#spans.push({ at: this.now(), history, epoch: leader?.epoch ?? 0n, node: leader?.node });
    this.onLeaderChange?.(history, leader);
    if (leader) {
      this.#nodeOfEpoch.set(`${history}:${leader.epoch}`, `${this.electionPath}/${leader.node}`);
    }
  }

  /** The time someone else removed the node of (history, epoch), if they did. */
  #removedAt(history: number, epoch: bigint): number | undefined {
    const path = this.#nodeOfEpoch.get(`${history}:${epoch}`);
    return path ? this.#removedByOthers.get(`${history}:${path}`) : undefined;
  }

  #excused(history: number, epoch: bigint, at: number): boolean {
    const removedAt = this.#removedAt(history, epoch);
    return removedAt !== undefined && removedAt <= at && at < removedAt + this.excuseMs;
  }

  /** After each step: the lease and one-leader invariants. */
  checkStep(masters: readonly ObservedMaster[], currentHistory: number): void {
    const now = this.now();
    const holders: string[] = [];
    for (const master of masters) {
      const self = master.peek();
      if (!self) continue;
      const excused = this.#excused(master.history, self.epoch, now);
      const state = master.history === currentHistory
        ? this.sessionState(master.history, self.owner)
        : "lost with the data";
      if (state !== "open" && !excused) {
        this.#fail(
          `${master.name} holds a valid lease as leader (epoch ${self.epoch}) but its session is ${state} at ZooKeeper`,
        );
      }
      if (!excused) holders.push(`${master.name} (epoch ${self.epoch})`);
    }
    if (holders.length > 1) {
      this.#fail(`two masters hold a valid lease as leader: ${holders.join(", ")}`);
    }
  }

  /** A master's latch said it leads: it must hold its lease at that moment. */
  onClaim(master: string, self: Candidate, peeked: Candidate | undefined): void {
    if (!peeked) {
      this.#fail(`${master} claimed leadership (epoch ${self.epoch}) without a valid lease`);
    }
  }

  /** The worker performed a task. */
  onPerformed(record: Performed): void {
    this.performedLog.push(record);
    const { task, epoch, meta, at, memory } = record;
    if (at >= this.quietSince) {
      this.#servedSinceQuiet.add(`${meta.history}:${epoch}:${meta.caller}`);
    }
    if (epoch === 0n) return; // a plain, unfenced client
    const key = `${memory}:${taskKey(task, epoch)}`;
    if (this.#performed.has(key)) this.#fail(`task ${task} (epoch ${epoch}) performed twice`);
    this.#performed.add(key);
    const highest = this.#highestAccepted;
    if (
      meta.history < highest.history || (meta.history === highest.history && epoch < highest.epoch)
    ) {
      this.#fail(
        `the worker performed ${task} from ${meta.caller} under epoch ${epoch} (history ${meta.history}) after accepting epoch ${highest.epoch} (history ${highest.history})`,
      );
    } else this.#highestAccepted = { history: meta.history, epoch };
    if (
      !this.#wasLeader(meta.history, epoch, meta.sentAt, at) &&
      !this.#excused(meta.history, epoch, meta.sentAt)
    ) {
      this.#fail(
        `the worker performed ${task} from ${meta.caller} under epoch ${epoch} (history ${meta.history}), which was not the leader's at any instant from the request (${
          meta.sentAt.toFixed(1)
        } ms) to the answer`,
      );
    }
  }

  #wasLeader(history: number, epoch: bigint, from: number, to: number): boolean {
    let current: LeaderSpan | undefined;
    for (const span of this.#spans) {
      if (span.at <= from) current = span;
      else if (span.at <= to && span.history === history && span.epoch === epoch) return true;
    }
    return current?.history === history && current.epoch === epoch;
  }

  /** After each step past the quiet point: has a lease-holding leader had a task performed? */
  checkLiveness(masters: readonly ObservedMaster[], currentHistory: number): void {
    if (this.livenessMetAt !== undefined || this.now() < this.quietSince) return;
    for (const master of masters) {
      const self = master.peek();
      if (!self || master.history !== currentHistory) continue;
      if (this.#servedSinceQuiet.has(`${currentHistory}:${self.epoch}:${master.name}`)) {
        this.livenessMetAt = this.now();
      }
    }
  }
}
