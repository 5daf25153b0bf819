/** Port checks for the local backend: every service's port is checked before anything starts. */

/** True when nothing listens on `port` (checked on all interfaces, the strictest test). */
export function isPortFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "0.0.0.0", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** A port the system considers free right now. */
export function anyFreePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** `preferred` when free, otherwise any free port (ZooKeeper's client port may move). */
export function preferredOrFreePort(preferred: number): number {
  return isPortFree(preferred) ? preferred : anyFreePort();
}
