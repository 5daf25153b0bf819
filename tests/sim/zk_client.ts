/**
 * A model client behind the lab's `ZkClient` interface (lib/zookeeper/client.ts), behaving as
 * node-zookeeper-client does under the lab's adapter: requests queue while disconnected and go out
 * on reconnection; a closed connection fails the requests in flight with CONNECTION_LOSS and the
 * client reconnects, trying the servers in turn (with a random pause after each full pass); it
 * re-sends its watches with the last zxid it saw; a server's "expired" answer ends the client
 * (`expired`, then `disconnected`); a refused client retries forever; it never times out a
 * silent server by itself. The adapter's parts are here too: each call's deadline, NO_NODE as
 * undefined/false, `sync` as a write, `lastConfirmedAt` from the send time of answered requests.
 */
import type { Clock } from "../../lib/common/clock.ts";
import {
  type ConnectOptions,
  type CreateMode,
  type Stat,
  type Watcher,
  type ZkClient,
  ZkError,
  type ZkState,
} from "../../lib/zookeeper/client.ts";
import type { SimProcess } from "./scheduler.ts";
import type { ModelZooKeeper } from "./zk_model.ts";
import type { ClientEnd, ServerMessage, ZkConnection, ZkRequest } from "./zk_server.ts";

type WatchTable = "data" | "exist" | "child";
type LibraryState = "connecting" | "connected" | "closing" | "closed" | "expired";
interface Packet {
  readonly request: ZkRequest;
  readonly callback: (error: string | undefined, value?: unknown) => void;
  xid?: number;
}
const NOT_ANSWERED = new Set(["CONNECTION_LOSS", "SESSION_EXPIRED", "OPERATION_TIMEOUT"]);
const SPIN_DELAY_MS = 100;

/** See the module comment. */
export class ModelZkClient implements ZkClient, ClientEnd {
  #state: LibraryState = "connecting";
  #reported?: ZkState;
  #sessionId = 0n;
  #timeoutMs: number;
  #lastZxid = 0n;
  #connection?: ZkConnection;
  #queue: Packet[] = [];
  #pending: Packet[] = [];
  #xid = 1;
  #serverIndex: number;
  #attempts = 0;
  #lastSendAt = 0;
  #pingTimer?: number;
  readonly #watchers: Record<WatchTable, Map<string, Set<Watcher>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
  };
  readonly #listeners = new Set<(state: ZkState) => void>();
  #adapterClosed = false;
  #confirmedAt = -Infinity;
  readonly #operationTimeoutMs: number;

  constructor(
    readonly model: ModelZooKeeper,
    readonly process: SimProcess,
    readonly clock: Clock,
    options: Pick<ConnectOptions, "sessionTimeoutMs" | "operationTimeoutMs">,
  ) {
    this.#timeoutMs = options.sessionTimeoutMs;
    this.#operationTimeoutMs = options.operationTimeoutMs ?? options.sessionTimeoutMs;
    this.#serverIndex = model.random.int(model.servers.length);
  }

  /** The ZooKeeper history (see zk_model.ts) this client's session belongs to; 0 before. */
  history = 0;

  get sessionId(): bigint {
    return this.#sessionId;
  }

  /** The negotiated session timeout once connected (the asked one before). */
  get sessionTimeoutMs(): number {
    return this.#timeoutMs;
  }

  get lastConfirmedAt(): number {
    return this.#confirmedAt;
  }

  /** The last zxid this client has seen. */
  get lastZxid(): bigint {
    return this.#lastZxid;
  }

  /** Closes by a server after TCP connected but before it answered the handshake (refusals). */
  refusedHandshakes = 0;

  /** Starts connecting (the library's `connect()`). */
  start(): void {
    this.#connect();
  }

  #connect(): void {
    this.#state = "connecting";
    const servers = this.model.servers;
    const go = () => {
      const server = servers[this.#serverIndex % servers.length];
      this.#serverIndex++;
      this.#open(server);
    };
    if (this.#attempts >= servers.length) {
      this.#attempts = 0;
      this.clock.setTimeout(go, this.model.random.next() * SPIN_DELAY_MS);
    } else {
      this.#attempts++;
      this.clock.setTimeout(go, 0);
    }
  }

  #open(server: ModelZooKeeper["servers"][number]): void {
    if (this.#state !== "connecting") return;
    if (this.model.cutOff(this.process)) {
      // No TCP connection: the library's connect timeout gives up on this server.
      const connectTimeout = Math.floor(this.#timeoutMs / this.model.servers.length);
      this.clock.setTimeout(() => this.#onClosed(), connectTimeout);
      return;
    }
    const connection = server.accept(this);
    this.#connection = connection;
    connection.send({
      kind: "connect",
      sessionId: this.#sessionId,
      lastZxid: this.#lastZxid,
      timeoutMs: this.#timeoutMs,
    });
  }

  /** A message from the server, in order. */
  receive(connection: ZkConnection, message: ServerMessage): void {
    if (connection !== this.#connection) return;
    switch (message.kind) {
      case "connected": {
        if (this.#state !== "connecting") return;
        this.#attempts = 0;
        this.#sessionId = message.sessionId;
        this.#timeoutMs = message.timeoutMs;
        this.history = this.model.history;
        this.#state = "connected";
        this.#report("connected");
        this.#resendWatches(connection);
        this.#flush();
        this.#startPings();
        return;
      }
      case "expired":
        this.#state = "expired";
        return this.#report("expired");
      case "reply": {
        const packet = this.#pending.shift();
        if (!packet || packet.xid !== message.xid) return this.dropConnection();
        if (message.zxid > 0n) this.#lastZxid = message.zxid;
        return packet.callback(message.error, message.value);
      }
      case "event":
        return this.#emit(message.type, message.path);
    }
  }

  /** The server closed the connection. */
  closedByServer(connection: ZkConnection): void {
    if (connection !== this.#connection) return;
    if (this.#state === "connecting") this.refusedHandshakes++;
    this.#onClosed();
  }

  #onClosed(): void {
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.closeFromClient();
    this.clock.clearInterval(this.#pingTimer);
    const retry = this.#state === "connecting" || this.#state === "connected";
    const code = this.#state === "expired" ? "SESSION_EXPIRED" : "CONNECTION_LOSS";
    const pending = this.#pending;
    this.#pending = [];
    for (const packet of pending) packet.callback(code);
    this.#report("disconnected");
    if (retry) this.#connect();
    else if (this.#state === "closing") this.#state = "closed";
  }

  #report(state: ZkState): void {
    if (this.#reported === state) return;
    this.#reported = state;
    for (const listener of [...this.#listeners]) {
      if (!this.#adapterClosed) listener(state);
    }
    if (state === "disconnected") this.#onDisconnectedEvent?.();
  }

  #onDisconnectedEvent?: () => void;

  #startPings(): void {
    const pingTimeout = Math.floor(this.#timeoutMs / 3);
    this.clock.clearInterval(this.#pingTimer);
    this.#pingTimer = this.clock.setInterval(() => {
      if (this.#state !== "connected" || !this.#connection) return;
      if (this.clock.now() - this.#lastSendAt >= pingTimeout) this.#send({ kind: "ping" });
    }, pingTimeout);
  }

  #send(message: Parameters<ZkConnection["send"]>[0]): void {
    this.#lastSendAt = this.clock.now();
    this.#connection?.send(message);
  }

  #flush(): void {
    if (!this.#connection || (this.#state !== "connected" && this.#state !== "closing")) return;
    while (this.#queue.length > 0) {
      const packet = this.#queue.shift()!;
      packet.xid = this.#xid++;
      this.#pending.push(packet);
      this.#send({ kind: "request", xid: packet.xid, request: packet.request });
    }
  }

  #resendWatches(connection: ZkConnection): void {
    const paths = (table: Map<string, Set<Watcher>>) =>
      [...table].filter(([, s]) => s.size > 0).map(([p]) => p);
    const data = paths(this.#watchers.data),
      exist = paths(this.#watchers.exist),
      child = paths(this.#watchers.child);
    if (data.length + exist.length + child.length === 0) return;
    const packet: Packet = {
      request: { op: "setWatches", relativeZxid: this.#lastZxid, data, exist, child },
      callback: () => {},
    };
    packet.xid = this.#xid++;
    this.#pending.push(packet);
    this.#lastSendAt = this.clock.now();
    connection.send({ kind: "request", xid: packet.xid, request: packet.request });
  }

  /** The library's queue(): by state, queue the packet or fail it at once. */
  #enqueue(request: ZkRequest, callback: Packet["callback"]): void {
    if (this.#state === "expired") return callback("SESSION_EXPIRED");
    if (this.#state === "closed" || (this.#state === "closing" && request.op !== "close")) {
      return callback("CONNECTION_LOSS");
    }
    this.#queue.push({ request, callback });
    this.#flush();
  }

  #register(table: WatchTable, path: string, watcher: Watcher): void {
    const set = this.#watchers[table].get(path) ?? new Set<Watcher>();
    set.add(watcher);
    this.#watchers[table].set(path, set);
  }

  #emit(type: string, path: string): void {
    const tables: WatchTable[] = type === "NODE_CHILDREN_CHANGED"
      ? ["child"]
      : type === "NODE_DELETED"
      ? ["data", "child"]
      : ["data", "exist"];
    const fired: Watcher[] = [];
    for (const table of tables) {
      const set = this.#watchers[table].get(path);
      if (!set) continue;
      this.#watchers[table].delete(path);
      fired.push(...set);
    }
    for (const watcher of fired) watcher({ type, path });
  }

  /** The adapter's call(): a deadline, and answered requests confirm the session. */
  #call<T>(
    operation: string,
    path: string,
    request: ZkRequest,
    map: (error: string | undefined, value: unknown) => T,
  ): Promise<T> {
    const sentAt = this.clock.now();
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        reject(
          new ZkError(
            "OPERATION_TIMEOUT",
            `ZooKeeper ${operation} ${path} timed out after ${this.#operationTimeoutMs} ms`,
          ),
        );
      }, this.#operationTimeoutMs);
      this.#enqueue(request, (error, value) => {
        this.clock.clearTimeout(timer);
        if (!error || !NOT_ANSWERED.has(error)) {
          this.#confirmedAt = Math.max(this.#confirmedAt, sentAt);
        }
        try {
          resolve(map(error, value));
        } catch (failure) {
          reject(
            failure instanceof ZkError
              ? failure
              : new ZkError(String(error), `ZooKeeper ${operation} ${path} failed: ${error}`),
          );
        }
      });
    });
  }

  create(path: string, data: Uint8Array, mode: CreateMode): Promise<string> {
    return this.#call(
      "create",
      path,
      { op: "write", ops: [{ op: "create", path, data, mode }] },
      (error, value) => {
        if (error) throw new ZkError(error, `ZooKeeper create ${path} failed: ${error}`);
        return value as string;
      },
    );
  }

  async ensurePath(path: string): Promise<void> {
    const parts = path.split("/").filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const prefix = "/" + parts.slice(0, i).join("/");
      await this.#call("mkdirp", path, {
        op: "write",
        ops: [{ op: "create", path: prefix, data: new Uint8Array(), mode: "persistent" }],
      }, (error) => {
        if (error && error !== "NODE_EXISTS") {
          throw new ZkError(error, `ZooKeeper mkdirp ${path} failed: ${error}`);
        }
      });
    }
  }

  getChildren(path: string, watcher?: Watcher): Promise<string[]> {
    return this.#call(
      "getChildren",
      path,
      { op: "getChildren", path, watch: !!watcher },
      (error, value) => {
        if (error) throw new ZkError(error, `ZooKeeper getChildren ${path} failed: ${error}`);
        if (watcher) this.#register("child", path, watcher);
        return value as string[];
      },
    );
  }

  getData(path: string, watcher?: Watcher): Promise<{ data: Uint8Array; stat: Stat } | undefined> {
    return this.#call(
      "getData",
      path,
      { op: "getData", path, watch: !!watcher },
      (error, value) => {
        if (error === "NO_NODE") return undefined;
        if (error) throw new ZkError(error, `ZooKeeper getData ${path} failed: ${error}`);
        if (watcher) this.#register("data", path, watcher);
        return value as { data: Uint8Array; stat: Stat };
      },
    );
  }

  exists(path: string, watcher?: Watcher): Promise<Stat | undefined> {
    return this.#call("exists", path, { op: "exists", path, watch: !!watcher }, (error, value) => {
      if (error) throw new ZkError(error, `ZooKeeper exists ${path} failed: ${error}`);
      if (watcher) this.#register(value ? "data" : "exist", path, watcher);
      return value as Stat | undefined;
    });
  }

  remove(path: string, version = -1): Promise<boolean> {
    return this.#call(
      "remove",
      path,
      { op: "write", ops: [{ op: "delete", path, version }] },
      (error) => {
        if (error === "NO_NODE") return false;
        if (error) throw new ZkError(error, `ZooKeeper remove ${path} failed: ${error}`);
        return true;
      },
    );
  }

  sync(): Promise<void> {
    return this.#call(
      "sync",
      "/",
      { op: "write", ops: [{ op: "check", path: "/", version: -1 }] },
      (error) => {
        if (error) throw new ZkError(error, `ZooKeeper sync / failed: ${error}`);
      },
    );
  }

  close(timeoutMs = 1000): Promise<void> {
    if (this.#adapterClosed) return Promise.resolve();
    this.#adapterClosed = true;
    return new Promise<void>((resolve) => {
      const finish = () => {
        this.clock.clearTimeout(timer);
        this.#onDisconnectedEvent = undefined;
        // The adapter destroys the socket of a client that never connected or lost its server.
        if (this.#connection) this.#onClosed();
        this.#state = "closed";
        resolve();
      };
      const timer = this.clock.setTimeout(finish, timeoutMs);
      this.#onDisconnectedEvent = finish;
      if (this.#state === "expired" || this.#state === "closed") return finish();
      this.#state = "closing";
      this.#enqueue({ op: "close" }, () => {});
    });
  }

  /** Its process died: the kernel closes the connection; nothing of this client runs again. */
  crash(): void {
    this.#adapterClosed = true;
    this.#state = "closed";
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.closeFromClient();
  }

  dropConnection(): void {
    if (!this.#adapterClosed && this.#connection) this.#onClosed();
  }

  onState(listener: (state: ZkState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * The model's `connectZk`: a client of `model` living in `process`, resolved once connected;
 * CONNECT_TIMEOUT after `connectTimeoutMs`, the signal's reason on abort.
 */
export function modelConnect(
  model: ModelZooKeeper,
  process: SimProcess,
  clock: Clock,
  onClient?: (client: ModelZkClient) => void,
) {
  return (options: ConnectOptions): Promise<ZkClient> => {
    const client = new ModelZkClient(model, process, clock, options);
    onClient?.(client);
    return new Promise<ZkClient>((resolve, reject) => {
      const fail = (error: unknown) => {
        cleanup();
        client.close(0).finally(() => reject(error));
      };
      const stop = client.onState((state) => {
        if (state === "connected") {
          cleanup();
          resolve(client);
        }
      });
      const onAbort = () => fail(options.signal!.reason);
      const timer = clock.setTimeout(
        () =>
          fail(
            new ZkError(
              "CONNECT_TIMEOUT",
              `no ZooKeeper server answered within ${options.connectTimeoutMs} ms`,
            ),
          ),
        options.connectTimeoutMs,
      );
      const cleanup = () => {
        clock.clearTimeout(timer);
        stop();
        options.signal?.removeEventListener("abort", onAbort);
      };
      if (options.signal?.aborted) return fail(options.signal.reason);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      client.start();
    });
  };
}
