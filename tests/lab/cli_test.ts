/** The lab CLI's pure parts: command line, settings, ZooKeeper config, service wiring, output. */
import assert from "node:assert/strict";
import { parseCommandLine, UsageError } from "../../lib/lab/command_line.ts";
import { isEventFor } from "../../lib/lab/probes/election_probe.ts";
import { formatTimeline } from "../../lib/lab/commands/failover.ts";
import { localServices } from "../../lib/lab/local/services.ts";
import { renderZooCfg } from "../../lib/zookeeper/launcher.ts";
import { logPrefix } from "../../lib/lab/local/log_files.ts";
import { parseLabSettings } from "../../lib/lab/settings.ts";
import type { LocalLayout } from "../../lib/lab/state.ts";

Deno.test("parseCommandLine reads each command with its options", () => {
  assert.deepEqual(parseCommandLine(["up", "--ensemble", "--backend", "local"]), {
    command: "up",
    backend: "local",
    ensemble: true,
  });
  assert.deepEqual(parseCommandLine(["logs", "master1", "-f", "-n", "5"]), {
    command: "logs",
    backend: undefined,
    service: "master1",
    follow: true,
    lines: 5,
  });
  assert.deepEqual(parseCommandLine(["logs"]), {
    command: "logs",
    backend: undefined,
    service: undefined,
    follow: false,
    lines: 20,
  });
  assert.deepEqual(parseCommandLine(["status"]), { command: "status", backend: undefined });
  assert.deepEqual(parseCommandLine([]), { command: "help" });
  assert.deepEqual(parseCommandLine(["up", "--help"]), { command: "help" });
});

Deno.test("parseCommandLine names the README's zookeeper2 zoo2, as both backends do", () => {
  assert.deepEqual(parseCommandLine(["stop", "zookeeper2"]), {
    command: "stop",
    backend: undefined,
    service: "zoo2",
  });
});

Deno.test("parseCommandLine rejects bad command lines with a message naming the problem", () => {
  const rejects = (args: string[], message: string) =>
    assert.throws(() => parseCommandLine(args), (error: Error) => {
      assert.ok(error instanceof UsageError);
      assert.equal(error.message, message);
      return true;
    });
  rejects(["launch"], 'Unknown command "launch"');
  rejects(["up", "--backend", "podman"], '--backend must be "local" or "compose": got "podman"');
  rejects(["rpc", "--ensemble"], "--ensemble is an option of up, not of rpc");
  rejects(["stop"], 'stop needs a service, e.g. "stop master1"');
  rejects(["start", "master1", "master2"], "Too many arguments for start: master1 master2");
  rejects(["logs", "-n", "0"], '--lines must be a positive integer: got "0"');
  assert.throws(() => parseCommandLine(["up", "--fast"]), UsageError);
});

Deno.test("parseLabSettings defaults to .lab in the project and the original ports", () => {
  const settings = parseLabSettings({}, "/project");
  assert.equal(settings.stateDir, "/project/.lab");
  assert.deepEqual(settings.ports, {
    zookeeper: 2181,
    zoo: [2182, 2183, 2184],
    worker: 7070,
    master1: 50051,
    master2: 50052,
  });
  assert.equal(settings.electionPath, "/election");
  assert.equal(settings.composeZkServers, undefined);
  assert.ok(Object.isFrozen(settings));
});

Deno.test("parseLabSettings names the variable and the value it cannot use", () => {
  assert.throws(
    () => parseLabSettings({ LAB_WORKER_PORT: "abc" }, "/project"),
    {
      message:
        'Cannot run the lab: "LAB_WORKER_PORT" must be a port number from 1 to 65535: current value is "abc"',
    },
  );
  assert.throws(
    () => parseLabSettings({ LAB_ZK_SERVERS: "zoo1" }, "/project"),
    {
      message:
        'Cannot run the lab: "LAB_ZK_SERVERS" must be a comma-separated list of "host:port": current value is "zoo1"',
    },
  );
  assert.throws(
    () => parseLabSettings({ LAB_ZK_SERVERS: "zoo1:2181,zoo2:0" }, "/project"),
    /"LAB_ZK_SERVERS" must be a comma-separated list of "host:port": current value is "zoo1:2181,zoo2:0"/,
  );
});

Deno.test("parseLabSettings checks ELECTION_PATH with the apps' rule", () => {
  for (const value of ["election", "/election/", "/zookeeper/quota", "/a//b", "/a/../b"]) {
    assert.throws(() => parseLabSettings({ ELECTION_PATH: value }, "/project"), {
      message:
        `Cannot run the lab: "ELECTION_PATH" must be an absolute ZooKeeper path below the root, like "/election", without a trailing slash: current value is "${value}"`,
    });
  }
  assert.equal(
    parseLabSettings({ ELECTION_PATH: "/lab/run-1" }, "/project").electionPath,
    "/lab/run-1",
  );
});

Deno.test("renderZooCfg uses ZooKeeper's own tick and allows the apps' 4000 ms sessions", () => {
  const config = renderZooCfg({ service: "zookeeper", id: 1, clientPort: 2181 }, [], "/data");
  assert.match(config, /^tickTime=2000$/m);
  assert.match(config, /^minSessionTimeout=4000$/m);
  assert.match(config, /^clientPort=2181$/m);
  assert.match(config, /^clientPortAddress=127\.0\.0\.1$/m);
  assert.match(config, /^4lw\.commands\.whitelist=ruok,srvr,stat,mntr$/m);
  assert.doesNotMatch(config, /^server\./m);
});

Deno.test("renderZooCfg lists every ensemble member on loopback", () => {
  const ensemble = [1, 2, 3].map((id) => ({
    service: `zoo${id}`,
    id,
    clientPort: 2180 + id,
    quorumPort: 2880 + id,
    electionPort: 3880 + id,
  }));
  const config = renderZooCfg(ensemble[1], ensemble, "/data");
  assert.match(config, /^clientPort=2182$/m);
  assert.match(config, /^server\.1=127\.0\.0\.1:2881:3881$/m);
  assert.match(config, /^server\.3=127\.0\.0\.1:2883:3883$/m);
});

Deno.test("localServices wires the worker and masters to ZooKeeper and each other on loopback", () => {
  const layout: LocalLayout = {
    electionPath: "/election",
    zookeeper: [{ service: "zookeeper", id: 1, clientPort: 12181 }],
    workerPort: 17070,
    masterPorts: { master1: 51051, master2: 51052 },
  };
  const services = localServices(layout, { stateDir: "/state", denoPath: "/bin/deno", env: {} });
  assert.deepEqual(services.map((s) => s.name), ["zookeeper", "worker", "master1", "master2"]);
  const master2 = services[3];
  assert.deepEqual(master2.command.slice(0, 2), ["/bin/deno", "run"]);
  assert.equal(master2.command.at(-1), "master.ts");
  assert.equal(master2.env.MASTER_NAME, "master2");
  assert.equal(master2.env.MASTER_PORT, "51052");
  assert.equal(master2.env.WORKER_ADDR, "127.0.0.1:17070");
  assert.equal(master2.env.ZK_SERVERS, "127.0.0.1:12181");
  assert.equal(services[1].env.WORKER_PORT, "17070");
  assert.ok(services[0].command.includes("org.apache.zookeeper.server.quorum.QuorumPeerMain"));
});

Deno.test("isEventFor matches a master's line for exactly this epoch, in text and JSON", () => {
  const text = "2024/05/01 08:32:32 The worker accepted our leadership epoch=12 reply=x";
  assert.ok(isEventFor(text, "The worker accepted our leadership", 12n));
  assert.ok(!isEventFor(text, "The worker accepted our leadership", 1n));
  assert.ok(!isEventFor(text.replace("epoch=12", "epoch=123"), "The worker accepted", 12n));
  const json = '{"time":"…","level":"info","msg":"I am the leader","epoch":"4294967300"}';
  assert.ok(isEventFor(json, "I am the leader", 4294967300n));
  assert.ok(!isEventFor("2024/05/01 08:32:32 I am the leader", "I am the leader", 12n));
});

Deno.test("formatTimeline sorts the marks and aligns the milliseconds", () => {
  assert.equal(
    formatTimeline([
      { ms: 0, event: "stop sent to master1" },
      { ms: 41.6, event: "master1 has stopped" },
      { ms: 20.2, event: "master1's election node is gone" },
    ]),
    [
      "Failover timeline (ms after the stop was sent):",
      "      0  stop sent to master1",
      "     20  master1's election node is gone",
      "     42  master1 has stopped",
    ].join("\n"),
  );
});

Deno.test("logPrefix pads service names as docker-compose logs does", () => {
  assert.equal(logPrefix("worker", 9), "worker    | ");
  assert.equal(logPrefix("zookeeper", 9), "zookeeper | ");
});
