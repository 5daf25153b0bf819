/**
 * The model ZooKeeper ensemble: one leader that orders every write into a log of transactions
 * (zxids grow by one per transaction), and servers that apply that log, each at its own pace (a
 * lagging server serves reads from an old state until it catches up), and serve clients over FIFO
 * connections (zk_server.ts). Sessions live at the leader: they expire on the simulated clock when
 * no server has heard from them for their timeout (checked every tick, as ZooKeeper does), and
 * expiry deletes their ephemeral nodes. The granted timeout is the asked one clamped to the
 * server's [min, max]. Data loss replaces the ensemble by a new one whose zxids start again.
 */
import type { SimProcess, SimScheduler } from "./scheduler.ts";
import type { Prng } from "./prng.ts";
import { type AppliedOp, type WriteOp, ZkTree } from "./zk_tree.ts";
import { ModelServer } from "./zk_server.ts";

/** The first zxid of an ensemble: epoch 1, counter 0 (a fresh ZooKeeper's). */
export const BASE_ZXID = 0x1_0000_0000n;

/** One committed transaction. */
export interface Txn {
  readonly zxid: bigint;
  readonly ops: readonly AppliedOp[];
  /** The error code when the write failed its checks (it still takes a zxid and a place). */
  readonly error?: string;
  /** A session this transaction opens or closes. */
  readonly session?: { readonly kind: "open" | "close"; readonly id: bigint };
  /** Who made it: a client's own write, a session's end, or someone outside the lab. */
  readonly cause: "client" | "session" | "admin";
  /** Who asked, so that their server answers when it applies this transaction. */
  readonly origin?: { readonly server: ModelServer; readonly ticket: number };
}

/** A session as the leader tracks it. */
export interface SessionRecord {
  readonly id: bigint;
  readonly timeoutMs: number;
  lastHeard: number;
  state: "open" | "closed" | "expired";
}

/** Settings of the model ensemble. */
export interface ModelOptions {
  readonly servers: number;
  readonly tickMs: number;
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
}

/** Ground truth for the checker: told of every committed transaction, with the leader's tree. */
export type CommitListener = (txn: Txn, tree: ZkTree, history: number) => void;

/** See the module comment. */
export class ModelZooKeeper {
  /** Counts data losses: each new ensemble is a new history. */
  history = 1;
  tree = new ZkTree(BASE_ZXID);
  log: Txn[] = [];
  readonly sessions = new Map<bigint, SessionRecord>();
  readonly servers: ModelServer[];
  readonly process: SimProcess;
  #nextSession = 1n;
  /** Client processes cut off from every server (a partition): nothing gets through either way. */
  readonly cut = new Set<SimProcess>();
  /** Client processes whose next reply is lost with its connection (see zk_server.ts). */
  readonly loseNextReply = new Set<SimProcess>();
  /** Client processes to pause for `ms`, `skip` deliveries after their next watch event. */
  readonly pauseAfterEvent = new Map<SimProcess, { ms: number; skip: number; armed?: boolean }>();
  #listeners: CommitListener[] = [];
  #lossListeners: ((lostHistory: number) => void)[] = [];

  constructor(
    readonly scheduler: SimScheduler,
    readonly random: Prng,
    readonly options: ModelOptions,
    process: SimProcess,
  ) {
    this.process = process;
    this.servers = Array.from(
      { length: options.servers },
      (_, i) => new ModelServer(this, i + 1, `zk${i + 1}:2181`),
    );
    this.#tick();
  }

  /** Whether `process` is cut off from the ensemble. */
  cutOff(process: SimProcess): boolean {
    return this.cut.has(process);
  }

  /** A network delay: usually well under a millisecond or two, sometimes tens of milliseconds. */
  delay(): number {
    return this.random.chance(0.92) ? this.random.between(0.05, 1.5) : this.random.between(1.5, 40);
  }

  /** Registers a listener told just before a data loss ends `lostHistory`. */
  onDataLoss(listener: (lostHistory: number) => void): void {
    this.#lossListeners.push(listener);
  }

  /** Registers a ground-truth listener. */
  onCommit(listener: CommitListener): void {
    this.#listeners.push(listener);
  }

  /** The timeout a session asking for `askedMs` gets. */
  grant(askedMs: number): number {
    return Math.min(
      Math.max(askedMs, this.options.minSessionTimeoutMs),
      this.options.maxSessionTimeoutMs,
    );
  }

  /** Opens a session (a transaction, as in ZooKeeper); its id is known at once. */
  openSession(askedMs: number, origin: Txn["origin"]): SessionRecord {
    const id = (BigInt(this.history) << 48n) | (0x1a2bn << 32n) | this.#nextSession++;
    const record: SessionRecord = {
      id,
      timeoutMs: this.grant(askedMs),
      lastHeard: this.scheduler.now,
      state: "open",
    };
    this.sessions.set(id, record);
    this.#commit({ ops: [], session: { kind: "open", id }, origin, cause: "session" });
    return record;
  }

  /** A server heard from the session: it lives on. */
  touch(id: bigint): void {
    const record = this.sessions.get(id);
    if (record?.state === "open") record.lastHeard = this.scheduler.now;
  }

  /** Closes a session on its client's request or at expiry: its ephemeral nodes go with it. */
  closeSession(id: bigint, state: "closed" | "expired", origin?: Txn["origin"]): void {
    const record = this.sessions.get(id);
    if (record?.state === "open") record.state = state;
    const ops = this.tree.ephemeralsOf(id).map((path): AppliedOp => ({ op: "delete", path }));
    this.#commit({ ops, session: { kind: "close", id }, origin, cause: "session" });
  }

  /** Orders a client's writes (all or nothing); the asking server answers once it applied them. */
  write(ops: readonly WriteOp[], sessionId: bigint, origin: Txn["origin"]): void {
    const prepared = this.tree.prepare(ops, sessionId);
    if (typeof prepared === "string") {
      this.#commit({ ops: [], error: prepared, origin, cause: "client" });
    } else this.#commit({ ops: prepared, origin, cause: "client" });
  }

  /** Someone outside the lab deletes `paths` (deepest first), e.g. a path wiped by an operator. */
  adminDelete(paths: readonly string[]): void {
    const ops = paths.filter((path) => this.tree.nodes.has(path))
      .map((path): AppliedOp => ({ op: "delete", path }));
    if (ops.length > 0) this.#commit({ ops, cause: "admin" });
  }

  /** Someone outside the lab creates a node (junk under the election path, say). */
  adminCreate(path: string, data: Uint8Array, owner: bigint): void {
    const prepared = this.tree.prepare([{ op: "create", path, data, mode: "persistent" }], 0n);
    if (typeof prepared === "string") return;
    this.#commit({
      ops: prepared.map((op) => op.op === "create" ? { ...op, owner } : op),
      cause: "admin",
    });
  }

  /** The ensemble loses its data: a new, empty one (zxids from the start again) takes its place. */
  loseData(): void {
    for (const listener of this.#lossListeners) listener(this.history);
    this.history++;
    this.tree = new ZkTree(BASE_ZXID);
    this.log = [];
    this.sessions.clear();
    for (const server of this.servers) server.restart(BASE_ZXID);
  }

  #commit(txn: Omit<Txn, "zxid">): void {
    const zxid = this.tree.zxid + 1n;
    const committed: Txn = { ...txn, zxid };
    if (!txn.error) this.tree.apply(zxid, txn.ops);
    else this.tree.zxid = zxid;
    this.log.push(committed);
    for (const listener of this.#listeners) listener(committed, this.tree, this.history);
    for (const server of this.servers) server.scheduleApply(this.log.length);
  }

  /** Expires sessions not heard from for their timeout, once per tick. */
  #tick(): void {
    this.scheduler.after(this.options.tickMs, () => {
      const now = this.scheduler.now;
      for (const record of this.sessions.values()) {
        if (record.state === "open" && now - record.lastHeard > record.timeoutMs) {
          this.closeSession(record.id, "expired");
        }
      }
      this.#tick();
    }, this.process);
  }
}
