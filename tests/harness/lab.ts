/**
 * A lab for one test: a real ZooKeeper (or one the test shares), a worker and masters as real
 * processes, all on a fresh election path, and everything stopped by `close()`.
 */
import {
  callUnary,
  createMapReduceClient,
  type MapReduceClient,
  type TaskRequest,
  type TaskResponse,
  type TlsCredentials,
} from "../../lib/grpc/grpc.ts";
import { certificateEnv, CLI_CERTIFICATE } from "../../lib/lab/certificates.ts";
import { parseTlsConfig } from "../../lib/config/tls.ts";
import { eventsOf, lastRole } from "./events.ts";
import { type LabProcess, spawnLab } from "./process.ts";
import { freePort } from "../../lib/common/ports.ts";
import { startZooKeeper, type ZooKeeperServer } from "./zookeeper.ts";

/** Options for {@linkcode startLab}. */
export interface LabOptions {
  /** How many masters to start (named master1, master2, ...). Default 2. */
  readonly masters?: number;
  /** Start the worker. Default true. */
  readonly worker?: boolean;
  /** ZK_SESSION_TIMEOUT_MS of every process. Default 1000. */
  readonly sessionTimeoutMs?: number;
  /** STATUS_INTERVAL_MS of the masters. Default 200. */
  readonly statusIntervalMs?: number;
  /** A ZooKeeper to use instead of starting one (it is not closed with the lab). */
  readonly zk?: ZooKeeperServer;
  /** More environment for every process. */
  readonly env?: Record<string, string>;
  /**
   * A folder of lab certificates (lib/lab/certificates.ts): every process gets its own (the worker
   * `worker`, masters by name), the worker serves epoch-less calls to `cli` only, and the lab's
   * clients present `cli`. Default: plaintext.
   */
  readonly certificatesDir?: string;
}

/** See the module comment. */
export class Lab implements AsyncDisposable {
  readonly masters: LabProcess[] = [];
  worker?: LabProcess;
  readonly electionPath = `/test-${crypto.randomUUID()}`;
  readonly #clients: MapReduceClient[] = [];

  constructor(
    readonly zk: ZooKeeperServer,
    readonly workerPort: number,
    private readonly options: LabOptions,
    private readonly ownsZk: boolean,
  ) {}

  /** The TLS material the lab's clients present (`cli`), or undefined for plaintext. */
  get clientTls(): TlsCredentials | undefined {
    const dir = this.options.certificatesDir;
    return dir ? parseTlsConfig(certificateEnv(dir, CLI_CERTIFICATE), "test") : undefined;
  }

  /** TLS_CA, TLS_CERT, TLS_KEY of `name` when the lab uses TLS. */
  tlsEnv(name: string): Record<string, string> {
    const dir = this.options.certificatesDir;
    return dir ? certificateEnv(dir, name) : {};
  }

  /** The worker's address for clients. */
  get workerAddress(): string {
    return `127.0.0.1:${this.workerPort}`;
  }

  /** The environment every process gets. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ZK_SERVERS: this.zk.connectString,
      ZK_SESSION_TIMEOUT_MS: String(this.options.sessionTimeoutMs ?? 1000),
      ELECTION_PATH: this.electionPath,
      LOG_FORMAT: "json",
      ...this.options.env,
      ...extra,
    };
  }

  /** Starts the worker (`env` on top) and waits until it serves and watches the election. */
  async startWorker(env: Record<string, string> = {}): Promise<LabProcess> {
    const worker = spawnLab("worker.ts", {
      name: "worker",
      env: this.env({
        ...this.tlsEnv("worker"),
        ...(this.options.certificatesDir ? { WORKER_PLAIN_CLIENTS: CLI_CERTIFICATE } : {}),
        WORKER_HOST: "127.0.0.1",
        WORKER_PORT: String(this.workerPort),
        ...env,
      }),
    });
    this.worker = worker;
    // A plain substring: the test may have chosen the text log format.
    await worker.waitForLine((line) => line.includes("Connected to ZooKeeper"), {
      timeoutMs: 20_000,
    });
    return worker;
  }

  /** Starts a master (`env` on top) and waits until it has joined the election. */
  async startMaster(
    name = `master${this.masters.length + 1}`,
    env: Record<string, string> = {},
  ): Promise<LabProcess> {
    const master = spawnLab("master.ts", {
      name,
      env: this.env({
        ...this.tlsEnv(name),
        MASTER_NAME: name,
        MASTER_HOST: "127.0.0.1",
        MASTER_ADVERTISE_HOST: "127.0.0.1",
        MASTER_PORT: "0",
        WORKER_ADDR: this.workerAddress,
        STATUS_INTERVAL_MS: String(this.options.statusIntervalMs ?? 200),
        ...env,
      }),
    });
    this.masters.push(master);
    await master.waitForLine((line) => line.includes("Joined the election"), { timeoutMs: 20_000 });
    return master;
  }

  /** The masters whose last transition says they lead. */
  leaders(): LabProcess[] {
    return this.masters.filter((master) => lastRole(master) === "leader");
  }

  /** Waits until exactly one live master leads and the worker accepted its epoch; returns it. */
  async waitForSingleLeader(timeoutMs = 10_000): Promise<{ leader: LabProcess; epoch: bigint }> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const leaders = this.leaders().filter((master) => !master.hasExited);
      if (leaders.length === 1 && this.worker) {
        const [leader] = leaders;
        const epoch = BigInt(
          eventsOf(leader, "I am the leader").filter((e) => e.record.epoch !== undefined).at(-1)!
            .record.epoch,
        );
        const accepted = eventsOf(this.worker, "Accepted a new leader epoch").some((e) =>
          BigInt(e.record.epoch) === epoch
        );
        if (accepted) return { leader, epoch };
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const roles = this.masters.map((m) =>
      `${m.name}: ${lastRole(m)}${m.hasExited ? " (exited)" : ""}`
    ).join(", ");
    throw new Error(`No single leader accepted by the worker within ${timeoutMs} ms: ${roles}`);
  }

  /** A gRPC client of `address`, closed with the lab. */
  client(address: string): MapReduceClient {
    const client = createMapReduceClient(address, this.clientTls);
    this.#clients.push(client);
    return client;
  }

  /** Calls the worker's PerformTask directly. */
  performTask(request: Partial<TaskRequest>, timeoutMs = 3000): Promise<TaskResponse> {
    return callUnary(this.client(this.workerAddress), "PerformTask", request, { timeoutMs });
  }

  async close(): Promise<void> {
    for (const client of this.#clients) client.close();
    await Promise.all(
      [...this.masters, ...(this.worker ? [this.worker] : [])].map((p) => p.stop()),
    );
    if (this.ownsZk) await this.zk.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Starts ZooKeeper (unless given), the worker and the masters. */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const zk = options.zk ?? await startZooKeeper();
  const lab = new Lab(zk, await freePort(), options, options.zk === undefined);
  try {
    if (options.worker ?? true) await lab.startWorker();
    for (let i = 0; i < (options.masters ?? 2); i++) await lab.startMaster();
    return lab;
  } catch (error) {
    await lab.close();
    throw error;
  }
}
