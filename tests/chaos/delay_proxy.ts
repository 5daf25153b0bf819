/**
 * A slow link for the chaos suite: a TCP proxy on loopback between one master and the worker that
 * holds every byte from the master for `delayMs` before passing it on (in order; answers flow back
 * at once). It stands for a congested or retransmitting network, the way a leader's calls can
 * reach the worker long after they were sent: the kernel here has no `netem`, so the delay is
 * made in user space. While the delay is 0 it is a plain pipe.
 *
 * What it promises: bytes keep their order and none is dropped; `idle()` resolves once every held
 * byte has been passed on; `close()` ends every connection and the listener.
 */
import { delay } from "../../lib/common/backoff.ts";

/** See the module comment. */
export interface DelayProxy {
  /** `127.0.0.1:<port>`: give it to the master as the worker's address. */
  readonly address: string;
  /** Holds bytes sent from now on for `delayMs` (0: none). */
  setDelay(delayMs: number): void;
  /** Resolves once no held byte is waiting any more. */
  idle(): Promise<void>;
  /** How many chunks of bytes are being held now. */
  readonly held: number;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (`host:port`) on a free loopback port. */
export function startDelayProxy(target: string): DelayProxy {
  const [hostname, port] = [target.slice(0, target.lastIndexOf(":")), target.split(":").at(-1)];
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections = new Set<Deno.Conn>();
  const pending = new Set<Promise<void>>();
  let delayMs = 0;

  const closeBoth = (a: Deno.Conn, b?: Deno.Conn) => {
    for (const conn of [a, b]) {
      if (!conn || !connections.delete(conn)) continue;
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  };

  /** Copies `from` to `to`, each chunk after the delay in force when it was read. */
  const pump = async (from: Deno.Conn, to: Deno.Conn, delayed: boolean) => {
    let chain = Promise.resolve();
    try {
      for await (const chunk of from.readable) {
        const dueAt = performance.now() + (delayed ? delayMs : 0);
        const write = chain.then(async () => {
          const wait = dueAt - performance.now();
          if (wait > 0) await delay(wait);
          for (let written = 0; written < chunk.length;) {
            written += await to.write(chunk.subarray(written));
          }
        });
        const held = write.catch(() => {});
        chain = held;
        if (delayed) {
          pending.add(held);
          held.finally(() => pending.delete(held));
        } else await write;
      }
    } catch {
      // The connection broke: end both sides.
    }
    await chain;
    closeBoth(from, to);
  };

  const serve = async () => {
    for await (const client of listener) {
      connections.add(client);
      Deno.connect({ hostname, port: Number(port) }).then((upstream) => {
        connections.add(upstream);
        void pump(client, upstream, true);
        void pump(upstream, client, false);
      }, () => closeBoth(client));
    }
  };
  const serving = serve().catch(() => {});

  return {
    address: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    setDelay: (ms) => {
      delayMs = ms;
    },
    get held() {
      return pending.size;
    },
    idle: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    close: async () => {
      listener.close();
      for (const conn of [...connections]) closeBoth(conn);
      await serving;
    },
  };
}
