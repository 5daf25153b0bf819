/**
 * The lab's walkthrough on the local backend, for real: `deno task up` starts ZooKeeper, the worker
 * and two masters as background processes, then rpc, logs, status, stop/start of the leader,
 * failover and down run as a newcomer would run them. Each test has its own state folder and
 * ports, and always ends with `down` and a check that none of its processes is left.
 */
import assert from "node:assert/strict";
import { isAlive, LocalLab } from "../harness/local_lab.ts";

Deno.test("deno task up --backend local runs the walkthrough: rpc, logs, stop, start, failover, down", async () => {
  const lab = new LocalLab();
  let pids: number[] = [];
  try {
    const up = await lab.ok("up", "--backend", "local");
    assert.match(up, /Starting the lab with the local backend/);
    assert.match(up, /^master1 is the leader \(epoch \d+\)$/m);
    pids = lab.pids();
    assert.equal(pids.length, 4, "zookeeper, worker, master1 and master2 run");

    assert.match(
      await lab.ok("rpc"),
      /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d We got: Hello, worker! gatech$/m,
    );

    const logs = await lab.ok("logs");
    assert.match(logs, /^master1 +\| .* I am the leader epoch=\d+/m);
    assert.match(logs, /^master2 +\| .* I am the follower leader=master1/m);
    assert.match(logs, /^worker +\| .* Performing task: leader_election$/m);
    // The first screen as the original lab's: the masters and the worker only, the worker
    // serving before the first leader calls it.
    assert.doesNotMatch(logs, /^zookeeper +\|/m);
    assert.doesNotMatch(logs, /Cannot reach the worker/);
    assert.match(await lab.ok("logs", "zookeeper"), /^zookeeper +\| /m);
    assert.match(await lab.ok("status"), /master1 .* leader/);

    // The walkthrough: stop the leader, the other master leads and the worker accepts it.
    const workerMark = lab.log("worker").length;
    const master2Mark = lab.log("master2").length;
    assert.match(await lab.ok("stop", "master1"), /Stopped master1/);
    await lab.waitForLog("master2", /I am the leader epoch=\d+/, master2Mark);
    await lab.waitForLog("master2", /The worker accepted our leadership/, master2Mark);
    await lab.waitForLog("worker", /Performing task: leader_election/, workerMark);

    const master1Mark = lab.log("master1").length;
    const start = await lab.ok("start", "master1");
    assert.match(start, /^master1 joined the election as a follower of master2$/m);
    await lab.waitForLog("master1", /I am the follower leader=master2/, master1Mark);

    const failover = await lab.ok("failover");
    assert.match(failover, /^master2 is the leader \(epoch \d+\); stopping it$/m);
    assert.match(failover, /^ +0 {2}stop sent to master2$/m);
    assert.match(failover, /^ +\d+ {2}master2's election node is gone$/m);
    assert.match(failover, /^ +\d+ {2}master1 is first in the election \(epoch \d+\)$/m);
    assert.match(failover, /^ +\d+ {2}the worker accepted master1's epoch \d+$/m);
    assert.match(failover, /^master2 rejoined as a follower of master1 after \d+ ms/m);

    pids = [...new Set([...pids, ...lab.pids()])];
    assert.match((await lab.ok("down")).trim(), /Stopped zookeeper$/);
    assert.deepEqual(pids.filter(isAlive), [], "down leaves no process running");
  } finally {
    await lab.close(pids);
  }
});

Deno.test("deno task rpc exits non-zero with a clear message when the worker is down", async () => {
  const lab = new LocalLab();
  let pids: number[] = [];
  try {
    await lab.ok("up", "--backend", "local");
    pids = lab.pids();
    await lab.ok("stop", "worker");
    const startedAt = Date.now();
    const rpc = await lab.task("rpc");
    assert.equal(rpc.code, 1);
    assert.match(
      rpc.stderr,
      /^Cannot call the worker at 127\.0\.0\.1:\d+: UNAVAILABLE: .*deno task up/m,
    );
    assert.ok(Date.now() - startedAt < 5000, "the call gives up after its 2 s deadline");
  } finally {
    await lab.close(pids);
  }
});

Deno.test("deno task up --ensemble keeps the election through the loss of one ZooKeeper server", async () => {
  const lab = new LocalLab();
  let pids: number[] = [];
  try {
    assert.match(await lab.ok("up", "--backend", "local", "--ensemble"), /^master1 is the leader/m);
    pids = lab.pids();
    assert.equal(pids.length, 6, "zoo1..zoo3, worker, master1 and master2 run");
    assert.match(await lab.ok("stop", "zookeeper2"), /Stopped zoo2/);
    const status = await lab.task("status");
    assert.equal(status.code, 1, "status reports the stopped server");
    assert.match(status.stdout, /zoo2 .* DOWN/);
    assert.match(status.stdout, /master1 .* leader/);
    assert.match(await lab.ok("rpc"), /We got: Hello, worker! gatech/);
    assert.match(await lab.ok("failover"), /the worker accepted master2's epoch/);
  } finally {
    await lab.close(pids);
  }
});
