/**
 * Free TCP ports on 127.0.0.1 for the servers the lab and the tests start.
 *
 * Ports come from below the kernel's ephemeral range, not from binding port 0: a client that keeps
 * reconnecting to a port nobody listens on yet (a stopped ZooKeeper, a worker not started) gets a
 * new ephemeral source port each time, and once in a while that source port equals the target, so
 * the socket connects to itself, or it takes the port the server is about to bind again. Neither
 * can happen to a port outside the ephemeral range. A port is checked by binding it, and the
 * listener is closed before it is returned, so another process could still take it; every server
 * we start fails loudly if that happens.
 */

/** Linux's default, used when the real range cannot be read. */
const DEFAULT_EPHEMERAL_LOW = 32768;
const LOWEST_PORT = 10_000;

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  return freePorts(1)[0];
}

/** Returns `count` distinct free ports (each stays bound until all are found). */
export function freePorts(count: number): number[] {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`Cannot find free ports: count must be a positive integer: ${count}`);
  }
  const highest = ephemeralLow() - 1;
  const listeners: Deno.Listener[] = [];
  try {
    for (let attempt = 0; listeners.length < count; attempt++) {
      // Outside the ephemeral range when it leaves room; otherwise let the kernel choose.
      const port = highest - LOWEST_PORT > 1000 && attempt < 1000
        ? LOWEST_PORT + Math.floor(Math.random() * (highest - LOWEST_PORT + 1))
        : 0;
      try {
        listeners.push(Deno.listen({ hostname: "127.0.0.1", port }));
      } catch (error) {
        if (!(error instanceof Deno.errors.AddrInUse)) throw error;
      }
    }
    return listeners.map((listener) => (listener.addr as Deno.NetAddr).port);
  } finally {
    for (const listener of listeners) listener.close();
  }
}

/** True when nothing listens on `port` (checked on all interfaces, the strictest test). */
export function isPortFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "0.0.0.0", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** The first port of the kernel's ephemeral range. */
function ephemeralLow(): number {
  try {
    const [low] = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").split(/\s+/);
    return Number(low) || DEFAULT_EPHEMERAL_LOW;
  } catch {
    return DEFAULT_EPHEMERAL_LOW; // Not Linux, or no read permission.
  }
}
