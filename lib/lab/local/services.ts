/**
 * The local backend's services as plain data: what each one runs and with which environment, in
 * start order. Pure, so the wiring (ports, addresses, ZK_SERVERS) is unit-tested without processes.
 */
import { join } from "node:path";
import type { Env } from "../../config/config.ts";
import { MASTERS } from "../backend.ts";
import { certificateEnv, certificatesDir, CLI_CERTIFICATE } from "../certificates.ts";
import { zooKeeperCommand } from "../../zookeeper/launcher.ts";
import type { LocalLayout } from "../state.ts";

/** One service of the local lab. */
export interface LocalService {
  readonly name: string;
  readonly kind: "zookeeper" | "worker" | "master";
  readonly command: readonly string[];
  /** Set on top of the CLI's own environment (so LOG_FORMAT, ZK_SESSION_TIMEOUT_MS… pass through). */
  readonly env: Readonly<Record<string, string>>;
}

/** Where a ZooKeeper server keeps zoo.cfg (and, below it, its data). */
export function zooKeeperDir(stateDir: string, service: string): string {
  return join(stateDir, "zookeeper", service);
}

/** The permissions of the `worker` and `master` tasks in deno.json. */
const DENO_RUN = ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys=hostname,uid"];

/** Every service of `layout`, ZooKeeper first, then the worker and the masters. */
export function localServices(
  layout: LocalLayout,
  options: { readonly stateDir: string; readonly denoPath: string; readonly env: Env },
): LocalService[] {
  // Everything listens on loopback only, as the Compose stack publishes its ports.
  const zkServers = layout.zookeeper.map((server) => `127.0.0.1:${server.clientPort}`).join(",");
  const common = { ZK_SERVERS: zkServers, ELECTION_PATH: layout.electionPath };
  const workerAddress = `127.0.0.1:${layout.workerPort}`;
  // With `up --tls` each service presents its own certificate; without, TLS settings the CLI's
  // environment may hold are blanked, so the lab is plaintext as `up` said.
  const tls = (name: string): Record<string, string> =>
    layout.tls
      ? certificateEnv(certificatesDir(options.stateDir), name)
      : { TLS_CA: "", TLS_CERT: "", TLS_KEY: "" };
  return [
    ...layout.zookeeper.map((server): LocalService => ({
      name: server.service,
      kind: "zookeeper",
      command: zooKeeperCommand(zooKeeperDir(options.stateDir, server.service), options.env),
      env: {},
    })),
    {
      name: "worker",
      kind: "worker",
      command: [options.denoPath, ...DENO_RUN, "worker.ts"],
      env: {
        ...common,
        ...tls("worker"),
        // Only the CLI's `rpc` check calls without an epoch; the masters always send theirs.
        WORKER_PLAIN_CLIENTS: layout.tls ? CLI_CERTIFICATE : "",
        WORKER_HOST: "127.0.0.1",
        WORKER_PORT: String(layout.workerPort),
      },
    },
    ...MASTERS.map((name): LocalService => ({
      name,
      kind: "master",
      command: [options.denoPath, ...DENO_RUN, "master.ts"],
      env: {
        ...common,
        ...tls(name),
        MASTER_NAME: name,
        MASTER_HOST: "127.0.0.1",
        MASTER_PORT: String(layout.masterPorts[name]),
        MASTER_ADVERTISE_HOST: "127.0.0.1",
        WORKER_ADDR: workerAddress,
      },
    })),
  ];
}
