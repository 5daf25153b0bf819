/**
 * `up`: starts the lab with the chosen backend, then waits until ZooKeeper has a leader and that
 * leader has logged that the worker accepted its epoch, the point where the walkthrough can go on.
 */
import type { Candidate } from "../../election/decisions.ts";
import type { Backend, Endpoints } from "../backend.ts";
import { readElection } from "../../election/read_election.ts";
import type { ZkClient } from "../../zookeeper/client.ts";
import { ACCEPTED, isEventFor, withZooKeeper } from "../probes/election_probe.ts";
import { waitFor } from "../../common/wait.ts";

/** Waits for a leader whose `leader_election` call the worker performed; resolves with it. */
export function waitForAcceptedLeader(
  backend: Backend,
  endpoints: Endpoints,
  options: { timeoutMs: number },
): Promise<Candidate> {
  const deadline = Date.now() + options.timeoutMs;
  const poll = (client: ZkClient) =>
    waitFor(async () => {
      const [leader] = await readElection(client, endpoints.electionPath);
      if (!leader) return undefined;
      // The epoch ties the line to this leadership, not to an earlier one in the same log.
      const lines = await backend.recentLines(leader.name, 200);
      return lines.some((line) => isEventFor(line, ACCEPTED, leader.epoch)) ? leader : undefined;
    }, {
      timeoutMs: Math.max(0, deadline - Date.now()),
      intervalMs: 50,
      message: "a leader accepted by the worker",
    });
  // One session for the whole wait (Compose may still be building when it starts).
  return withZooKeeper(endpoints, poll, { readyTimeoutMs: options.timeoutMs });
}

/** Runs `up` and prints who leads. */
export async function upCommand(
  backend: Backend,
  options: { ensemble: boolean; tls?: boolean },
): Promise<void> {
  const startedAt = performance.now();
  console.log(
    `Starting the lab with the ${backend.name} backend${
      options.ensemble ? " and a three-server ZooKeeper ensemble" : ""
    }${options.tls ? ", mutual TLS on every gRPC connection" : ""}`,
  );
  await backend.up(options);
  const leader = await waitForAcceptedLeader(backend, await backend.endpoints(), {
    timeoutMs: backend.upTimeoutMs,
  });
  console.log(`${leader.name} is the leader (epoch ${leader.epoch})`);
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  console.log(`The lab is up after ${seconds} s: try "deno task rpc" or "deno task status"`);
  console.log(
    `Watch it live: "deno task dashboard", then open ${dashboardUrl(Deno.env.toObject())}`,
  );
}

/** Where `deno task dashboard` will listen with this environment (the default when unreadable). */
function dashboardUrl(env: Record<string, string>): string {
  const port = env["LAB_DASHBOARD_PORT"]?.trim();
  const host = env["LAB_DASHBOARD_HOST"]?.trim() || "127.0.0.1";
  return `http://${host}:${/^\d{1,5}$/.test(port ?? "") ? port : "8080"}/`;
}
