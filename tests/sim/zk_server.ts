/**
 * One server of the model ensemble and its client connections. A server applies the leader's log
 * in order after its own delay (its lag), and fires the watches each transaction triggers on its
 * connections before it answers anything later: a client sees a watch event before any reply that
 * reflects a later state (ZooKeeper's ordering guarantee). Per connection, requests are handled in
 * order, and a write holds back the requests after it until the server has applied it. A client
 * that has seen a higher zxid than the server's is refused (the connection is closed).
 */
import type { SimProcess } from "./scheduler.ts";
import type { ModelZooKeeper, Txn } from "./zk_model.ts";
import { type Trigger, type WriteOp, ZkTree } from "./zk_tree.ts";

/** What a client sends. */
export type ClientMessage =
  | {
    readonly kind: "connect";
    readonly sessionId: bigint;
    readonly lastZxid: bigint;
    readonly timeoutMs: number;
  }
  | { readonly kind: "ping" }
  | { readonly kind: "request"; readonly xid: number; readonly request: ZkRequest };

/** One request. */
export type ZkRequest =
  | {
    readonly op: "getChildren" | "getData" | "exists";
    readonly path: string;
    readonly watch: boolean;
  }
  | { readonly op: "write"; readonly ops: readonly WriteOp[] }
  | { readonly op: "close" }
  | {
    readonly op: "setWatches";
    readonly relativeZxid: bigint;
    readonly data: readonly string[];
    readonly exist: readonly string[];
    readonly child: readonly string[];
  };

/** What a server sends. */
export type ServerMessage =
  | { readonly kind: "connected"; readonly sessionId: bigint; readonly timeoutMs: number }
  | { readonly kind: "expired" }
  | {
    readonly kind: "reply";
    readonly xid: number;
    readonly zxid: bigint;
    readonly error?: string;
    readonly value?: unknown;
  }
  | { readonly kind: "event"; readonly type: Trigger["type"]; readonly path: string };

/** The client end of a connection, as a server sees it. */
export interface ClientEnd {
  readonly process: SimProcess;
  /** Delivered in order; not after the connection closed. */
  receive(connection: ZkConnection, message: ServerMessage): void;
  /** The server closed the connection (the client hears of it unless it is cut off). */
  closedByServer(connection: ZkConnection): void;
}

/**
 * A FIFO connection between a client and a server. The client closing it (or crashing) drops
 * what is in flight both ways; the server closing it is graceful: what it sent before arrives
 * first, then the close.
 */
export class ZkConnection {
  closed = false;
  #reset = false;
  sessionId = 0n;
  #toServerAt = 0;
  #toClientAt = 0;
  /** The messages sent to the client in the current step, delivered together. */
  #burst?: { readonly step: number; readonly at: number; readonly messages: ServerMessage[] };
  readonly queue: { xid: number; request: ZkRequest }[] = [];
  /** A write of this connection waits to be applied: later requests wait behind it. */
  blocked = false;

  constructor(readonly server: ModelServer, readonly client: ClientEnd) {}

  /**
   * A message lost to a partition breaks the connection for good: TCP never loses a message and
   * carries on, so the client cannot hear anything on this connection again (its read timeout
   * makes it reconnect), and the server forgets it with its watches, as it would after a reset.
   */
  #lostToPartition(): void {
    if (this.closed) return;
    this.closed = true;
    this.#reset = true;
    this.server.forget(this);
  }

  /** From the client: dropped when the client is cut off or the connection was closed. */
  send(message: ClientMessage): void {
    const { model } = this.server;
    if (this.closed) return;
    if (model.cutOff(this.client.process)) return this.#lostToPartition();
    const at = this.#toServerAt = Math.max(
      model.scheduler.now + model.delay(),
      this.#toServerAt + 1e-6,
    );
    model.scheduler.at(at, () => {
      if (this.closed) return;
      if (model.cutOff(this.client.process)) return this.#lostToPartition();
      this.server.receive(this, message);
    }, this.server.process);
  }

  /** From the server. */
  reply(message: ServerMessage): void {
    const { model } = this.server;
    if (this.closed) return;
    if (model.cutOff(this.client.process)) return this.#lostToPartition();
    if (message.kind === "reply" && model.loseNextReply.delete(this.client.process)) {
      // The connection breaks after the server did the work: the client never hears the answer.
      return this.closeFromServer();
    }
    // What the server sends in one step (the events of one transaction, then its reply) reaches
    // the client in one piece, as one read of the socket carries it: the client library handles
    // such a piece in one go, before any continuation runs.
    const burst = this.#burst;
    if (burst && burst.step === model.scheduler.steps && burst.at > model.scheduler.now) {
      burst.messages.push(message);
      return;
    }
    const at = this.#toClientAt = Math.max(
      model.scheduler.now + model.delay(),
      this.#toClientAt + 1e-6,
    );
    const next = { step: model.scheduler.steps, at, messages: [message] };
    this.#burst = next;
    model.scheduler.at(at, () => {
      if (this.#burst === next) this.#burst = undefined;
      this.#deliver(next.messages);
    }, this.client.process);
  }

  /** The messages of one burst, in order; a pause that starts in the middle holds the rest. */
  #deliver(messages: readonly ServerMessage[]): void {
    const { model } = this.server;
    for (const [index, message] of messages.entries()) {
      if (this.#reset) return;
      if (model.cutOff(this.client.process)) return this.#lostToPartition();
      if (this.client.process.pausedUntil > model.scheduler.now) {
        const rest = messages.slice(index);
        model.scheduler.at(model.scheduler.now, () => this.#deliver(rest), this.client.process);
        return;
      }
      this.client.receive(this, message);
      // Paused in the middle of what an event set off: `skip` messages after the event, so the
      // replies of that round trip arrive only after the pause.
      const plan = model.pauseAfterEvent.get(this.client.process);
      if (plan && (plan.armed || message.kind === "event")) {
        if (plan.armed && plan.skip-- <= 0) {
          model.pauseAfterEvent.delete(this.client.process);
          this.client.process.pausedUntil = model.scheduler.now + plan.ms;
        }
        plan.armed = true;
      }
    }
  }

  /** Closed by the client: the server forgets it (and its watches) when it hears. */
  closeFromClient(): void {
    this.#reset = true;
    if (this.closed) return;
    this.closed = true;
    const { model } = this.server;
    // What the client sent before still arrives; then the server sees the close.
    const at = Math.max(model.scheduler.now + model.delay(), this.#toServerAt + 1e-6);
    model.scheduler.at(at, () => this.server.forget(this), this.server.process);
  }

  /** Closed by the server. */
  closeFromServer(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.forget(this);
    const { model } = this.server;
    if (model.cutOff(this.client.process)) return; // nothing reaches a cut-off client
    const at = this.#toClientAt = Math.max(
      model.scheduler.now + model.delay(),
      this.#toClientAt + 1e-6,
    );
    model.scheduler.at(at, () => {
      if (!this.#reset && !model.cutOff(this.client.process)) this.client.closedByServer(this);
    }, this.client.process);
  }
}

/** See the module comment. */
export class ModelServer {
  tree: ZkTree;
  #applied = 0;
  #generation = 0;
  #applyAt = 0;
  /** Extra delay before this server applies new transactions (a lagging server). */
  lagMs = 0;
  readonly connections = new Set<ZkConnection>();
  readonly #watches = {
    data: new Map<string, Set<ZkConnection>>(),
    child: new Map<string, Set<ZkConnection>>(),
  };
  readonly #waiting = new Map<number, { connection: ZkConnection; xid: number }>();
  #nextTicket = 1;
  readonly process: SimProcess;

  constructor(readonly ensemble: ModelZooKeeper, readonly id: number, readonly address: string) {
    this.tree = new ZkTree(ensemble.tree.zxid);
    this.process = ensemble.process;
  }

  get model(): ModelZooKeeper {
    return this.ensemble;
  }

  /** Opens a connection from `client` (its handshake follows as a message). */
  accept(client: ClientEnd): ZkConnection {
    const connection = new ZkConnection(this, client);
    this.connections.add(connection);
    return connection;
  }

  /** The server process restarts (its data kept): every client connection is closed. */
  dropClients(): void {
    for (const connection of [...this.connections]) connection.closeFromServer();
  }

  /** The server restarted with a new, empty ensemble: every connection is closed. */
  restart(baseZxid: bigint): void {
    this.#generation++;
    this.#applied = 0;
    this.#applyAt = 0;
    this.tree = new ZkTree(baseZxid);
    this.#waiting.clear();
    for (const connection of [...this.connections]) connection.closeFromServer();
  }

  /** Applies the log up to entry `count`, after this server's delay, in order. */
  scheduleApply(count: number): void {
    const { scheduler } = this.ensemble;
    const generation = this.#generation;
    const at = this.#applyAt = Math.max(
      scheduler.now + this.ensemble.delay() + this.lagMs,
      this.#applyAt,
    );
    scheduler.at(at, () => {
      if (generation === this.#generation) this.#applyUpTo(count);
    }, this.process);
  }

  #applyUpTo(count: number): void {
    const log = this.ensemble.log;
    while (this.#applied < count && this.#applied < log.length) {
      const txn = log[this.#applied++];
      this.#applyOne(txn);
    }
  }

  #applyOne(txn: Txn): void {
    const triggers = txn.error ? [] : this.tree.apply(txn.zxid, txn.ops);
    if (txn.error) this.tree.zxid = txn.zxid;
    for (const trigger of triggers) {
      const watchers = this.#watches[trigger.table].get(trigger.path);
      if (!watchers) continue;
      this.#watches[trigger.table].delete(trigger.path);
      for (const connection of watchers) {
        connection.reply({ kind: "event", type: trigger.type, path: trigger.path });
      }
    }
    const waiting = txn.origin?.server === this ? this.#waiting.get(txn.origin.ticket) : undefined;
    if (waiting) {
      this.#waiting.delete(txn.origin!.ticket);
      this.#answerApplied(waiting.connection, waiting.xid, txn);
    }
    if (txn.session?.kind === "close") {
      for (const connection of [...this.connections]) {
        if (connection.sessionId === txn.session.id) connection.closeFromServer();
      }
    }
  }

  #answerApplied(connection: ZkConnection, xid: number, txn: Txn): void {
    if (xid === -1) {
      // A new session's handshake.
      const record = this.ensemble.sessions.get(txn.session!.id)!;
      connection.sessionId = record.id;
      connection.reply({ kind: "connected", sessionId: record.id, timeoutMs: record.timeoutMs });
    } else {
      const created = txn.ops.find((op) => op.op === "create");
      connection.reply({
        kind: "reply",
        xid,
        zxid: txn.zxid,
        error: txn.error,
        value: created?.path,
      });
    }
    connection.blocked = false;
    this.#work(connection);
  }

  /** A message arrived from a client. */
  receive(connection: ZkConnection, message: ClientMessage): void {
    if (!this.connections.has(connection)) return;
    if (message.kind === "connect") return this.#handshake(connection, message);
    this.ensemble.touch(connection.sessionId);
    if (message.kind === "ping") return;
    connection.queue.push({ xid: message.xid, request: message.request });
    this.#work(connection);
  }

  #handshake(connection: ZkConnection, message: Extract<ClientMessage, { kind: "connect" }>): void {
    if (message.lastZxid > this.tree.zxid) return connection.closeFromServer(); // refused
    if (message.sessionId === 0n) {
      const ticket = this.#nextTicket++;
      this.#waiting.set(ticket, { connection, xid: -1 });
      connection.blocked = true;
      this.ensemble.openSession(message.timeoutMs, { server: this, ticket });
      return;
    }
    const record = this.ensemble.sessions.get(message.sessionId);
    if (!record || record.state !== "open") {
      connection.reply({ kind: "expired" });
      return connection.closeFromServer();
    }
    // The session moves here: its old connection, if any, is closed.
    for (const server of this.ensemble.servers) {
      for (const other of [...server.connections]) {
        if (other !== connection && other.sessionId === record.id) other.closeFromServer();
      }
    }
    this.ensemble.touch(record.id);
    connection.sessionId = record.id;
    connection.reply({ kind: "connected", sessionId: record.id, timeoutMs: record.timeoutMs });
  }

  /** Handles the connection's queued requests in order until one must wait for its write. */
  #work(connection: ZkConnection): void {
    while (!connection.blocked && connection.queue.length > 0 && !connection.closed) {
      const { xid, request } = connection.queue.shift()!;
      if (request.op === "write" || request.op === "close") {
        const ticket = this.#nextTicket++;
        this.#waiting.set(ticket, { connection, xid });
        connection.blocked = true;
        const origin = { server: this, ticket };
        if (request.op === "close") {
          this.ensemble.closeSession(connection.sessionId, "closed", origin);
        } else this.ensemble.write(request.ops, connection.sessionId, origin);
        return;
      }
      if (request.op === "setWatches") {
        this.#setWatches(connection, request);
        connection.reply({ kind: "reply", xid, zxid: this.tree.zxid });
        continue;
      }
      connection.reply(this.#read(connection, xid, request));
    }
  }

  #read(
    connection: ZkConnection,
    xid: number,
    request: Extract<ZkRequest, { path: string }>,
  ): ServerMessage {
    const node = this.tree.nodes.get(request.path);
    const zxid = this.tree.zxid;
    if (request.op === "exists") {
      if (request.watch) this.#watch("data", request.path, connection);
      return { kind: "reply", xid, zxid, value: this.tree.stat(request.path) };
    }
    if (!node) return { kind: "reply", xid, zxid, error: "NO_NODE" };
    if (request.watch) {
      this.#watch(request.op === "getData" ? "data" : "child", request.path, connection);
    }
    const value = request.op === "getData"
      ? { data: node.data, stat: this.tree.stat(request.path) }
      : [...node.children].sort();
    return { kind: "reply", xid, zxid, value };
  }

  #watch(table: "data" | "child", path: string, connection: ZkConnection): void {
    const set = this.#watches[table].get(path) ?? new Set();
    set.add(connection);
    this.#watches[table].set(path, set);
  }

  /** A reconnected client's watches: fire those whose node changed since it last looked. */
  #setWatches(connection: ZkConnection, request: Extract<ZkRequest, { op: "setWatches" }>): void {
    const since = request.relativeZxid;
    const fire = (type: Trigger["type"], path: string) =>
      connection.reply({ kind: "event", type, path });
    for (const path of request.data) {
      const node = this.tree.nodes.get(path);
      if (!node) fire("NODE_DELETED", path);
      else if (node.mzxid > since) fire("NODE_DATA_CHANGED", path);
      else this.#watch("data", path, connection);
    }
    for (const path of request.exist) {
      if (this.tree.nodes.has(path)) fire("NODE_CREATED", path);
      else this.#watch("data", path, connection);
    }
    for (const path of request.child) {
      const node = this.tree.nodes.get(path);
      if (!node) fire("NODE_DELETED", path);
      else if (node.pzxid > since) fire("NODE_CHILDREN_CHANGED", path);
      else this.#watch("child", path, connection);
    }
  }

  /** Drops a closed connection and its watches. */
  forget(connection: ZkConnection): void {
    this.connections.delete(connection);
    for (const table of [this.#watches.data, this.#watches.child]) {
      for (const set of table.values()) set.delete(connection);
    }
  }
}
