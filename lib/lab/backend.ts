/**
 * What the CLI needs from a way of running the lab (local processes or Docker Compose), so that
 * every command (status, failover, rpc, ...) is written once for both.
 */

/** The two masters of the walkthrough, in the order they are started. */
export const MASTERS = ["master1", "master2"] as const;

/** A master's service name. */
export type MasterName = typeof MASTERS[number];

/** Where the lab's processes answer, as seen from this host. */
export interface Endpoints {
  /** ZooKeeper servers, each with its service name and `host:port`. */
  readonly zookeeper: readonly { readonly service: string; readonly address: string }[];
  readonly electionPath: string;
  readonly worker: string;
  readonly masters: Readonly<Record<MasterName, string>>;
}

/** Options of `logs`. */
export interface PrintLogsOptions {
  readonly follow: boolean;
  readonly lines: number;
}

/** Whether a service's process runs, is frozen (SIGSTOP / `docker pause`) or is not running. */
export type ProcessState = "running" | "paused" | "stopped";

/** Receives one line a service wrote, with when it was written (ms since the epoch) as best known. */
export type LogLineListener = (service: string, line: string, at: number) => void;

/** One way of running the lab. */
export interface Backend {
  readonly name: "local" | "compose";
  /** How long `up` may take before there must be a leader (Compose may build images first). */
  readonly upTimeoutMs: number;
  /** Starts whatever is not running yet; resolves once the processes were started. */
  /** With `tls`, every service presents its certificate from `<state>/certs` (mutual TLS). */
  up(options: { readonly ensemble: boolean; readonly tls?: boolean }): Promise<void>;
  /** Stops one service cleanly (SIGTERM) and resolves once it has exited. */
  stop(service: string): Promise<void>;
  /** Starts one stopped service again. */
  start(service: string): Promise<void>;
  /** Kills one service at once (SIGKILL / `docker kill`): no clean leave, its session times out. */
  kill(service: string): Promise<void>;
  /** Freezes one service (SIGSTOP / `docker pause`): its sockets stay open, it answers nothing. */
  pause(service: string): Promise<void>;
  /** Lets a paused service run on (SIGCONT / `docker unpause`). */
  resume(service: string): Promise<void>;
  /** Whether the service runs, is paused or is stopped. */
  processState(service: string): Promise<ProcessState>;
  /** Calls `onLine` for every line the services write from now on, until `signal` aborts. */
  followLogs(
    services: readonly string[],
    onLine: LogLineListener,
    options: { readonly signal: AbortSignal },
  ): Promise<void>;
  /** Stops and removes everything; nothing of the lab keeps running. */
  down(): Promise<void>;
  /** `down`, then removes the lab's files from the state folder (Compose: images and volumes). */
  clean(): Promise<void>;
  /** Prints the last lines of one service or all, like `docker-compose logs`. */
  printLogs(service: string | undefined, options: PrintLogsOptions): Promise<void>;
  /** The last `count` lines a service wrote (without any prefix), oldest first. */
  recentLines(service: string, count: number): Promise<string[]>;
  /** The lab's service names, for argument checks and `status`. */
  services(): Promise<string[]>;
  endpoints(): Promise<Endpoints>;
}

/** A usage or state problem the user can fix; the CLI prints the message and exits 1. */
export class LabError extends Error {
  override name = "LabError";
}

/** The services the lab is about: what `logs` shows by default, as the original lab's `make log`. */
export const APP_SERVICES: readonly string[] = [...MASTERS, "worker"];

/** True for a ZooKeeper server's service: `zookeeper`, or `zoo1`..`zoo3` of the ensemble. */
export function isZooKeeperService(name: string): boolean {
  return name === "zookeeper" || /^zoo\d+$/.test(name);
}

/**
 * The services whose logs `logs` prints, among the lab's `known` ones: the masters and the worker
 * when none is named, every ZooKeeper server for `zookeeper`, else the one named.
 */
export function logServices(requested: string | undefined, known: readonly string[]): string[] {
  if (requested === undefined) return known.filter((name) => APP_SERVICES.includes(name));
  if (requested === "zookeeper") return known.filter(isZooKeeperService);
  return [requested];
}

/** Throws a {@linkcode LabError} naming the lab's services when `service` is not one of `names`. */
export function checkKnownService(service: string, names: readonly string[]): void {
  if (!names.includes(service)) {
    throw new LabError(`Unknown service "${service}": the lab's services are ${names.join(", ")}`);
  }
}

/** `zookeeper2` is how the README names the second ensemble server; both backends call it zoo2. */
export function canonicalService(name: string): string {
  const match = /^zookeeper([1-3])$/.exec(name);
  return match ? `zoo${match[1]}` : name;
}
