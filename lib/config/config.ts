/**
 * Configuration: every setting comes from an environment variable, is validated once at start-up
 * and is handed around as one frozen object. Parsing is pure (it takes the environment as a plain
 * record), so each error message is unit-tested.
 */
import { isHost, isHostPort } from "../common/host_port.ts";
import type { LogFormat } from "../common/log.ts";
import { ConfigError, type Env } from "./errors.ts";
import { parsePlainClients, parseTlsConfig, type TlsConfig } from "./tls.ts";

export { ConfigError, type Env };

/** Settings shared by every process that talks to ZooKeeper. */
export interface ZooKeeperConfig {
  /** `host:port` pairs of the ensemble, tried in random order. */
  readonly zkServers: readonly string[];
  /** The ZooKeeper session timeout the client asks for. */
  readonly sessionTimeoutMs: number;
  /** The parent node of the election. */
  readonly electionPath: string;
  /** `user:password` for ZooKeeper digest authentication, if set. */
  readonly zkAuth?: string;
}

/** The worker's settings. */
export interface WorkerConfig extends ZooKeeperConfig {
  readonly host: string;
  readonly port: number;
  /** How many task ids the worker remembers to perform each at most once. */
  readonly dedupWindow: number;
  /** A file recording performed tasks and accepted epochs, reloaded at start; none if undefined. */
  readonly journalPath?: string;
  readonly logFormat: LogFormat;
  /** Mutual TLS (TLS_CA, TLS_CERT, TLS_KEY); plaintext when absent. See tls.ts. */
  readonly tls?: TlsConfig;
  /** Certificate names allowed to make calls without an epoch (WORKER_PLAIN_CLIENTS); all if absent. */
  readonly plainClients?: readonly string[];
}

/** A master's settings. */
export interface MasterConfig extends ZooKeeperConfig {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** The host name other processes use to reach this master (written into its election node). */
  readonly advertiseHost: string;
  readonly workerAddress: string;
  readonly statusIntervalMs: number;
  /** Deadline of each call to the worker. */
  readonly workerTimeoutMs: number;
  /** Whether tasks go to the worker on a link kept open (grpc/worker_link.ts) or one call each. */
  readonly workerLink: boolean;
  readonly logFormat: LogFormat;
  /** Mutual TLS (TLS_CA, TLS_CERT, TLS_KEY); plaintext when absent. See tls.ts. */
  readonly tls?: TlsConfig;
}

/** Facts about the machine that serve as defaults. */
export interface ConfigDefaults {
  readonly hostname: string;
}

/** Options for `Reader.integer`. */
interface IntegerOptions {
  /** The value when the variable is unset or blank (it is checked too). */
  readonly fallback: number;
  readonly min: number;
  readonly max: number;
  /** Completes the error message, e.g. "must be an integer number of milliseconds from 10 to 600000". */
  readonly rule: string;
}

class Reader {
  /** `action` completes "Cannot …" in errors, e.g. "start master". */
  constructor(private readonly env: Env, private readonly action: string) {}

  /** Throws for `name`; `value` is the value that was checked (it may be a default). */
  fail(name: string, rule: string, value = this.env[name] ?? ""): never {
    throw new ConfigError(
      `Cannot ${this.action}: "${name}" ${rule}: current value is "${value}"`,
    );
  }

  /** The trimmed value, or the fallback when unset or blank. */
  string(name: string, fallback: string): string {
    const value = this.env[name]?.trim();
    return value === undefined || value === "" ? fallback : value;
  }

  /** An integer within `[min, max]`; `rule` completes the error, e.g. "must be an integer …". */
  integer(name: string, options: IntegerOptions): number {
    const { fallback, min, max, rule } = options;
    const text = this.string(name, String(fallback));
    const value = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) this.fail(name, rule, text);
    return value;
  }

  port(name: string, fallback: number): number {
    return this.integer(name, {
      fallback,
      min: 0,
      max: 65535,
      rule: "must be a port number from 0 to 65535",
    });
  }

  address(name: string, fallback: string): string {
    const value = this.string(name, fallback);
    if (!isHostPort(value)) {
      this.fail(name, 'must be "host:port" with a port from 1 to 65535', value);
    }
    return value;
  }

  /** A host name, IPv4 address or bracketed IPv6 address (`[::1]`). */
  host(name: string, fallback: string): string {
    const value = this.string(name, fallback);
    if (!isHost(value)) {
      this.fail(
        name,
        'must be a host name or an IP address (IPv6 in brackets, like "[::1]")',
        value,
      );
    }
    return value;
  }

  zooKeeper(): ZooKeeperConfig {
    const servers = this.string("ZK_SERVERS", "localhost:2181").split(",").map((s) => s.trim());
    if (servers.some((server) => !isHostPort(server))) {
      this.fail("ZK_SERVERS", 'must be a comma-separated list of "host:port"');
    }
    const sessionTimeoutMs = this.integer("ZK_SESSION_TIMEOUT_MS", {
      fallback: 4000,
      min: 400,
      max: 600000,
      rule: "must be an integer number of milliseconds from 400 to 600000",
    });
    const electionPath = this.string("ELECTION_PATH", "/election");
    if (!isElectionPath(electionPath)) this.fail("ELECTION_PATH", ELECTION_PATH_RULE);
    const zkAuth = this.env["ZK_AUTH"]?.trim() || undefined;
    if (zkAuth !== undefined && !/^[^:\s]+:\S+$/.test(zkAuth)) {
      this.fail("ZK_AUTH", 'must be "user:password"');
    }
    return { zkServers: Object.freeze(servers), sessionTimeoutMs, electionPath, zkAuth };
  }

  onOff(name: string, fallback: boolean): boolean {
    const value = this.string(name, fallback ? "on" : "off");
    if (value !== "on" && value !== "off") this.fail(name, 'must be "on" or "off"');
    return value === "on";
  }

  logFormat(): LogFormat {
    const value = this.string("LOG_FORMAT", "text");
    if (value !== "text" && value !== "json") this.fail("LOG_FORMAT", 'must be "text" or "json"');
    return value;
  }
}

/** What {@linkcode isElectionPath} demands, worded for error messages. */
export const ELECTION_PATH_RULE =
  'must be an absolute ZooKeeper path below the root, like "/election", without a trailing slash';

/** True for a path the election may use: absolute, no empty or dot segments, not /zookeeper. */
export function isElectionPath(path: string): boolean {
  return /^(\/[^/\s]+)+$/.test(path) &&
    !path.split("/").slice(1).some((part) => part === "." || part === "..") &&
    path !== "/zookeeper" && !path.startsWith("/zookeeper/");
}

/**
 * Reads and validates the ZooKeeper settings of a client such as `deno task submit`; `action`
 * completes "Cannot …" in errors. Throws {@linkcode ConfigError}.
 */
export function parseZooKeeperConfig(env: Env, action: string): ZooKeeperConfig {
  return Object.freeze(new Reader(env, action).zooKeeper());
}

/** Reads and validates the worker's settings; throws {@linkcode ConfigError}. */
export function parseWorkerConfig(env: Env): WorkerConfig {
  const read = new Reader(env, "start worker");
  const config = {
    ...read.zooKeeper(),
    host: read.host("WORKER_HOST", "0.0.0.0"),
    port: read.port("WORKER_PORT", 7070),
    dedupWindow: read.integer("WORKER_DEDUP_WINDOW", {
      fallback: 10000,
      min: 1,
      max: 10_000_000,
      rule: "must be an integer number of task ids from 1 to 10000000",
    }),
    journalPath: env["WORKER_JOURNAL"]?.trim() || undefined,
    logFormat: read.logFormat(),
  };
  // TLS last: its files are read only once every other setting is known to be good.
  const tls = parseTlsConfig(env, "start worker");
  const plainClients = parsePlainClients(env, tls, "start worker");
  return Object.freeze({
    ...config,
    ...(tls ? { tls } : {}),
    ...(plainClients ? { plainClients } : {}),
  });
}

/** Reads and validates a master's settings; throws {@linkcode ConfigError}. */
export function parseMasterConfig(env: Env, defaults: ConfigDefaults): MasterConfig {
  const read = new Reader(env, "start master");
  const name = read.string("MASTER_NAME", defaults.hostname);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
    read.fail("MASTER_NAME", "must be 1 to 64 letters, digits, '.', '_' or '-'", name);
  }
  const config = {
    ...read.zooKeeper(),
    name,
    host: read.host("MASTER_HOST", "0.0.0.0"),
    port: read.port("MASTER_PORT", 0),
    advertiseHost: read.host("MASTER_ADVERTISE_HOST", defaults.hostname),
    workerAddress: read.address("WORKER_ADDR", "localhost:7070"),
    statusIntervalMs: read.integer("STATUS_INTERVAL_MS", {
      fallback: 5000,
      min: 10,
      max: 3600000,
      rule: "must be an integer number of milliseconds from 10 to 3600000",
    }),
    workerTimeoutMs: read.integer("WORKER_TIMEOUT_MS", {
      fallback: 2000,
      min: 10,
      max: 600000,
      rule: "must be an integer number of milliseconds from 10 to 600000",
    }),
    workerLink: read.onOff("WORKER_LINK", true),
    logFormat: read.logFormat(),
  };
  const tls = parseTlsConfig(env, "start master");
  return Object.freeze({ ...config, ...(tls ? { tls } : {}) });
}
