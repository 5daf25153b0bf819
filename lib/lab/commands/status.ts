/**
 * `status`: the election as ZooKeeper holds it (the same read the masters make) and every service's
 * health: gRPC health Check for the worker and masters, `ruok` for each ZooKeeper server.
 */
import Table from "cli-table3";
import type { Candidate } from "../../election/decisions.ts";
import { checkHealth, describeGrpcError, type TlsCredentials } from "../../grpc/grpc.ts";
import type { Backend, Endpoints } from "../backend.ts";
import { MASTERS } from "../backend.ts";
import { readLabElection } from "../probes/election_probe.ts";
import { zooKeeperHealth } from "../../zookeeper/four_letter_words.ts";

/** Deadline of each health probe. */
const PROBE_TIMEOUT_MS = 1000;

/** One row of the health table. */
export interface HealthRow {
  readonly service: string;
  readonly address: string;
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

function table(head: string[]): Table.Table {
  // No colours: the output is read in terminals, logs and CI alike.
  return new Table({ head, style: { head: [], border: [] } });
}

/** The election table: nodes in order, leader first. */
export function electionTable(order: readonly Candidate[]): string {
  const rows = table(["#", "node", "owner session", "name", "address", "epoch", "role"]);
  order.forEach((candidate, index) =>
    rows.push([
      String(index + 1),
      candidate.node,
      `0x${candidate.owner.toString(16)}`,
      candidate.name,
      candidate.address,
      String(candidate.epoch),
      index === 0 ? "leader" : "follower",
    ])
  );
  return rows.toString();
}

/**
 * The health column's form of a gRPC error: the code and the cause only, so the table stays as
 * narrow when a service is down as when it is up (`UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:7070`).
 */
export function briefGrpcError(error: unknown): string {
  return describeGrpcError(error).replace(
    /^(\w+): No connection established\. Last error: /,
    "$1: ",
  );
}

/** Probes every service at once; gRPC ones with mutual TLS when `tls` is given. */
export function probeHealth(endpoints: Endpoints, tls?: TlsCredentials): Promise<HealthRow[]> {
  const grpcProbe = async (service: string, address: string): Promise<HealthRow> => {
    try {
      const status = await checkHealth(address, { timeoutMs: PROBE_TIMEOUT_MS, tls });
      return { service, address, check: "grpc health", ok: status === "SERVING", detail: status };
    } catch (error) {
      return {
        service,
        address,
        check: "grpc health",
        ok: false,
        detail: briefGrpcError(error),
      };
    }
  };
  return Promise.all([
    ...endpoints.zookeeper.map(async ({ service, address }): Promise<HealthRow> => ({
      service,
      address,
      check: "ruok",
      ...await zooKeeperHealth(address, { timeoutMs: PROBE_TIMEOUT_MS }),
    })),
    grpcProbe("worker", endpoints.worker),
    ...MASTERS.map((name) => grpcProbe(name, endpoints.masters[name])),
  ]);
}

/** Prints both tables; resolves with 0 when the election has a leader and every service is up. */
export async function statusCommand(
  backend: Backend,
  options: { tls?: TlsCredentials } = {},
): Promise<number> {
  const endpoints = await backend.endpoints();
  const [election, health] = await Promise.all([
    readLabElection(endpoints).catch((error: Error) => error),
    probeHealth(endpoints, options.tls),
  ]);
  console.log(
    `Backend: ${backend.name}; election path: ${endpoints.electionPath}; gRPC: ${
      options.tls ? "mutual TLS" : "plaintext"
    }`,
  );
  if (election instanceof Error) {
    console.log(`Cannot read the election: ${election.message}`);
  } else if (election.length === 0) {
    console.log("The election is empty: no master has joined");
  } else {
    console.log(electionTable(election));
  }
  const rows = table(["service", "address", "check", "health"]);
  for (const row of health) {
    rows.push([row.service, row.address, row.check, `${row.ok ? "ok" : "DOWN"}: ${row.detail}`]);
  }
  console.log(rows.toString());
  const healthy = !(election instanceof Error) && election.length > 0 && health.every((r) => r.ok);
  return healthy ? 0 : 1;
}
