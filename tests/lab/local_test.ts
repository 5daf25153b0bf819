/**
 * The lab's walkthrough on the local backend, for real: `deno task up` starts ZooKeeper, the worker
 * and two masters as background processes, then rpc, logs, status, stop/start of the leader,
 * failover and down run as a newcomer would run them. Each test has its own state folder and
 * ports, and always ends with `down` and a check that none of its processes is left.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePorts } from "../../lib/common/ports.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** A lab of one test: its environment and how to run its tasks. */
class LocalLab {
  readonly stateDir = Deno.makeTempDirSync({ prefix: "lab-local-test-" });
  readonly env: Record<string, string>;

  constructor() {
    const [zookeeper, worker, master1, master2, zoo1, zoo2, zoo3] = freePorts(7);
    this.env = {
      LAB_STATE_DIR: this.stateDir,
      LAB_ZK_PORT: String(zookeeper),
      LAB_WORKER_PORT: String(worker),
      LAB_MASTER1_PORT: String(master1),
      LAB_MASTER2_PORT: String(master2),
      LAB_ZOO1_PORT: String(zoo1),
      LAB_ZOO2_PORT: String(zoo2),
      LAB_ZOO3_PORT: String(zoo3),
      NO_COLOR: "1",
    };
  }

  /** Runs `deno task <args>` in the project root; resolves with its exit code and output. */
  async task(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["task", ...args],
      cwd: ROOT,
      env: this.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
  }

  /** Like {@linkcode task}, but fails the test on a non-zero exit. */
  async ok(...args: string[]): Promise<string> {
    const result = await this.task(...args);
    assert.equal(
      result.code,
      0,
      `deno task ${args.join(" ")} failed:\n${result.stdout}${result.stderr}`,
    );
    return result.stdout;
  }

  /** The text of one service's log file. */
  log(service: string): string {
    try {
      return Deno.readTextFileSync(join(this.stateDir, "logs", `${service}.log`));
    } catch {
      return "";
    }
  }

  /** Waits until `service`'s log matches `pattern` (at or after character `from`). */
  async waitForLog(service: string, pattern: RegExp, from = 0, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.log(service).slice(from))) {
      if (Date.now() > deadline) {
        assert.fail(
          `${service} did not log ${pattern} within ${timeoutMs} ms:\n${this.log(service)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** The pids in the state folder's pid files. */
  pids(): number[] {
    try {
      return [...Deno.readDirSync(join(this.stateDir, "run"))].map((entry) =>
        Number(Deno.readTextFileSync(join(this.stateDir, "run", entry.name)).split(" ")[0])
      );
    } catch {
      return [];
    }
  }

  /** Takes the lab down (whatever state it is in) and removes its folder. */
  async close(pids: readonly number[]): Promise<void> {
    // --backend local: after the test's own `down` no state is left, and without it `down` would
    // pick Compose whenever a Docker engine answers, taking down a real stack on this machine.
    await this.task("down", "--backend", "local");
    // The test must not leave processes behind, even if `down` failed.
    for (const pid of [...pids, ...this.pids()].filter(isAlive)) Deno.kill(pid, "SIGKILL");
    Deno.removeSync(this.stateDir, { recursive: true });
  }
}

/** True while `pid` runs (a zombie waiting for its parent to reap it counts as gone). */
function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

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
