/**
 * A standalone ZooKeeper for the network-partition faults: the harness binds ZooKeeper's client
 * port to 127.0.0.1, which processes in other network namespaces cannot reach, so this one is
 * bound to an address on the namespaces' bridge instead. Its directories and JVM are the
 * harness's own (prepareServer, JavaZooKeeper): same start, stop and clean-up.
 */
import { freePort } from "../../lib/common/ports.ts";
import { JavaZooKeeper, type ZooKeeperServer } from "../harness/zookeeper_server.ts";
import { prepareServer } from "../harness/zookeeper_setup.ts";
import { fourLetterWord } from "../../lib/zookeeper/four_letter_words.ts";

/** A standalone ZooKeeper whose client port is bound to `host` instead of 127.0.0.1. */
export async function startZooKeeperOn(
  host: string,
): Promise<{ server: ZooKeeperServer; connectString: string }> {
  const port = freePort();
  const layout = await prepareServer({
    port,
    tickTimeMs: 200,
    serverLines: [],
    clientPortAddress: host,
  });
  const server = new JavaZooKeeper(port, layout, async () => {
    // A starting server may accept and never answer: a short deadline per probe.
    const answer = await fourLetterWord(`${host}:${port}`, "srvr", { timeoutMs: 300 })
      .catch(() => "");
    return /^Mode: standalone$/m.test(answer) ? true : undefined;
  });
  try {
    await server.start();
  } catch (error) {
    await server.close(); // also removes the directories
    throw error;
  }
  return { server, connectString: `${host}:${port}` };
}
