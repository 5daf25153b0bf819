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
 */
import { retry } from "../common/backoff.ts";
import { type Clock, type RandomSource, realClock, type TimerId } from "../common/clock.ts";
import { readTimeoutMs } from "./lease.ts";
import type { ZooKeeperConfig } from "../config/config.ts";
import type { Logger } from "../common/log.ts";
import { type ConnectOptions, connectZk, type ZkClient } from "./client.ts";

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

  /** Ends the session: our ephemeral nodes vanish now, not after the session timeout. */
  async close(): Promise<void> {
    this.#closed.abort(new Error("ZooKeeper session closed"));
    this.#clock.clearInterval(this.#heartbeat);
    const client = this.#client;
    this.#client = undefined;
    this.#connected = false;
    await client?.close();
  }

  #drop(reason: string): void {
    this.#clock.clearInterval(this.#heartbeat);
    const client = this.#client;
    this.#client = undefined;
    this.#connected = false;
    this.#generation++;
    void client?.close(0);
    this.options.onEvent({ type: "lost", reason });
  }

  async #open(): Promise<void> {
    const { logger } = this.options;
    const { zkServers, sessionTimeoutMs, zkAuth } = this.config;
    const servers = zkServers.join(",");
    const generation = ++this.#generation;
    const connect = this.options.connect ?? connectZk;
    let client: ZkClient;
    try {
      client = await retry(
        () =>
          connect({
            servers: zkServers,
            sessionTimeoutMs,
            auth: zkAuth,
            connectTimeoutMs: Math.max(1000, sessionTimeoutMs),
            signal: this.#closed.signal,
          }),
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
    this.#client = client;
    this.#connected = true;
    this.#stateSince = this.#clock.now();
    this.#startHeartbeat(client);
    logger.info("Connected to ZooKeeper", {
      servers,
      session: `0x${client.sessionId.toString(16)}`,
    });
    client.onState((state) => this.#onState(client, state));
    this.options.onEvent({ type: "connected", client, newSession: true });
  }

  #startHeartbeat(client: ZkClient): void {
    this.#clock.clearInterval(this.#heartbeat);
    const readTimeout = readTimeoutMs(this.config.sessionTimeoutMs);
    this.#heartbeat = this.#clock.setInterval(() => {
      if (client !== this.#client) return;
      if (!this.#connected) {
        // Once TCP connects, the library gives the handshake no deadline: a server that accepts but
        // never answers (a JVM still starting up) would hold a reconnection forever.
        if (this.#clock.now() - this.#stateSince > readTimeout) {
          this.#stateSince = this.#clock.now();
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
    }, Math.max(10, Math.floor(readTimeout / 3)));
  }

  #onState(client: ZkClient, state: string): void {
    if (client !== this.#client || this.#closed.signal.aborted) return;
    const { logger, onEvent } = this.options;
    switch (state) {
      case "connected":
        if (this.#connected) return;
        this.#connected = true;
        this.#stateSince = this.#clock.now();
        logger.info("Reconnected to ZooKeeper", { session: `0x${client.sessionId.toString(16)}` });
        return onEvent({ type: "connected", client, newSession: false });
      case "disconnected":
      case "read-only":
        if (!this.#connected) return;
        this.#connected = false;
        this.#stateSince = this.#clock.now();
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
