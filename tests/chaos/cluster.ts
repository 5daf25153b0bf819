/**
 * The lab of one chaos fault family: a worker that journals what it performs, masters (on loopback
 * or each in its own network namespace), and the test's own ZooKeeper session with a TaskSubmitter,
 * all on a fresh election path. ZooKeeper itself belongs to the test, which may stop or kill it.
 *
 * It remembers every process it ever started and which exits the test caused, so that any other
 * exit, or a stop that did not end with code 0, is reported as a crash. `close()` kills whatever
 * still runs (resuming paused processes first) and removes the temporary directory.
 *
 * The test's session also records ZooKeeper's history of leader epochs (election_history.ts), and
 * the cluster keeps clients that talk to the masters directly, each with its cached leader
 * (cached_leader_client.ts), so that the load reaches every master, a stale leader included. With
 * `slowLinks`, each master reaches the worker through a proxy whose delay a fault can raise.
 */
import { ZkSession } from "../../lib/zookeeper/session.ts";
import { leaderOf } from "../../lib/election/decisions.ts";
import { readElection } from "../../lib/election/read_election.ts";
import { createLogger } from "../../lib/common/log.ts";
import { TaskSubmitter } from "../../lib/tasks/submitter.ts";
import { eventsOf, lastRole, waitForEvent } from "../harness/events.ts";
import { freePort } from "../../lib/common/ports.ts";
import { type LabProcess, spawnLab } from "../harness/process.ts";
import { delay } from "../../lib/common/backoff.ts";
import { highestEpoch, lastEpoch, readJournalFile } from "./checker.ts";
import { type Placement, spawnInNamespace } from "./netns.ts";
import { CachedLeaderClient, type MasterAddress } from "./cached_leader_client.ts";
import { type DelayProxy, startDelayProxy } from "./delay_proxy.ts";
import { ElectionHistory } from "./election_history.ts";
import type { LeaderClaim } from "./history_checker.ts";

/** Options for {@linkcode startCluster}. */
export interface ClusterOptions {
  /** ZK_SERVERS of every process and of the test's own session. */
  readonly zkServers: string;
  /** How many masters (master1, master2, ...). */
  readonly masters: number;
  /** ZK_SESSION_TIMEOUT_MS of the masters and the worker. */
  readonly sessionTimeoutMs: number;
  /** The address the worker binds and the masters call. Default 127.0.0.1. */
  readonly workerHost?: string;
  /** Puts a master in a network namespace; default: loopback in the test's namespace. */
  readonly placeMaster?: (name: string) => Placement;
  /** Each master calls the worker through its own {@linkcode DelayProxy} (loopback only). */
  readonly slowLinks?: boolean;
}

/** How many clients with a cached leader share the load with the ZooKeeper-guided submitter. */
const CACHED_LEADER_CLIENTS = 3;

/** The deadline for a process to start, join or be elected: generous, it is not a measurement. */
const START_TIMEOUT_MS = 20_000;

/** See the module comment. */
export class ChaosCluster implements AsyncDisposable {
  readonly electionPath = `/chaos-${crypto.randomUUID()}`;
  /** Every process started, oldest first, restarted ones included. */
  readonly processes: LabProcess[] = [];
  readonly session: ZkSession;
  readonly submitter: TaskSubmitter;
  readonly history: ElectionHistory;
  readonly cachedLeaderClients: CachedLeaderClient[];
  /** Each master's link to the worker, with `slowLinks`. */
  readonly links = new Map<string, DelayProxy>();
  readonly #addresses = new Map<LabProcess, string>();
  readonly #current = new Map<string, LabProcess>();
  readonly #causedExits = new Map<LabProcess, "SIGTERM" | "SIGKILL">();
  readonly #statuses = new Map<LabProcess, Deno.CommandStatus>();
  #closing?: Promise<void>;

  constructor(
    private readonly options: ClusterOptions,
    readonly directory: string,
    readonly workerPort: number,
  ) {
    const quiet = createLogger("json", { write: () => {} });
    this.history = new ElectionHistory(this.electionPath);
    this.session = new ZkSession({
      zkServers: options.zkServers.split(","),
      // It owns no node, so an expiry costs nothing; a short timeout (and so a short read
      // timeout) lets it reconnect as quickly as the masters after ZooKeeper restarts.
      sessionTimeoutMs: 2000,
      electionPath: this.electionPath,
    }, { logger: quiet, onEvent: (event) => this.history.handleSession(event) });
    this.submitter = new TaskSubmitter({
      zk: () => this.session.client,
      electionPath: this.electionPath,
    });
    this.cachedLeaderClients = Array.from(
      { length: CACHED_LEADER_CLIENTS },
      (_, i) => new CachedLeaderClient(() => this.masterAddresses(), i),
    );
  }

  /** Every submitter of the load: the ZooKeeper-guided one and the cached-leader clients. */
  get submitters() {
    return [
      this.submitter.submit.bind(this.submitter),
      ...this.cachedLeaderClients.map((client) => client.submit.bind(client)),
    ];
  }

  /** The masters running now and the gRPC address each serves on. */
  masterAddresses(): MasterAddress[] {
    return this.masters.filter((master) => !master.hasExited && this.#addresses.has(master))
      .map((master) => ({ name: master.name, address: this.#addresses.get(master)! }));
  }

  /**
   * Every time a master said it leads, with its epoch: on taking over, and in each periodic
   * status line (logged only while its lease holds), which carries the epoch of its last take-over.
   */
  claims(): LeaderClaim[] {
    return this.processes.filter((process) => process.name !== "worker").flatMap((master) => {
      const claims: LeaderClaim[] = [];
      let epoch: bigint | undefined;
      for (const { record } of eventsOf(master, "I am the leader")) {
        if (record.epoch !== undefined) epoch = BigInt(record.epoch);
        const at = Date.parse(String(record.time));
        if (epoch !== undefined) claims.push({ master: master.name, epoch, at });
      }
      return claims;
    });
  }

  /** The worker's record of performed tasks and accepted epochs. */
  get journalPath(): string {
    return `${this.directory}/journal.jsonl`;
  }

  get workerAddress(): string {
    return `${this.options.workerHost ?? "127.0.0.1"}:${this.workerPort}`;
  }

  /** The current worker process. */
  get worker(): LabProcess {
    return this.#current.get("worker")!;
  }

  /** The current process of each master, in name order. */
  get masters(): LabProcess[] {
    return [...this.#current].filter(([name]) => name !== "worker").map(([, process]) => process);
  }

  /** Every worker process started, restarted ones included. */
  get workers(): LabProcess[] {
    return this.processes.filter((process) => process.name === "worker");
  }

  #env(extra: Record<string, string>): Record<string, string> {
    return {
      ZK_SERVERS: this.options.zkServers,
      ZK_SESSION_TIMEOUT_MS: String(this.options.sessionTimeoutMs),
      ELECTION_PATH: this.electionPath,
      LOG_FORMAT: "json",
      ...extra,
    };
  }

  #track(process: LabProcess): LabProcess {
    this.processes.push(process);
    this.#current.set(process.name, process);
    process.exited.then((status) => this.#statuses.set(process, status));
    return process;
  }

  /** Starts the worker (again) on its port with its journal; resolves once it watches ZooKeeper. */
  async startWorker(): Promise<LabProcess> {
    const worker = this.#track(spawnLab("worker.ts", {
      name: "worker",
      env: this.#env({
        WORKER_HOST: this.options.workerHost ?? "127.0.0.1",
        WORKER_PORT: String(this.workerPort),
        WORKER_JOURNAL: this.journalPath,
      }),
    }));
    await worker.waitForLine((line) => line.includes("Connected to ZooKeeper"), {
      timeoutMs: START_TIMEOUT_MS,
    });
    return worker;
  }

  /** Starts master `name` (again); resolves once it has joined the election. */
  async startMaster(name: string): Promise<LabProcess> {
    const placement = this.options.placeMaster?.(name);
    const host = placement?.host ?? "127.0.0.1";
    let workerAddress = this.workerAddress;
    if (this.options.slowLinks) {
      let link = this.links.get(name);
      if (!link) this.links.set(name, link = startDelayProxy(workerAddress));
      workerAddress = link.address;
    }
    const env = this.#env({
      MASTER_NAME: name,
      MASTER_HOST: host,
      MASTER_ADVERTISE_HOST: host,
      MASTER_PORT: "0",
      WORKER_ADDR: workerAddress,
      STATUS_INTERVAL_MS: "1000",
    });
    const master = this.#track(
      placement
        ? spawnInNamespace(placement.netns, "master.ts", { name, env })
        : spawnLab("master.ts", { name, env }),
    );
    const serving = await waitForEvent(master, "Master serving", { timeoutMs: START_TIMEOUT_MS });
    this.#addresses.set(master, String(serving.record.address));
    await master.waitForLine((line) => line.includes("Joined the election"), {
      timeoutMs: START_TIMEOUT_MS,
    });
    return master;
  }

  /** Sends `signal`; a SIGTERM or SIGKILL makes the exit that follows an expected one. */
  signal(process: LabProcess, signal: Deno.Signal): void {
    if (signal === "SIGTERM" || signal === "SIGKILL") this.#causedExits.set(process, signal);
    process.signal(signal);
  }

  /**
   * Waits until exactly one live master says it leads, the worker's journal has accepted its
   * epoch last, and ZooKeeper names the same master and epoch; returns it.
   */
  async waitForOneLeader(timeoutMs = START_TIMEOUT_MS): Promise<{
    leader: LabProcess;
    epoch: bigint;
  }> {
    const deadline = performance.now() + timeoutMs;
    let seen = "nothing yet";
    while (performance.now() < deadline) {
      const leaders = this.masters.filter((m) => !m.hasExited && lastRole(m) === "leader");
      const journalEpoch = lastEpoch((await readJournalFile(this.journalPath)).lines);
      const client = this.session.client;
      const zkLeader = client
        ? leaderOf(await readElection(client, this.electionPath).catch(() => []))
        : undefined;
      const epoch = leaders.length === 1 ? leaderEpoch(leaders[0]) : undefined;
      seen = `masters saying they lead: ${leaders.map((m) => m.name).join(", ") || "none"}; ` +
        `their epoch ${epoch}; the journal's last epoch ${journalEpoch}; ZooKeeper's leader ` +
        `${zkLeader ? `${zkLeader.name} epoch ${zkLeader.epoch}` : "none"}`;
      if (
        epoch !== undefined && epoch === journalEpoch && zkLeader?.name === leaders[0].name &&
        zkLeader.epoch === epoch
      ) {
        return { leader: leaders[0], epoch };
      }
      await delay(50);
    }
    throw new Error(`No single leader within ${timeoutMs} ms: ${seen}`);
  }

  /** Waits until the journal records an accepted epoch above `epoch`; returns it. */
  async waitForEpochAbove(epoch: bigint, timeoutMs = START_TIMEOUT_MS): Promise<bigint> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const highest = highestEpoch((await readJournalFile(this.journalPath)).lines);
      if (highest > epoch) return highest;
      await delay(20);
    }
    throw new Error(`The worker accepted no epoch above ${epoch} within ${timeoutMs} ms`);
  }

  /** Processes that exited without the test asking, or did not stop cleanly when asked. */
  crashes(): string[] {
    return this.processes.flatMap((process) => {
      const status = this.#statuses.get(process);
      if (!status) return [];
      const caused = this.#causedExits.get(process);
      if (caused === "SIGKILL") return [];
      if (caused === "SIGTERM" && status.code === 0) return [];
      const how = status.signal ? `signal ${status.signal}` : `code ${status.code}`;
      const tail = process.lines.slice(-8).map((line) => `    ${line.text}`).join("\n");
      return [
        `${process.name} (pid ${process.pid}) exited with ${how}` +
        `${caused ? ` after ${caused}` : " unasked"}; its last lines:\n${tail}`,
      ];
    });
  }

  /** Stops every process with SIGTERM and returns the crashes, including unclean stops. */
  async stopAll(): Promise<string[]> {
    const live = this.processes.filter((process) => !process.hasExited);
    for (const process of live) this.#causedExits.set(process, "SIGTERM");
    // A paused process would hold the SIGTERM until resumed.
    for (const process of live) process.signal("SIGCONT");
    await Promise.all(live.map((process) => process.stop()));
    await Promise.all(this.processes.map((process) => process.exited));
    return this.crashes();
  }

  /** Kills what still runs, closes the test's clients and removes the directory. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.submitter.close();
      for (const client of this.cachedLeaderClients) client.close();
      this.history.close();
      await this.session.close();
      await Promise.all(this.processes.map((process) => {
        process.signal("SIGCONT");
        return process.kill();
      }));
      await Promise.all([...this.links.values()].map((link) => link.close()));
      await Deno.remove(this.directory, { recursive: true }).catch(() => {});
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The epoch of a master's last "I am the leader" transition. */
function leaderEpoch(master: LabProcess): bigint | undefined {
  const epoch = eventsOf(master, "I am the leader").filter((e) => e.record.epoch !== undefined)
    .at(-1)?.record.epoch;
  return epoch === undefined ? undefined : BigInt(epoch);
}

/** Starts the test's session, the worker and the masters; resolves once one leader is elected. */
export async function startCluster(options: ClusterOptions): Promise<ChaosCluster> {
  if (!Number.isInteger(options.masters) || options.masters < 1) {
    throw new RangeError(`Cannot start a chaos cluster: masters must be >= 1: ${options.masters}`);
  }
  const directory = await Deno.makeTempDir({ prefix: "chaos-" });
  const cluster = new ChaosCluster(options, directory, freePort());
  try {
    cluster.session.start();
    await cluster.startWorker();
    await Promise.all(
      Array.from({ length: options.masters }, (_, i) => cluster.startMaster(`master${i + 1}`)),
    );
    await cluster.waitForOneLeader();
    return cluster;
  } catch (error) {
    await cluster.close();
    throw error;
  }
}
