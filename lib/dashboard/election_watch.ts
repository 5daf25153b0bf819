/**
 * The dashboard's own ZooKeeper session, watching the election (push, not polling): a child watch
 * on the election path and a data watch on the leader's node, each read done with the same
 * `readElection` the masters use. The session is the masters' own `ZkSession` (reconnects with
 * backoff, drops a silent connection, replaces an expired session), so it never blocks anything:
 * while ZooKeeper is down the state says so, and it catches up by itself.
 */
import { readElection } from "../election/read_election.ts";
import { type ZkClient, ZkError } from "../zookeeper/client.ts";
import { ZkSession } from "../zookeeper/session.ts";
import type { DashboardInput } from "./state_model.ts";

/** Options of {@linkcode watchElection}. */
export interface WatchElectionOptions {
  readonly servers: readonly string[];
  readonly electionPath: string;
  readonly onInput: (input: DashboardInput) => void;
  readonly signal: AbortSignal;
  /** Called with the live client (undefined while disconnected), e.g. for submitting tasks. */
  readonly onClient?: (client: ZkClient | undefined) => void;
}

/** Watches until `signal` aborts; resolves then. */
export async function watchElection(options: WatchElectionOptions): Promise<void> {
  const { signal, onInput } = options;
  const where = options.servers.join(",");
  const down = (message: string) =>
    onInput({ type: "zookeeper", at: Date.now(), connected: false, message });
  // The session's own log lines are the dashboard's business only when they say it cannot connect.
  const quiet = () => {};
  const logger = {
    info: quiet,
    error: quiet,
    warn: (message: string) => {
      if (message === "Cannot connect to ZooKeeper") {
        down(`ZooKeeper is down: no answer from ${where}`);
      }
    },
  };
  let reader: { stop(): void; read(): void; client: ZkClient } | undefined;
  const session = new ZkSession({
    zkServers: options.servers,
    sessionTimeoutMs: 4000,
    electionPath: options.electionPath,
  }, {
    logger,
    onEvent: (event) => {
      if (event.type === "connected") {
        if (reader?.client !== event.client) {
          reader?.stop();
          reader = readerFor(event.client, options);
        }
        onInput({
          type: "zookeeper",
          at: Date.now(),
          connected: true,
          message: `Connected to ${where}`,
        });
        options.onClient?.(event.client);
        return reader.read();
      }
      options.onClient?.(undefined);
      if (event.type === "lost") {
        reader?.stop();
        reader = undefined;
      }
      down(`ZooKeeper is down: ${event.reason}`);
    },
  });
  session.start();
  await new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
  reader?.stop();
  await session.close();
}

/** Reads the election with `client`, again after every watch that fires, until stopped. */
function readerFor(client: ZkClient, options: WatchElectionOptions) {
  const { electionPath, onInput } = options;
  let reading = false;
  let again = false;
  let stopped = false;
  let leaderNode: string | undefined;
  // A watch fires once; each read sets them again. Reads never overlap: a change during one
  // makes one more.
  const onChange = () => read();
  const onLeaderNode = (event: { type: string; path: string }) => {
    if (event.type === "NODE_DELETED" && !stopped) {
      onInput({ type: "node-gone", at: Date.now(), node: event.path.split("/").pop()! });
    }
    read();
  };
  const read = async () => {
    if (stopped) return;
    if (reading) return void (again = true);
    reading = true;
    try {
      do {
        again = false;
        const at = Date.now();
        // The raw listing (with the watch) and the masters' own read go out together: one round
        // trip. Both are answered in order by the same server; a change between them fires the
        // watch, and the next read shows it.
        const [children, order] = await Promise.all([
          client.getChildren(electionPath, onChange).catch(async (error) => {
            if (!(error instanceof ZkError && error.code === "NO_NODE")) throw error;
            // No election yet: learn when the path is made.
            await client.exists(electionPath, onChange);
            return [] as string[];
          }),
          readElection(client, electionPath),
        ]);
        if (stopped) return;
        const members = new Set(order.map((candidate) => candidate.node));
        onInput({
          type: "election",
          at,
          chain: order.map((candidate) => ({
            node: candidate.node,
            name: candidate.name,
            address: candidate.address,
            epoch: String(candidate.epoch),
            owner: `0x${candidate.owner.toString(16)}`,
          })),
          ignored: children.filter((child) => !members.has(child)).sort(),
        });
        // After telling: a new leader is shown without waiting for its node's watch to be set.
        if (order[0] && order[0].node !== leaderNode) {
          // Gone already between the reads: the next read shows it.
          if (!await client.exists(`${electionPath}/${order[0].node}`, onLeaderNode)) again = true;
        }
        leaderNode = order[0]?.node;
      } while (again && !stopped);
    } catch {
      // Disconnected meanwhile (the session reports it, and reads again once connected) or a
      // slow answer: try again shortly.
      setTimeout(() => read(), 500);
    } finally {
      reading = false;
    }
  };
  return { client, read, stop: () => void (stopped = true) };
}
