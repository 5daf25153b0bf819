/**
 * The CLI's short-lived look at the election: one ZooKeeper session per command, read with the same
 * `readElection` the masters and the worker use, so the CLI agrees with them on who leads.
 */
import type { Candidate } from "../../election/decisions.ts";
import { readElection } from "../../election/read_election.ts";
import { connectZk, type ZkClient } from "../../zookeeper/client.ts";
import type { Endpoints } from "../backend.ts";
import { waitFor } from "../../common/wait.ts";

/**
 * Opens one session to the lab's ZooKeeper, runs `use`, and always closes the session. With
 * `readyTimeoutMs`, connection attempts are repeated that long (ZooKeeper may still be starting).
 */
export async function withZooKeeper<T>(
  endpoints: Endpoints,
  use: (client: ZkClient) => Promise<T>,
  options: { readyTimeoutMs?: number } = {},
): Promise<T> {
  const connect = () =>
    connectZk({
      servers: endpoints.zookeeper.map((server) => server.address),
      sessionTimeoutMs: 4000,
      connectTimeoutMs: 3000,
      operationTimeoutMs: 3000,
    });
  const client = options.readyTimeoutMs === undefined ? await connect() : await waitFor(connect, {
    timeoutMs: options.readyTimeoutMs,
    intervalMs: 200,
    message: `ZooKeeper at ${endpoints.zookeeper.map((server) => server.address).join(",")}`,
  });
  try {
    return await use(client);
  } finally {
    await client.close(1000);
  }
}

/** The election as ZooKeeper holds it now, leader first. */
export function readLabElection(endpoints: Endpoints): Promise<Candidate[]> {
  return withZooKeeper(endpoints, (client) => readElection(client, endpoints.electionPath));
}

/** Whether a master's log line is `message` with this epoch (text `epoch=N` or JSON `"epoch":"N"`). */
export function isEventFor(line: string, message: string, epoch: bigint): boolean {
  if (!line.includes(message)) return false;
  return new RegExp(`(epoch=|"epoch":"?)${epoch}(\\D|$)`).test(line);
}

/** A new leader logs this once the worker has performed its `leader_election` task. */
export const ACCEPTED = "The worker accepted our leadership";

/**
 * Waits until a master named `name` has a node in the election that is not one of `before` (a
 * restarted master's new node, not a stale one of its previous session); resolves with the order.
 */
export function waitForRejoin(
  client: ZkClient,
  electionPath: string,
  name: string,
  options: { before: readonly Candidate[]; timeoutMs: number },
): Promise<Candidate[]> {
  const old = new Set(options.before.map((candidate) => candidate.node));
  return waitFor(async () => {
    const order = await readElection(client, electionPath);
    return order.some((c) => c.name === name && !old.has(c.node)) ? order : undefined;
  }, { timeoutMs: options.timeoutMs, intervalMs: 20, message: `${name} to join the election` });
}
