/**
 * A standalone ZooKeeper for the network-partition faults: the harness binds ZooKeeper's client
 * port to 127.0.0.1, which processes in other network namespaces cannot reach, so this one is
 * bound to an address on the namespaces' bridge instead. Its directories and JVM are the
 * harness's own (prepareServer, JavaZooKeeper): same start, stop and clean-up.
 */
import { freePort } from "../harness/ports.ts";
import { JavaZooKeeper, type ZooKeeperServer } from "../harness/zookeeper_server.ts";
import { prepareServer } from "../harness/zookeeper_setup.ts";

/** A standalone ZooKeeper whose client port is bound to `host` instead of 127.0.0.1. */
export async function startZooKeeperOn(
  host: string,
): Promise<{ server: ZooKeeperServer; connectString: string }> {
  const port = freePort();
  const layout = await prepareServer({ port, tickTimeMs: 200, serverLines: [] });
  const server = new JavaZooKeeper(port, layout, async () => {
    const answer = await fourLetter(host, port, "srvr").catch(() => "");
    return /^Mode: standalone$/m.test(answer) ? true : undefined;
  });
  try {
    const zooCfg = layout.args.at(-1)!;
    const config = await Deno.readTextFile(zooCfg);
    await Deno.writeTextFile(
      zooCfg,
      config.replace(/^clientPortAddress=.*$/m, `clientPortAddress=${host}`),
    );
    await server.start();
  } catch (error) {
    await server.close(); // also removes the directories
    throw error;
  }
  return { server, connectString: `${host}:${port}` };
}

/** One four-letter word with a deadline (a starting server may accept and never answer). */
async function fourLetter(hostname: string, port: number, command: string): Promise<string> {
  const conn = await Deno.connect({ hostname, port });
  let closed = false;
  const timer = setTimeout(() => {
    closed = true;
    conn.close(); // fails the pending read
  }, 300);
  try {
    await conn.write(new TextEncoder().encode(command));
    const buffer = new Uint8Array(4096);
    let answer = "";
    for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
      answer += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return answer;
  } finally {
    clearTimeout(timer);
    if (!closed) conn.close();
  }
}
