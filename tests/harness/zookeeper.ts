/**
 * Real ZooKeeper for integration tests: a standalone server or a small ensemble, each server a JVM
 * child process on 127.0.0.1 with its own temporary config and data directories.
 *
 * What it promises: a start resolves only once the server serves (standalone: `ruok` says `imok`
 * and `srvr` reports a mode; ensemble member: `srvr` says leader or follower) and otherwise fails
 * with the server's log tail; `stop()`/`start()` keep the port and the data, so sessions and
 * nodes survive a restart; `close()` leaves no process and no directory behind.
 */
import { freePorts } from "../../lib/common/ports.ts";
import { waitFor } from "../../lib/common/wait.ts";
import { JavaZooKeeper, type ReadyProbe, type ZooKeeperServer } from "./zookeeper_server.ts";
import { prepareServer, type ServerConfig } from "./zookeeper_setup.ts";

export type { ZooKeeperServer } from "./zookeeper_server.ts";

/**
 * The deadline of one readiness probe. A connection made while the JVM is starting is sometimes
 * accepted and never answered (seen: 1 start in 6), so a probe must give up soon and try again.
 */
const PROBE_TIMEOUT_MS = 300;

/** Servers on loopback that form one quorum. */
export interface ZooKeeperEnsemble extends AsyncDisposable {
  /** Server `i` has `myid` `i + 1`; each can be stopped and started on its own. */
  readonly servers: readonly ZooKeeperServer[];
  /** Every client port, comma-separated: `127.0.0.1:p1,127.0.0.1:p2,...`. */
  readonly connectString: string;
  /** Waits until exactly one running server reports `Mode: leader`; returns its index. */
  leaderIndex(options?: { timeoutMs?: number }): Promise<number>;
  /** Closes every server. Idempotent. */
  close(): Promise<void>;
}

/** Options for {@linkcode startZooKeeper} and {@linkcode startEnsemble}. */
export interface ZooKeeperOptions {
  /** ZooKeeper's tick; sessions expire on tick boundaries. Default 200 ms. */
  tickTimeMs?: number;
  /** The longest session timeout the server grants (`maxSessionTimeout`). Default 60 000 ms. */
  maxSessionTimeoutMs?: number;
}

/** Starts a standalone ZooKeeper on a free port and resolves once it serves. */
export async function startZooKeeper(options: ZooKeeperOptions = {}): Promise<ZooKeeperServer> {
  const tickTimeMs = validTickTime(options.tickTimeMs);
  const [port] = freePorts(1);
  // `ruok` answers `imok` a moment before the server serves (`srvr` still says "not currently
  // serving requests"), so both must pass.
  const { maxSessionTimeoutMs } = options;
  const config = { port, tickTimeMs, serverLines: [], maxSessionTimeoutMs };
  const server = await createServer(config, async (server) => {
    const answer = await server.fourLetter("ruok", { timeoutMs: PROBE_TIMEOUT_MS });
    if (answer !== "imok") return undefined;
    return await modeOf(server, PROBE_TIMEOUT_MS) === "standalone" ? true : undefined;
  });
  try {
    await server.start();
    return server;
  } catch (error) {
    await server.close();
    throw error;
  }
}

/** Starts `size` servers as one ensemble and resolves once every one leads or follows. */
export async function startEnsemble(
  size = 3,
  options: ZooKeeperOptions = {},
): Promise<ZooKeeperEnsemble> {
  if (!Number.isInteger(size) || size < 2) {
    throw new RangeError(
      `Cannot start a ZooKeeper ensemble: size must be an integer >= 2: ${size}`,
    );
  }
  const tickTimeMs = validTickTime(options.tickTimeMs);
  const ports = freePorts(size * 3); // client, quorum and election port per server
  const serverLines = Array.from({ length: size }, (_, i) => {
    return `server.${i + 1}=127.0.0.1:${ports[3 * i + 1]}:${ports[3 * i + 2]}`;
  });
  const servers: JavaZooKeeper[] = [];
  const close = async () => {
    await Promise.all(servers.map((server) => server.close()));
  };
  const isServing: ReadyProbe = async (server) => {
    const mode = await modeOf(server, PROBE_TIMEOUT_MS);
    return mode === "leader" || mode === "follower" ? true : undefined;
  };
  try {
    for (let i = 0; i < size; i++) {
      servers.push(
        await createServer({ port: ports[3 * i], tickTimeMs, serverLines, myid: i + 1 }, isServing),
      );
    }
    // No member serves before a quorum runs, so launch them all before waiting on any.
    for (const server of servers) server.launch();
    await Promise.all(servers.map((server) => server.waitUntilReady()));
  } catch (error) {
    await close();
    throw error;
  }
  return {
    servers,
    connectString: servers.map((server) => server.connectString).join(","),
    leaderIndex: ({ timeoutMs = 20_000 } = {}) =>
      waitFor(async () => {
        // A paused server cannot answer: give each a short deadline and count it as not leading.
        const modes = await Promise.all(servers.map((server) => modeOf(server, PROBE_TIMEOUT_MS)));
        const leaders = modes.flatMap((mode, index) => mode === "leader" ? [index] : []);
        return leaders.length === 1 ? leaders[0] : undefined;
      }, { timeoutMs, message: "exactly one ZooKeeper server in Mode: leader" }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function createServer(config: ServerConfig, isReady: ReadyProbe): Promise<JavaZooKeeper> {
  return new JavaZooKeeper(config.port, await prepareServer(config), isReady);
}

/** The `Mode:` that a running server reports in `srvr`; undefined while it does not serve. */
async function modeOf(server: ZooKeeperServer, timeoutMs?: number): Promise<string | undefined> {
  if (!server.isRunning) return undefined;
  const answer = await server.fourLetter("srvr", { timeoutMs }).catch(() => "");
  return /^Mode: (\w+)$/m.exec(answer)?.[1];
}

function validTickTime(tickTimeMs = 200): number {
  if (!Number.isInteger(tickTimeMs) || tickTimeMs < 10) {
    throw new RangeError(
      `Cannot start ZooKeeper: tickTimeMs must be an integer >= 10: current value is ${tickTimeMs}`,
    );
  }
  return tickTimeMs;
}
