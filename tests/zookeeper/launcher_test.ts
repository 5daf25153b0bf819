/**
 * The launcher's logging, on a real server: ZooKeeper at WARN without the line that every
 * node-zookeeper-client connection would cause, and the lab's zoo.cfg as the tests expect.
 */
import assert from "node:assert/strict";
import { connectZk } from "../../lib/zookeeper/client.ts";
import { loggingFiles, zooCfg } from "../../lib/zookeeper/launcher.ts";
import { startZooKeeper } from "../harness/zookeeper.ts";

Deno.test("a node-zookeeper-client connection leaves no old-client line in ZooKeeper's log", async () => {
  await using server = await startZooKeeper();
  for (let i = 0; i < 3; i++) {
    const client = await connectZk({
      servers: [server.connectString],
      sessionTimeoutMs: 4000,
      connectTimeoutMs: 10_000,
    });
    await client.close();
  }
  // The log is written by the JVM as it goes; the connections are done, so is their line, if any.
  await server.stop();
  const log = await Deno.readTextFile(server.logFile);
  assert.doesNotMatch(log, /Connection request from old client/);
  assert.doesNotMatch(log, / INFO /, "ZooKeeper logs at WARN and above");
});

Deno.test("loggingFiles quiets ZooKeeperServer below ERROR in both logging back ends", () => {
  const files = loggingFiles();
  assert.match(
    files["logback.xml"],
    /<logger name="org\.apache\.zookeeper\.server\.ZooKeeperServer" level="ERROR"\/>/,
  );
  assert.match(files["logback.xml"], /<root level="WARN">/);
  assert.match(
    files["simplelogger.properties"],
    /^org\.slf4j\.simpleLogger\.log\.org\.apache\.zookeeper\.server\.ZooKeeperServer=error$/m,
  );
  assert.match(
    files["simplelogger.properties"],
    /^org\.slf4j\.simpleLogger\.defaultLogLevel=warn$/m,
  );
  assert.match(loggingFiles("info")["simplelogger.properties"], /defaultLogLevel=info$/m);
});

Deno.test("zooCfg defaults to loopback, two ticks of minimum session and the lab's words", () => {
  const config = zooCfg({ dataDir: "/data", clientPort: 2181, tickTimeMs: 200 });
  assert.match(config, /^clientPortAddress=127\.0\.0\.1$/m);
  assert.match(config, /^minSessionTimeout=400$/m);
  assert.match(config, /^4lw\.commands\.whitelist=ruok,srvr,stat,mntr$/m);
  assert.match(
    zooCfg({ dataDir: "/d", clientPort: 1, extraLines: ["forceSync=no"] }),
    /^forceSync=no$/m,
  );
});
