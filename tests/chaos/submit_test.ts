/** `deno task submit`: one final answer per task, also while the leader is killed. */
import assert from "node:assert/strict";
import { parseSubmitCommand, SubmitUsageError } from "../../lib/lab/commands/submit.ts";
import { spawnLab } from "../harness/process.ts";
import { startZooKeeper } from "../harness/zookeeper.ts";
import { readJournalFile } from "./checker.ts";
import { startCluster } from "./cluster.ts";

Deno.test("parseSubmitCommand reads the message, --count and the ZooKeeper settings", () => {
  assert.deepEqual(parseSubmitCommand(["hello", "world", "--count", "3"], {}), {
    message: "hello world",
    count: 3,
    zkServers: ["localhost:2181"],
    electionPath: "/election",
    zkAuth: undefined,
  });
  const custom = parseSubmitCommand(["hi"], {
    ZK_SERVERS: "zoo1:2181, zoo2:2181",
    ELECTION_PATH: "/lab/election",
    ZK_AUTH: "lab:secret",
  });
  assert.deepEqual(custom.zkServers, ["zoo1:2181", "zoo2:2181"]);
  assert.equal(custom.electionPath, "/lab/election");
  assert.equal(custom.zkAuth, "lab:secret");
});

for (
  const [args, env, message] of [
    [[], {}, /submit needs a message/],
    [["hi", "--count", "0"], {}, /--count must be an integer from 1 to 100000: got "0"/],
    [["hi", "--count", "many"], {}, /--count must be an integer .*: got "many"/],
    [["hi", "--fast"], {}, /Unknown option '--fast'/],
    [["hi"], { ZK_SERVERS: "nohost" }, /"ZK_SERVERS" must be .*: current value is "nohost"/],
    [["hi"], { ELECTION_PATH: "election" }, /"ELECTION_PATH" must be .*"election"/],
  ] as const
) {
  Deno.test(`parseSubmitCommand refuses ${JSON.stringify(args)} ${JSON.stringify(env)}`, () => {
    assert.throws(() => parseSubmitCommand(args, env), (error: Error) => {
      assert.ok(error instanceof SubmitUsageError);
      assert.match(error.message, message);
      return true;
    });
  });
}

Deno.test("submit exits 2 with the usage when the message is missing", async () => {
  const submit = spawnLab("tests/chaos/submit_cli.ts", { name: "submit", env: {} });
  assert.equal((await submit.exited).code, 2);
  assert.ok(submit.count("Usage: deno task submit <message> [--count N]") === 1);
});

Deno.test("submit answers every task exactly once while the leader is killed", async () => {
  await using zk = await startZooKeeper();
  await using cluster = await startCluster({
    zkServers: zk.connectString,
    masters: 2,
    sessionTimeoutMs: 1000,
  });
  const { leader } = await cluster.waitForOneLeader();
  const count = 300;
  const submit = spawnLab("tests/chaos/submit_cli.ts", {
    name: "submit",
    args: ["hello", "--count", String(count)],
    env: { ZK_SERVERS: zk.connectString, ELECTION_PATH: cluster.electionPath },
  });
  try {
    await submit.waitForLine(/ Task \S+-20: /, { timeoutMs: 20_000 });
    cluster.signal(leader, "SIGKILL");
    const status = await submit.exited;
    const answers = submit.lines.filter((line) => / Task \S+: hello gatech /.test(line.text));
    assert.equal(answers.length, count, submit.lines.map((line) => line.text).join("\n"));
    assert.equal(status.code, 0);
    // The failover happened during the run: some answer came from the other master.
    assert.ok(answers.some((line) => !line.text.includes(`leader=${leader.name} `)));
    const ids = answers.map((line) => / Task (\S+): /.exec(line.text)![1]);
    const performed = (await readJournalFile(cluster.journalPath)).lines
      .flatMap((entry) => entry.type === "task" && ids.includes(entry.task) ? [entry.task] : []);
    assert.deepEqual(performed.sort(), [...ids].sort(), "each task performed exactly once");
  } finally {
    await submit.stop();
  }
  assert.deepEqual(await cluster.stopAll(), []);
});
