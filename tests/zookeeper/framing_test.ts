/**
 * The adapter survives a connection that dies in the middle of a reply. node-zookeeper-client keeps
 * the unread part of a cut reply and glues it in front of the next connection's bytes, so every
 * later packet is read at the wrong offset: garbage error codes ("Unknown code: 1131610114", thrown
 * from the socket's data handler, which kills the process) or a misread handshake. Seen under load,
 * when the session drops a silent connection mid-reply. A proxy here cuts one reply after 6 bytes.
 */
import assert from "node:assert/strict";
import { waitFor } from "../../lib/common/wait.ts";
import { connectZk } from "../../lib/zookeeper/client.ts";
import { startZooKeeper } from "../harness/zookeeper.ts";

/** A loopback proxy to `target` that can cut the next reply short, then forwards normally again. */
function startCuttingProxy(target: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  let cutNext = false;
  let cuts = 0;
  const pump = async (from: Deno.Conn, to: Deno.Conn, replies: boolean) => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buffer);
        if (n === null) break;
        if (replies && cutNext) {
          cutNext = false;
          cuts++;
          await to.write(buffer.subarray(0, Math.min(6, n)));
          break;
        }
        await to.write(buffer.subarray(0, n));
      }
    } catch {
      // The other direction closed it.
    }
    for (const conn of [from, to]) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
      conns.delete(conn);
    }
  };
  const accepting = (async () => {
    for await (const client of listener) {
      const server = await Deno.connect({ hostname: "127.0.0.1", port: target });
      conns.add(client).add(server);
      void pump(client, server, false);
      void pump(server, client, true);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    cutNextReply: () => cutNext = true,
    get cuts() {
      return cuts;
    },
    async close() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
      await accepting;
    },
  };
}

Deno.test("a reply cut short by a dying connection does not garble the next connection", async () => {
  await using zk = await startZooKeeper();
  const proxy = startCuttingProxy(zk.port);
  const client = await connectZk({
    servers: [`127.0.0.1:${proxy.port}`],
    sessionTimeoutMs: 4000,
    connectTimeoutMs: 4000,
    operationTimeoutMs: 2000,
  });
  try {
    await client.ensurePath("/framing");
    const sessionId = client.sessionId;
    proxy.cutNextReply();
    await client.getChildren("/framing").catch(() => {
      // The cut reply's call fails: the connection died under it.
    });
    assert.equal(proxy.cuts, 1);
    // The library reconnects by itself; the session must carry on, readable at the right offsets.
    const children = await waitFor(
      () => client.getChildren("/framing").catch(() => undefined),
      { timeoutMs: 8000, message: "a call after the cut connection succeeded" },
    );
    assert.deepEqual(children, []);
    assert.equal(client.sessionId, sessionId, "the session was kept across the reconnection");
  } finally {
    await client.close();
    await proxy.close();
  }
});
