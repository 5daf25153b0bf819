/**
 * A scripted ZooKeeper for unit tests of the latch's interleavings that real processes cannot
 * reach on demand (a reply that arrives after the read timeout, a session lost in the middle of a
 * check): one in-memory election path behind the `ZkClient` interface, a manual clock, and replies
 * that arrive when the test says so. It models only what the latch uses, as ZooKeeper does it:
 * ephemeral sequential nodes with czxid and owner, `lastConfirmedAt` as the send time of the
 * newest answered request, one-shot watches on deletion.
 */
import type { Clock, TimerId } from "../../lib/common/clock.ts";
import type { CreateMode, Stat, Watcher, ZkClient } from "../../lib/zookeeper/client.ts";

/** A clock that moves only when the test advances it. */
export class ManualClock implements Clock {
  #now = 1000;
  #next = 1;
  readonly #timers = new Map<number, { at: number; run: () => void; every?: number }>();

  now(): number {
    return this.#now;
  }
  setTimeout(run: () => void, ms: number): TimerId {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), run });
    return id;
  }
  clearTimeout(id: TimerId | undefined): void {
    if (id !== undefined) this.#timers.delete(id);
  }
  setInterval(run: () => void, ms: number): TimerId {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + ms, run, every: Math.max(1, ms) });
    return id;
  }
  clearInterval(id: TimerId | undefined): void {
    this.clearTimeout(id);
  }

  /** Moves time forward by `ms`, running due timers in order and the promise turns after each. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    while (true) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      const [id, timer] = due;
      this.#now = Math.max(this.#now, timer.at);
      if (timer.every) timer.at += timer.every;
      else this.#timers.delete(id);
      timer.run();
      await settle();
    }
    this.#now = until;
    await settle();
  }
}

/** Lets pending promise continuations run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

interface ZNode {
  data: Uint8Array;
  czxid: bigint;
  owner: bigint;
}

/** One election path and its nodes, shared by the sessions of a test. */
export class ScriptedZooKeeper {
  readonly nodes = new Map<string, ZNode>();
  zxid = 100n;
  #sequence = 0;
  #deletionWatches = new Map<string, Watcher[]>();
  /** How long each reply takes, in clock ms; tests change it between steps. */
  replyDelayMs = 0;

  constructor(readonly clock: ManualClock) {}

  /** Opens a session: a client with its own id. */
  session(sessionId: bigint): ScriptedClient {
    return new ScriptedClient(this, sessionId);
  }

  create(path: string, data: Uint8Array, owner: bigint, sequential = true): string {
    const name = sequential ? `${path}${String(this.#sequence++).padStart(10, "0")}` : path;
    if (this.nodes.has(name)) {
      throw Object.assign(new Error("NODE_EXISTS"), { code: "NODE_EXISTS" });
    }
    this.nodes.set(name, { data, czxid: ++this.zxid, owner });
    return name;
  }

  remove(path: string): boolean {
    const existed = this.nodes.delete(path);
    if (existed) {
      ++this.zxid;
      for (const watcher of this.#deletionWatches.get(path) ?? []) {
        watcher({ type: "NODE_DELETED", path });
      }
      this.#deletionWatches.delete(path);
    }
    return existed;
  }

  watchDeletion(path: string, watcher: Watcher | undefined): void {
    if (!watcher) return;
    const list = this.#deletionWatches.get(path) ?? [];
    if (!list.includes(watcher)) list.push(watcher);
    this.#deletionWatches.set(path, list);
  }

  stat(node: ZNode): Stat {
    return {
      czxid: node.czxid,
      mzxid: node.czxid,
      ephemeralOwner: node.owner,
      version: 0,
      numChildren: 0,
    };
  }
}

/** One session of a {@linkcode ScriptedZooKeeper}. */
export class ScriptedClient implements ZkClient {
  lastConfirmedAt = -Infinity;
  readonly sessionTimeoutMs = 3000;
  lastZxid = 0n;
  readonly refusedHandshakes = 0;

  constructor(private readonly zk: ScriptedZooKeeper, readonly sessionId: bigint) {}

  /** Answers after the zk's reply delay; the answer confirms the session as of the send time. */
  #reply<T>(answer: () => T): Promise<T> {
    const sentAt = this.zk.clock.now();
    return new Promise((resolve, reject) => {
      this.zk.clock.setTimeout(() => {
        try {
          const value = answer();
          this.lastConfirmedAt = Math.max(this.lastConfirmedAt, sentAt);
          this.lastZxid = this.zk.zxid;
          resolve(value);
        } catch (error) {
          reject(error);
        }
      }, this.zk.replyDelayMs);
    });
  }

  create(path: string, data: Uint8Array, mode: CreateMode): Promise<string> {
    const owner = mode === "persistent" ? 0n : this.sessionId;
    return this.#reply(() => this.zk.create(path, data, owner, mode === "ephemeral-sequential"));
  }
  ensurePath(): Promise<void> {
    return this.#reply(() => undefined);
  }
  getChildren(path: string): Promise<string[]> {
    return this.#reply(() =>
      [...this.zk.nodes.keys()].filter((p) =>
        p.startsWith(`${path}/`) && !p.slice(path.length + 1).includes("/")
      ).map((p) => p.slice(path.length + 1))
    );
  }
  getData(path: string, watcher?: Watcher): Promise<{ data: Uint8Array; stat: Stat } | undefined> {
    return this.#reply(() => {
      const node = this.zk.nodes.get(path);
      if (!node) return undefined;
      this.zk.watchDeletion(path, watcher);
      return { data: node.data, stat: this.zk.stat(node) };
    });
  }
  exists(path: string, watcher?: Watcher): Promise<Stat | undefined> {
    return this.#reply(() => {
      const node = this.zk.nodes.get(path);
      if (node) this.zk.watchDeletion(path, watcher);
      return node && this.zk.stat(node);
    });
  }
  remove(path: string): Promise<boolean> {
    return this.#reply(() => this.zk.remove(path));
  }
  sync(): Promise<void> {
    return this.#reply(() => undefined);
  }
  close(): Promise<void> {
    for (const [path, node] of this.zk.nodes) {
      if (node.owner === this.sessionId) this.zk.remove(path);
    }
    return Promise.resolve();
  }
  dropConnection(): void {}
  onState(): () => void {
    return () => {};
  }
}
