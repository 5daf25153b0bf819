/**
 * `start <service>`: starts a stopped service; a master is also awaited until it is back in the
 * election, and its role is printed, so `make start-master1` shows the rejoin the walkthrough
 * talks about.
 */
import { readElection } from "../../election/read_election.ts";
import { type Backend, MASTERS } from "../backend.ts";
import { waitForRejoin, withZooKeeper } from "../probes/election_probe.ts";

/** How long a restarted master may take to join the election. */
const JOIN_TIMEOUT_MS = 20_000;

/** Starts `service` and, for a master, reports its place in the election. */
export async function startCommand(backend: Backend, service: string): Promise<void> {
  if (!(MASTERS as readonly string[]).includes(service)) return await backend.start(service);
  const endpoints = await backend.endpoints();
  let started = false;
  try {
    await withZooKeeper(endpoints, async (client) => {
      const before = await readElection(client, endpoints.electionPath);
      started = true;
      await backend.start(service);
      const order = await waitForRejoin(client, endpoints.electionPath, service, {
        before,
        timeoutMs: JOIN_TIMEOUT_MS,
      });
      const [leader] = order;
      console.log(
        leader.name === service
          ? `${service} joined the election and leads (epoch ${leader.epoch})`
          : `${service} joined the election as a follower of ${leader.name}`,
      );
    });
  } catch (error) {
    if (started) throw error;
    // ZooKeeper is down too: the master still starts (and joins once ZooKeeper is back).
    await backend.start(service);
    console.log(`Cannot see the election: ${error instanceof Error ? error.message : error}`);
  }
}
