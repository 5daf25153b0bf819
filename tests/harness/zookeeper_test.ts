/**
 * The ZooKeeper harness against a real server: what the integration tests rely on (same port and
 * data after a restart, a quorum that survives one server, no leftovers after close).
 */
// @ts-types="@types/node-zookeeper-client"
import zookeeper from "node-zookeeper-client";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { startEnsemble, startZooKeeper } from "./zookeeper.ts";

Deno.test("startZooKeeper serves ruok and survives stop/start on the same port", async () => {
  const server = await startZooKeeper();
  try {
    assert.equal(await server.fourLetter("ruok"), "imok");
    assert.match(await server.fourLetter("srvr"), /^Mode: standalone$/m);
    const path = `/harness-${crypto.randomUUID()}`;
    await withClient(server.connectString, (client) => create(client, path, "kept"));

    await server.stop();
    assert.equal(server.isRunning, false);
    await assert.rejects(server.fourLetter("ruok"), Deno.errors.ConnectionRefused);

    await server.start();
    assert.equal(server.connectString, `127.0.0.1:${server.port}`);
    assert.equal(await withClient(server.connectString, (client) => getData(client, path)), "kept");
  } finally {
    await server.close();
  }
});

Deno.test("startZooKeeper close kills the server, removes its data and may be called twice", async () => {
  const server = await startZooKeeper();
  const { dataDir } = server;
  await server.close();
  await server.close();
  assert.equal(server.isRunning, false);
  await assert.rejects(Deno.stat(dataDir), Deno.errors.NotFound);
  await assert.rejects(server.fourLetter("ruok"), Deno.errors.ConnectionRefused);
  await assert.rejects(server.start(), /Cannot start ZooKeeper on port \d+: closed/);
});

Deno.test("startZooKeeper pause silences the server until resume", async () => {
  await using server = await startZooKeeper();
  await server.pause();
  await assert.rejects(
    server.fourLetter("ruok", { timeoutMs: 300 }),
    new RegExp(`ZooKeeper on port ${server.port} did not answer "ruok" within 300 ms`),
  );
  server.resume();
  assert.equal(await server.fourLetter("ruok"), "imok");
});

Deno.test("startZooKeeper kill leaves the data for a restart", async () => {
  await using server = await startZooKeeper();
  const path = `/harness-${crypto.randomUUID()}`;
  await withClient(server.connectString, (client) => create(client, path, "survives a crash"));
  await server.kill();
  assert.equal(server.isRunning, false);
  await server.start();
  assert.equal(
    await withClient(server.connectString, (client) => getData(client, path)),
    "survives a crash",
  );
});

Deno.test("startZooKeeper rejects a bad tick before starting anything", async () => {
  await assert.rejects(
    startZooKeeper({ tickTimeMs: 0 }),
    /Cannot start ZooKeeper: tickTimeMs must be an integer >= 10: current value is 0/,
  );
});

Deno.test("startEnsemble keeps a quorum when one server stops", async () => {
  await using ensemble = await startEnsemble(3);
  assert.equal(ensemble.connectString, ensemble.servers.map((s) => s.connectString).join(","));
  const leader = await ensemble.leaderIndex();
  const path = `/harness-${crypto.randomUUID()}`;
  await withClient(ensemble.connectString, (client) => create(client, path, "replicated"));

  await ensemble.servers[leader].stop();
  const newLeader = await ensemble.leaderIndex();
  assert.notEqual(newLeader, leader);
  const survivor = ensemble.servers.find((_, i) => i !== leader && i !== newLeader)!;
  assert.match(await survivor.fourLetter("srvr"), /^Mode: follower$/m);
  const read = (server: typeof survivor) =>
    withClient(server.connectString, (client) => getData(client, path));
  assert.equal(await read(survivor), "replicated");

  // Back on its old port, the stopped server rejoins as a follower with the data.
  await ensemble.servers[leader].start();
  assert.match(await ensemble.servers[leader].fourLetter("srvr"), /^Mode: follower$/m);
  assert.equal(await read(ensemble.servers[leader]), "replicated");
});

/** Connects a client, runs `body`, and closes the client whatever happens. */
async function withClient<T>(
  connectString: string,
  body: (client: zookeeper.Client) => Promise<T>,
): Promise<T> {
  const client = zookeeper.createClient(connectString, { sessionTimeout: 2000, spinDelay: 100 });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`No connection to ${connectString}`)),
        10_000,
      );
      client.once("connected", () => {
        clearTimeout(timer);
        resolve();
      });
      client.connect();
    });
    return await body(client);
  } finally {
    client.close();
  }
}

function create(client: zookeeper.Client, path: string, data: string): Promise<void> {
  return new Promise((resolve, reject) => {
    client.create(path, Buffer.from(data), (error) => error ? reject(error) : resolve());
  });
}

function getData(client: zookeeper.Client, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.getData(path, (error, data) => error ? reject(error) : resolve(data.toString()));
  });
}
