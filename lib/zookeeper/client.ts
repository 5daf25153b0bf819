/**
 * The ZooKeeper adapter: node-zookeeper-client's callbacks turned into promises behind a small
 * interface, with ids as `bigint`s and errors as {@linkcode ZkError} carrying the server's code.
 *
 * What the library does not give, this module adds:
 * - deadlines: a request made while disconnected waits in the library's queue until reconnection,
 *   so every call here rejects with `OPERATION_TIMEOUT` after `operationTimeoutMs`;
 * - `sync`: the library has no sync op, so a check-only multi on "/" stands in. A multi is a write,
 *   ordered through the ensemble's leader, so reads after it see at least everything committed
 *   before it, which is what sync promises;
 * - a bounded `close` that also stops a client that never connected.
 */
// @ts-types="@types/node-zookeeper-client"
import zookeeper from "node-zookeeper-client";
import { Buffer } from "node:buffer";

/** Node metadata with the ids we use as bigints. */
export interface Stat {
  readonly czxid: bigint;
  readonly mzxid: bigint;
  readonly ephemeralOwner: bigint;
  readonly version: number;
  readonly numChildren: number;
}

/** A watch notification. */
export interface WatchEvent {
  /** `NODE_CREATED`, `NODE_DELETED`, `NODE_DATA_CHANGED` or `NODE_CHILDREN_CHANGED`. */
  readonly type: string;
  readonly path: string;
}

/** A one-shot watch callback. Passing the same function again for a path sets no second watch. */
export type Watcher = (event: WatchEvent) => void;

/** A failed ZooKeeper operation; `code` is the server's name for it, e.g. `NO_NODE`. */
export class ZkError extends Error {
  override name = "ZkError";
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** The modes of node creation we use. */
export type CreateMode = "persistent" | "ephemeral" | "ephemeral-sequential";

/** Connection states reported by a client. */
export type ZkState = "connected" | "disconnected" | "expired" | "read-only" | "auth-failed";

/** One ZooKeeper session. */
export interface ZkClient {
  /** The session id, valid once connected. */
  readonly sessionId: bigint;
  /**
   * The session timeout the server granted (ZooKeeper clamps the one asked for into its
   * `[minSessionTimeout, maxSessionTimeout]`): what every lease and deadline must follow.
   */
  readonly sessionTimeoutMs: number;
  /**
   * The highest zxid this session has seen in a reply (`0n` before any). After {@linkcode sync},
   * it is at least the zxid of everything the ensemble committed before the sync.
   */
  readonly lastZxid: bigint;
  /**
   * How many times a server closed the connection after TCP connected but before it answered our
   * handshake: it refuses the session (a server that lost its data refuses every session that has
   * seen more than it has). Closes we caused ({@linkcode dropConnection}) do not count.
   */
  readonly refusedHandshakes: number;
  /** Creates a node; resolves with its path (with the sequence, for sequential nodes). */
  create(path: string, data: Uint8Array, mode: CreateMode): Promise<string>;
  /** Creates the path and its missing parents as persistent nodes. */
  ensurePath(path: string): Promise<void>;
  /** The children's names; rejects with `NO_NODE` when the path does not exist. */
  getChildren(path: string, watcher?: Watcher): Promise<string[]>;
  /** The node's data and stat, or undefined when it does not exist. */
  getData(path: string, watcher?: Watcher): Promise<{ data: Uint8Array; stat: Stat } | undefined>;
  /** The node's stat, or undefined; a watcher fires on creation, change or deletion. */
  exists(path: string, watcher?: Watcher): Promise<Stat | undefined>;
  /** Deletes a node; resolves false when it was already gone. */
  remove(path: string, version?: number): Promise<boolean>;
  /** Waits until this session's server has caught up with the ensemble's leader. */
  sync(): Promise<void>;
  /** Ends the session (its ephemeral nodes vanish at once); resolves within `timeoutMs`. */
  close(timeoutMs?: number): Promise<void>;
  /**
   * When (monotonic `performance.now()` ms) the latest request that the server answered was sent:
   * the session was alive at least until then. `-Infinity` before any answer.
   */
  readonly lastConfirmedAt: number;
  /**
   * Drops the TCP connection (the session lives on) so the library reconnects, as ZooKeeper's own
   * client does when a server stays silent past the read timeout.
   */
  dropConnection(): void;
  /** Calls `listener` on every state change; returns a function that removes it. */
  onState(listener: (state: ZkState) => void): () => void;
}

/** Options for {@linkcode connectZk}. */
export interface ConnectOptions {
  readonly servers: readonly string[];
  readonly sessionTimeoutMs: number;
  /** `user:password` for digest authentication. */
  readonly auth?: string;
  /** How long this attempt may take. */
  readonly connectTimeoutMs: number;
  /** The deadline of each operation. Default: the session timeout. */
  readonly operationTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Access rules for nodes we create: everyone reads, only the authenticated creator writes. */
function aclFor(auth: string | undefined): zookeeper.ACL[] {
  if (!auth) {
    return [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id("world", "anyone"))];
  }
  return [
    new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id("auth", "")),
    new zookeeper.ACL(zookeeper.Permission.READ, new zookeeper.Id("world", "anyone")),
  ];
}

const CREATE_MODES: Record<CreateMode, number> = {
  "persistent": zookeeper.CreateMode.PERSISTENT,
  "ephemeral": zookeeper.CreateMode.EPHEMERAL,
  "ephemeral-sequential": zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
};

function toBigInt(id: Buffer | undefined): bigint {
  return id && id.length === 8 ? id.readBigInt64BE(0) : 0n;
}

function toStat(stat: zookeeper.Stat): Stat {
  return {
    czxid: toBigInt(stat.czxid),
    mzxid: toBigInt(stat.mzxid),
    ephemeralOwner: toBigInt(stat.ephemeralOwner),
    version: stat.version,
    numChildren: stat.numChildren,
  };
}

function toZkError(error: unknown, operation: string, path: string): ZkError {
  if (error instanceof ZkError) return error;
  const code = (error as { name?: string })?.name ?? "UNKNOWN";
  return new ZkError(code, `ZooKeeper ${operation} ${path} failed: ${code}`);
}

function toWatcher(
  watcher: Watcher | undefined,
  cache: WeakMap<Watcher, (e: zookeeper.Event) => void>,
) {
  if (!watcher) return undefined;
  // The library ignores a second registration of the same function for a path; keep that property
  // by handing it one wrapper per watcher.
  let wrapped = cache.get(watcher);
  if (!wrapped) {
    wrapped = (event) => watcher({ type: event.getName(), path: event.getPath() });
    cache.set(watcher, wrapped);
  }
  return wrapped;
}

/** Error codes that mean the server never answered (the others are the server's answers). */
const NOT_ANSWERED = new Set([
  "CONNECTION_LOSS",
  "SESSION_EXPIRED",
  "OPERATION_TIMEOUT",
  "AUTH_FAILED",
  "UNKNOWN",
]);

const STATE_NAMES = new Map<number, ZkState>([
  [zookeeper.State.SYNC_CONNECTED.code, "connected"],
  [zookeeper.State.DISCONNECTED.code, "disconnected"],
  [zookeeper.State.EXPIRED.code, "expired"],
  [zookeeper.State.CONNECTED_READ_ONLY.code, "read-only"],
  [zookeeper.State.AUTH_FAILED.code, "auth-failed"],
]);

/** Opens one session; rejects with `CONNECT_TIMEOUT` if no server answers in time. */
export function connectZk(options: ConnectOptions): Promise<ZkClient> {
  const client = zookeeper.createClient(options.servers.join(","), {
    sessionTimeout: options.sessionTimeoutMs,
    // The library waits up to spinDelay (random) before each pass over the servers; its 1 s
    // default makes every reconnection after a server restart slow.
    spinDelay: 100,
    retries: 0,
  });
  if (options.auth) client.addAuthInfo("digest", Buffer.from(options.auth));
  const adapter = wrapClient(client, options);
  return new Promise<ZkClient>((resolve, reject) => {
    const fail = (error: unknown) => {
      cleanup();
      adapter.close(0).finally(() => reject(error));
    };
    const onConnected = () => {
      cleanup();
      resolve(adapter);
    };
    const onAuthFailed = () =>
      fail(new ZkError("AUTH_FAILED", "ZooKeeper rejected the credentials in ZK_AUTH"));
    const onAbort = () => fail(options.signal!.reason);
    const timer = setTimeout(
      () =>
        fail(
          new ZkError(
            "CONNECT_TIMEOUT",
            `no ZooKeeper server answered within ${options.connectTimeoutMs} ms (${
              options.servers.join(",")
            })`,
          ),
        ),
      options.connectTimeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      client.removeListener("connected", onConnected);
      client.removeListener("authenticationFailed", onAuthFailed);
      options.signal?.removeEventListener("abort", onAbort);
    };
    if (options.signal?.aborted) return fail(options.signal.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    client.once("connected", onConnected);
    client.once("authenticationFailed", onAuthFailed);
    client.connect();
  });
}

function wrapClient(client: zookeeper.Client, options: ConnectOptions): ZkClient {
  const operationTimeoutMs = options.operationTimeoutMs ?? options.sessionTimeoutMs;
  const acl = aclFor(options.auth);
  const watchers = new WeakMap<Watcher, (e: zookeeper.Event) => void>();
  let closed = false;

  let lastConfirmedAt = -Infinity;
  const connectionManager = () =>
    (client as unknown as {
      connectionManager?: { socket?: { destroy(): void }; zxid?: Buffer };
    }).connectionManager;
  const socketOf = () => connectionManager()?.socket;
  const refusals = countRefusedHandshakes(client);

  /** Runs one library call with a deadline; a server's answer, even an error, confirms the session. */
  function call<T>(
    operation: string,
    path: string,
    start: (done: (error: unknown, value?: T) => void) => void,
  ) {
    const sentAt = performance.now();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new ZkError(
            "OPERATION_TIMEOUT",
            `ZooKeeper ${operation} ${path} timed out after ${operationTimeoutMs} ms`,
          ),
        );
      }, operationTimeoutMs);
      try {
        start((error, value) => {
          clearTimeout(timer);
          const failure = error ? toZkError(error, operation, path) : undefined;
          if (!failure || !NOT_ANSWERED.has(failure.code)) {
            lastConfirmedAt = Math.max(lastConfirmedAt, sentAt);
          }
          if (failure) reject(failure);
          else resolve(value as T);
        });
      } catch (error) {
        clearTimeout(timer);
        reject(toZkError(error, operation, path));
      }
    });
  }

  return {
    get sessionId() {
      return toBigInt(client.getSessionId());
    },
    get sessionTimeoutMs() {
      return client.getSessionTimeout();
    },
    get refusedHandshakes() {
      return refusals.count;
    },
    get lastZxid() {
      // The library keeps the last zxid seen in a reply header (it sends it when reconnecting).
      return toBigInt(connectionManager()?.zxid);
    },
    create: (path, data, mode) =>
      call<string>(
        "create",
        path,
        (done) =>
          client.create(path, Buffer.from(data), acl, CREATE_MODES[mode], (error, created) =>
            done(error, created)),
      ),
    ensurePath: (path) =>
      call<void>(
        "mkdirp",
        path,
        (done) =>
          client.mkdirp(path, Buffer.alloc(0), acl, zookeeper.CreateMode.PERSISTENT, (error) =>
            done(error)),
      ),
    getChildren: (path, watcher) =>
      call<string[]>("getChildren", path, (done) => {
        const callback = (error: Error | zookeeper.Exception | null, children: string[]) =>
          done(error, children);
        const wrapped = toWatcher(watcher, watchers);
        if (wrapped) client.getChildren(path, wrapped, callback);
        else client.getChildren(path, callback);
      }),
    getData: (path, watcher) =>
      call<{ data: Uint8Array; stat: Stat } | undefined>("getData", path, (done) => {
        const callback = (
          error: Error | zookeeper.Exception | null,
          data: Buffer,
          stat: zookeeper.Stat,
        ) => {
          if (error && (error as zookeeper.Exception).getCode?.() === zookeeper.Exception.NO_NODE) {
            return done(null, undefined);
          }
          done(error, error ? undefined : { data: new Uint8Array(data ?? []), stat: toStat(stat) });
        };
        const wrapped = toWatcher(watcher, watchers);
        if (wrapped) client.getData(path, wrapped, callback);
        else client.getData(path, callback);
      }),
    exists: (path, watcher) =>
      call<Stat | undefined>("exists", path, (done) => {
        const callback = (error: Error | zookeeper.Exception | null, stat: zookeeper.Stat) =>
          done(error, stat ? toStat(stat) : undefined);
        const wrapped = toWatcher(watcher, watchers);
        if (wrapped) client.exists(path, wrapped, callback);
        else client.exists(path, callback);
      }),
    remove: (path, version = -1) =>
      call<boolean>("remove", path, (done) =>
        client.remove(path, version, (error) => {
          if (error && (error as zookeeper.Exception).getCode?.() === zookeeper.Exception.NO_NODE) {
            return done(null, false);
          }
          done(error, !error);
        })),
    sync: () =>
      call<void>(
        "sync",
        "/",
        (done) => client.transaction().check("/").commit((error) => done(error)),
      ),
    close(timeoutMs = 1000) {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          client.removeListener("disconnected", finish);
          // A client that never connected (or lost its server) keeps trying to connect: stop it.
          socketOf()?.destroy();
          resolve();
        };
        const timer = setTimeout(finish, timeoutMs);
        client.once("disconnected", finish);
        client.close();
      });
    },
    get lastConfirmedAt() {
      return lastConfirmedAt;
    },
    dropConnection() {
      if (closed) return;
      refusals.dropping = true;
      socketOf()?.destroy();
    },
    onState(listener) {
      const onState = (state: zookeeper.State) => {
        const name = STATE_NAMES.get(state.code);
        if (name && !closed) listener(name);
      };
      client.on("state", onState);
      return () => client.removeListener("state", onState);
    },
  };
}

/**
 * Counts handshakes that a server cut short, by wrapping the library's connection callbacks (it
 * looks them up on each new socket). The library itself just retries such a server forever.
 */
function countRefusedHandshakes(client: zookeeper.Client): { count: number; dropping: boolean } {
  const refusals = { count: 0, dropping: false };
  const manager = (client as unknown as {
    connectionManager?: {
      onSocketConnected: (...args: unknown[]) => unknown;
      onSocketClosed: (...args: unknown[]) => unknown;
    };
  }).connectionManager;
  if (!manager) return refusals;
  let handshaking = false;
  const { onSocketConnected, onSocketClosed } = manager;
  manager.onSocketConnected = function (this: unknown, ...args: unknown[]) {
    handshaking = true;
    return onSocketConnected.apply(this, args);
  };
  manager.onSocketClosed = function (this: unknown, ...args: unknown[]) {
    if (handshaking && !refusals.dropping) refusals.count++;
    handshaking = false;
    refusals.dropping = false;
    return onSocketClosed.apply(this, args);
  };
  client.on("connected", () => handshaking = false);
  client.on("connectedReadOnly", () => handshaking = false);
  return refusals;
}
