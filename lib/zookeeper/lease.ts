/**
 * Session-timing arithmetic: how long a ZooKeeper client may go without an answer before it must
 * assume the worst, and whether a leader's lease still holds. Pure functions of plain numbers (ms),
 * shared by the session's heartbeat (session.ts) and the leader's lease (election/leader_latch.ts),
 * so that both measure time the same way.
 *
 * Always call them with the session timeout the server *granted* (the negotiated one), never the
 * one we asked for: the server expires sessions on its own clock.
 */

/** ZooKeeper's own client read timeout: two thirds of the session timeout. */
export function readTimeoutMs(sessionTimeoutMs: number): number {
  return Math.floor(sessionTimeoutMs * 2 / 3);
}

/**
 * Whether a leader may still act. `confirmedAt` is when the last ZooKeeper request that confirmed
 * our node was *sent* (not answered): the session was alive then, so no other master can have been
 * elected before `confirmedAt + sessionTimeout`; acting only within the read timeout leaves margin.
 */
export function leaseHolds(confirmedAt: number, now: number, sessionTimeoutMs: number): boolean {
  return now - confirmedAt < readTimeoutMs(sessionTimeoutMs);
}
