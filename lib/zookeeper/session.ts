/**
 * A ZooKeeper session that never gives up: it connects with capped exponential backoff (logging
 * each failed attempt), reports connection changes, and after expiry throws the dead client away
 * and opens a new session. Consumers (the election, the worker's leader watch) react to its events
 * and never hold on to a client across a `lost` event.
 *
 * node-zookeeper-client notices a closed connection but not a silent one (a partition, a frozen
 * server): it pings but never times the answer out. So a heartbeat asks the server something every
 * third of the read timeout, and a connection with no answer for the whole read timeout is dropped
 * and re-established, as ZooKeeper's own client does. The heartbeat's answers are also what keeps
 * a leader's lease (see leader_latch.ts) fresh.
 *
 * A server that lost its data refuses our session forever (it has seen less than we have), and the
 * library would retry it forever. So a session refused for longer than its (granted) timeout is
 * tested against a fresh one: if the fresh one gets in and ours still does not, ours is given up
 * and the fresh one carries on (see #probeFreshSession). A server that is merely down or starting
 * lets neither in, so a restarted server still takes the old session back.
 */
import { retry } from "../common/backoff.ts";
import { type Clock, type RandomSource, realClock, type TimerId } from "../common/clock.ts";
import { readTimeoutMs } from "./lease.ts";
import type { ZooKeeperConfig } from "../config/config.ts";
import type { Logger } from "../common/log.ts";
import { type ConnectOptions, connectZk, type ZkClient } from "./client.ts";

/** A fresh session opened while ours is refused; `client` once it got in. */
interface SessionProbe {
  client?: ZkClient;
  connectedAt: number;
  /** Stops watching the probe's state (it is watched until it is used or discarded). */
  unsubscribe?: () => void;
}

/** A change of the session, in the order it happens. */
export type SessionEvent =
  /** Connected: `newSession` is false after a reconnection that kept the session. */
  | { readonly type: "connected"; readonly client: ZkClient; readonly newSession: boolean }
  /** Disconnected (or read-only): the session may live on, but our view may be stale. */
  | { readonly type: "suspended"; readonly reason: string }
  /** The session is gone with its ephemeral nodes; a new one is being opened. */
  | { readonly type: "lost"; readonly reason: string };

/** Options for {@linkcode ZkSession}. */
export interface ZkSessionOptions {
  readonly logger: Logger;
  readonly onEvent: (event: SessionEvent) => void;
  /** The clock of the heartbeat and the reconnection backoff. Default the real one. */
  readonly clock?: Clock;
  /** The jitter of the reconnection backoff. Default `Math.random`. */
  readonly random?: RandomSource;
  /** Opens one session. Default {@linkcode connectZk}; the simulation passes a model's. */
  readonly connect?: (options: ConnectOptions) => Promise<ZkClient>;
}

/** See the module comment. */
export class ZkSession {
  #client?: ZkClient;
  #connected = false;
  #closed = new AbortController();
  #generation = 0;
  #heartbeat?: TimerId;
  /** When the connection last changed (connected or lost): silence is measured from here at most. */
  #stateSince = 0;
  /** When the connection was lost; a session refused for longer than its timeout is given up. */
  #disconnectedSince = 0;
  /** The client's refused handshakes when the connection was lost. */
  #refusedBefore = 0;
  /** A fresh session opened to tell a refusing server from one that does not serve. */
  #probe?: SessionProbe;

  readonly #clock: Clock;

  constructor(
    private readonly config: ZooKeeperConfig,
    private readonly options: ZkSessionOptions,
  ) {
    this.#clock = options.clock ?? realClock;
  }

  /** The client while connected, else undefined. */
  get client(): ZkClient | undefined {
    return this.#connected ? this.#client : undefined;
  }

  /** Starts connecting in the background. */
  start(): void {
    void this.#open();
  }

  /**
   * Ends the session: our ephemeral nodes vanish now, not after the session timeout. Waits at most
   * `timeoutMs` for the server's answer (a silent one must not hold up a process's exit).
   */
  async close(timeoutMs = 500): Promise<void> {
    this.#closed.abort(new Error("ZooKeeper session closed"));
    this.#clock.clearInterval(this.#heartbeat);
    this.#discardProbe();
    const client = this.#client;
    this.#client = undefined;
    this.#connected = false;
    await client?.close(timeoutMs);
  }

  #drop(reason: string): void {
    this.#clock.clearInterval(this.#heartbeat);
    this.#discardProbe();
    const client = this.#client;
    this.#client = undefined;
    this.#connected = false;
    this.#generation++;
    void client?.close(0);
    this.options.onEvent({ type: "lost", reason });
  }

  async #open(): Promise<void> {
    const { logger } = this.options;
    const servers = this.config.zkServers.join(",");
    const generation = ++this.#generation;
    const connect = this.options.connect ?? connectZk;
    let client: ZkClient;
    try {
      client = await retry(
        () => connect(this.#connectOptions()),
        {
          signal: this.#closed.signal,
          minDelayMs: 100,
          maxDelayMs: 5000,
          clock: this.#clock,
          random: this.options.random,
          onError: (error, attempt, delayMs) =>
            logger.warn("Cannot connect to ZooKeeper", {
              servers,
              attempt,
              retryInMs: delayMs,
              error: error instanceof Error ? error.message : String(error),
            }),
        },
      );
    } catch {
      return; // closed while connecting
    }
    if (this.#closed.signal.aborted || generation !== this.#generation) {
      await client.close(0);
      return;
    }
    this.#install(client);
  }

  /** Makes a freshly connected client the session's, and tells the consumers. */
  #install(client: ZkClient): void {
    this.#client = client;
    this.#connected = true;
    this.#stateSince = this.#clock.now();
    this.#startHeartbeat(client);
    // The server may grant another timeout than the one asked for: say both, and use the granted.
    this.options.logger.info("Connected to ZooKeeper", {
      servers: this.config.zkServers.join(","),
      session: `0x${client.sessionId.toString(16)}`,
      sessionTimeoutMs: client.sessionTimeoutMs,
      asked: this.config.sessionTimeoutMs,
    });
    client.onState((state) => this.#onState(client, state));
    this.options.onEvent({ type: "connected", client, newSession: true });
  }

  #connectOptions(): ConnectOptions {
    const { zkServers, sessionTimeoutMs, zkAuth } = this.config;
    return {
      servers: zkServers,
      sessionTimeoutMs,
      auth: zkAuth,
      connectTimeoutMs: Math.max(1000, sessionTimeoutMs),
      signal: this.#closed.signal,
    };
  }

  /**
   * Our session has been refused for longer than its timeout. Is the server refusing *it*, or not
   * serving at all (a JVM starting up also closes connections)? Ask with a fresh session: if that
   * one gets in and ours still does not a heartbeat later, the server will never take ours back
   * (it lost its data): give ours up and carry on with the fresh one.
   */
  #probeFreshSession(old: ZkClient, now: number, graceMs: number): void {
    const probe = this.#probe;
    if (probe?.client) {
      if (now - probe.connectedAt < graceMs) return;
      this.#probe = undefined;
      probe.unsubscribe?.();
      this.options.logger.warn("ZooKeeper did not take our session back; opening a new one", {
        session: `0x${old.sessionId.toString(16)}`,
        refused: old.refusedHandshakes - this.#refusedBefore,
        sessionTimeoutMs: old.sessionTimeoutMs,
      });
      this.#drop(`ZooKeeper refused the session for over ${old.sessionTimeoutMs} ms`);
      return this.#install(probe.client);
    }
    if (probe) return; // under way
    const started: SessionProbe = { connectedAt: 0 };
    this.#probe = started;
    const connect = this.options.connect ?? connectZk;
    connect(this.#connectOptions()).then((fresh) => {
      if (this.#probe !== started || this.#connected || this.#client !== old) {
        void fresh.close(0);
        if (this.#probe === started) this.#probe = undefined;
        return;
      }
      started.client = fresh;
      started.connectedAt = this.#clock.now();
      // A probe that loses its connection before it is used is no proof of anything.
      started.unsubscribe = fresh.onState((state) => {
        if (state !== "connected" && this.#probe === started) this.#discardProbe();
      });
    }, () => {
      if (this.#probe === started) this.#probe = undefined;
    });
  }

  /** Closes a probe session, if any: ours came back, or we are closing. */
  #discardProbe(): void {
    const probe = this.#probe;
    this.#probe = undefined;
    probe?.unsubscribe?.();
    void probe?.client?.close(0);
  }

  #startHeartbeat(client: ZkClient): void {
    this.#clock.clearInterval(this.#heartbeat);
    const readTimeout = readTimeoutMs(client.sessionTimeoutMs);
    const beatMs = Math.max(10, Math.floor(readTimeout / 3));
    this.#heartbeat = this.#clock.setInterval(() => {
      if (client !== this.#client) return;
      if (!this.#connected) {
        const now = this.#clock.now();
        // A server that lost its data (a new ensemble, a wiped dataDir, a restored backup) refuses
        // a session that has seen a higher zxid than its own, and the library would retry that
        // session forever. Refused again and again for longer than the session timeout: any server
        // that still knew the session would have expired it by now, so give it up and open a new
        // one (last zxid 0), which every server accepts. (A server that is merely down refuses no
        // handshake: that session is kept, and a restarted server takes it back.)
        const refused = client.refusedHandshakes - this.#refusedBefore;
        if (now - this.#disconnectedSince >= client.sessionTimeoutMs && refused > 0) {
          this.#probeFreshSession(client, now, beatMs);
        }
        // Once TCP connects, the library gives the handshake no deadline: a server that accepts but
        // never answers (a JVM still starting up) would hold a reconnection forever.
        if (now - this.#stateSince > readTimeout) {
          this.#stateSince = now;
          this.options.logger.warn("ZooKeeper has not taken us back yet; trying again");
          client.dropConnection();
        }
        return;
      }
      const silentMs = this.#clock.now() - Math.max(client.lastConfirmedAt, this.#stateSince);
      if (silentMs > readTimeout) {
        this.options.logger.warn("No answer from ZooKeeper; reconnecting", {
          silentMs: Math.round(silentMs),
        });
        return client.dropConnection();
      }
      client.exists("/").catch(() => {
        // Unanswered: the next beat measures the silence.
      });
    }, beatMs);
  }

  #onState(client: ZkClient, state: string): void {
    if (client !== this.#client || this.#closed.signal.aborted) return;
    const { logger, onEvent } = this.options;
    switch (state) {
      case "connected":
        if (this.#connected) return;
        this.#discardProbe();
        this.#connected = true;
        this.#stateSince = this.#clock.now();
        logger.info("Reconnected to ZooKeeper", { session: `0x${client.sessionId.toString(16)}` });
        return onEvent({ type: "connected", client, newSession: false });
      case "disconnected":
      case "read-only":
        if (!this.#connected) return;
        this.#connected = false;
        this.#stateSince = this.#disconnectedSince = this.#clock.now();
        this.#refusedBefore = client.refusedHandshakes;
        logger.warn("Disconnected from ZooKeeper", { state });
        return onEvent({ type: "suspended", reason: `ZooKeeper connection ${state}` });
      case "expired":
      case "auth-failed":
        logger.warn("ZooKeeper session ended", { state });
        this.#drop(`ZooKeeper session ${state}`);
        void this.#open();
    }
  }
}
