/**
 * `failover`: stops the leader cleanly and measures, from the moment the stop was sent, when its
 * election node vanished (an exists watch), when another master came first in the election, when
 * that master said it leads and when the worker accepted its epoch (its log lines, matched by
 * epoch). Then it restarts the stopped master and waits for it to rejoin as a follower.
 */
import type { Candidate } from "../../election/decisions.ts";
import { readElection } from "../../election/read_election.ts";
import type { ZkClient } from "../../zookeeper/client.ts";
import { type Backend, type Endpoints, LabError } from "../backend.ts";
import { ACCEPTED, isEventFor, waitForRejoin, withZooKeeper } from "../probes/election_probe.ts";
import { deadline, waitFor } from "../../common/wait.ts";

/** How long each step of the failover may take. */
const STEP_TIMEOUT_MS = 20_000;
/** How long a master that is still joining is waited for before the failover is refused. */
const JOIN_GRACE_MS = 10_000;

/** One point of the timeline. */
export interface TimelineMark {
  readonly ms: number;
  readonly event: string;
}

/** The timeline as printed: one line per mark, milliseconds right-aligned. */
export function formatTimeline(marks: readonly TimelineMark[]): string {
  const sorted = [...marks].sort((a, b) => a.ms - b.ms);
  return ["Failover timeline (ms after the stop was sent):"]
    .concat(sorted.map(({ ms, event }) => `${String(Math.round(ms)).padStart(7)}  ${event}`))
    .join("\n");
}

/** Resolves with the time the node at `path` is deleted (now, if it is already gone). */
function whenDeleted(client: ZkClient, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const watcher = () => {
      // Any event (deleted, data changed) ends this watch: look again, re-arming it.
      client.exists(path, watcher).then(
        (stat) => stat ? undefined : resolve(performance.now()),
        reject,
      );
    };
    client.exists(path, watcher).then(
      (stat) => stat ? undefined : resolve(performance.now()),
      reject,
    );
  });
}

/** The failover itself, with the CLI's ZooKeeper session open. */
async function failover(backend: Backend, endpoints: Endpoints, client: ZkClient): Promise<void> {
  const electionPath = endpoints.electionPath;
  // A master started a moment ago may still be joining: give it a few seconds.
  const before = await waitFor(async () => {
    const order = await readElection(client, electionPath);
    return order.length >= 2 ? order : undefined;
  }, { timeoutMs: JOIN_GRACE_MS, intervalMs: 50, message: "two masters in the election" }).catch(
    async () => await readElection(client, electionPath),
  );
  const leader = before[0];
  if (!leader) {
    throw new LabError('Cannot fail over: there is no leader (is the lab up? "deno task up")');
  }
  if (before.length < 2) {
    throw new LabError(`Cannot fail over: ${leader.name} is the only master in the election`);
  }
  console.log(`${leader.name} is the leader (epoch ${leader.epoch}); stopping it`);
  const nodeGone = whenDeleted(client, `${electionPath}/${leader.node}`);
  const start = performance.now();
  const marks: TimelineMark[] = [{ ms: 0, event: `stop sent to ${leader.name}` }];
  const mark = (at: number, event: string) => marks.push({ ms: at - start, event });
  const stopped = backend.stop(leader.name).then(() =>
    mark(performance.now(), `${leader.name} has stopped`)
  );
  // A failed stop must end the wait for the node, not leave it hanging.
  const stopFailed = stopped.then(() => new Promise<never>(() => {}));
  const goneAt = await deadline(
    Promise.race([nodeGone, stopFailed]),
    STEP_TIMEOUT_MS,
    `${leader.name}'s election node to vanish`,
  );
  mark(goneAt, `${leader.name}'s election node is gone`);
  const next = await waitFor(async () => {
    const [first] = await readElection(client, electionPath);
    return first && first.node !== leader.node ? first : undefined;
  }, { timeoutMs: STEP_TIMEOUT_MS, intervalMs: 5, message: "a new first candidate" });
  mark(performance.now(), `${next.name} is first in the election (epoch ${next.epoch})`);
  await watchNewLeader(backend, next, mark);
  await stopped;
  console.log(formatTimeline(marks));
  await rejoin(backend, client, electionPath, leader.name, next);
}

/** Polls the new leader's log for its "I am the leader" and the worker's acceptance. */
async function watchNewLeader(
  backend: Backend,
  next: Candidate,
  mark: (at: number, event: string) => void,
): Promise<void> {
  let leading = false;
  await waitFor(async () => {
    const lines = await backend.recentLines(next.name, 50);
    if (!leading && lines.some((line) => isEventFor(line, "I am the leader", next.epoch))) {
      leading = true;
      mark(performance.now(), `${next.name} logged "I am the leader"`);
    }
    if (!lines.some((line) => isEventFor(line, ACCEPTED, next.epoch))) return undefined;
    mark(performance.now(), `the worker accepted ${next.name}'s epoch ${next.epoch}`);
    return true;
  }, {
    timeoutMs: STEP_TIMEOUT_MS,
    intervalMs: backend.name === "local" ? 5 : 50,
    message: `the worker to accept ${next.name}'s leadership`,
  });
}

/** Starts the stopped master again and waits until it is a follower in the election. */
async function rejoin(
  backend: Backend,
  client: ZkClient,
  electionPath: string,
  name: string,
  leader: Candidate,
): Promise<void> {
  console.log(`Restarting ${name}`);
  const start = performance.now();
  const before = await readElection(client, electionPath);
  await backend.start(name);
  const order = await waitForRejoin(client, electionPath, name, {
    before,
    timeoutMs: STEP_TIMEOUT_MS,
  });
  const ms = Math.round(performance.now() - start);
  const roles = order.map((c, index) => `${c.name} (${index === 0 ? "leader" : "follower"})`);
  console.log(
    `${name} rejoined as a follower of ${leader.name} after ${ms} ms: ${roles.join(", ")}`,
  );
}

/** Runs the failover and prints its timeline. */
export async function failoverCommand(backend: Backend): Promise<void> {
  const endpoints = await backend.endpoints();
  await withZooKeeper(endpoints, (client) => failover(backend, endpoints, client));
}
