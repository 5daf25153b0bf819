/** Five masters: each watches only its predecessor, so a leader's death wakes one master. */
import assert from "node:assert/strict";
import { eventsOf, lastRole, waitForEvent } from "../harness/events.ts";
import { startLab } from "../harness/lab.ts";
import type { LabProcess } from "../harness/process.ts";

/** Parses ZooKeeper's `wchp` answer: watched path → watching session ids. */
function watchesByPath(text: string): Map<string, Set<string>> {
  const watches = new Map<string, Set<string>>();
  let path = "";
  for (const line of text.split("\n")) {
    if (line.startsWith("/")) watches.set(path = line.trim(), new Set());
    else if (line.trim().startsWith("0x")) watches.get(path)?.add(line.trim());
  }
  return watches;
}

Deno.test("with five masters, killing the leader wakes only its successor (no herd)", async () => {
  await using lab = await startLab({ masters: 5, sessionTimeoutMs: 1000 });
  const { leader } = await lab.waitForSingleLeader();
  const sessionOf = (process: LabProcess) =>
    eventsOf(process, "Connected to ZooKeeper")[0].record.session as string;
  // Election order: each follower names the node it watches; the leader's watcher is its successor.
  await Promise.all(
    lab.masters.filter((m) => m !== leader).map((m) => waitForEvent(m, "I am the follower")),
  );
  const leaderNode = eventsOf(leader, "I am the leader")[0].record.node as string;
  const successor = lab.masters.find((m) =>
    eventsOf(m, "I am the follower").some((e) => e.record.watching === leaderNode)
  )!;
  assert.ok(successor, "one follower watches the leader");

  // ZooKeeper's own view of the watches: the leader's node is watched by its owner, its
  // successor and the worker (whose fence watches every master node, epoch_fence.ts), and by no
  // other master.
  const watches = watchesByPath(await lab.zk.fourLetter("wchp"));
  const watchers = watches.get(`${lab.electionPath}/${leaderNode}`);
  assert.deepEqual(
    [...(watchers ?? [])].sort(),
    [leader, successor, lab.worker!].map((p) => sessionOf(p).toLowerCase()).sort(),
  );

  const others = lab.masters.filter((m) => m !== leader && m !== successor);
  const marks = others.map((m) => m.lines.length);
  leader.signal("SIGKILL");
  await waitForEvent(successor, "I am the leader", {
    where: (r) => r.epoch !== undefined,
    timeoutMs: 5000,
  });
  await lab.waitForSingleLeader();
  // Nobody else changed its mind: no transition line from the other followers.
  others.forEach((m, i) => {
    const transitions = m.lines.slice(marks[i]).filter((line) =>
      /"msg":"(I am the leader|I am no longer the leader|Left the election for now)"/.test(
        line.text,
      ) ||
      /"msg":"I am the follower","leader"/.test(line.text)
    );
    assert.deepEqual(transitions, [], `${m.name} was woken`);
    assert.equal(lastRole(m), "follower");
  });
});
