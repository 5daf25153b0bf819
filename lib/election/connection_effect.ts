/**
 * What a change of the ZooKeeper session means for the election: Curator's single switch over
 * connection states, as a pure function. The session adapter (zookeeper/session.ts) turns the
 * client's raw states (`ZkState`) into session events; this says what each event does to a
 * master's part in the election, and the latch (leader_latch.ts) does exactly that.
 */
import type { SessionEvent } from "../zookeeper/session.ts";

/** What a session event means for leadership. */
export type ConnectionEffect =
  /** A new session: any node of ours died with the old one; join again, under a new guid. */
  | "join"
  /** Reconnected to the same session: re-read the election before believing anything. */
  | "recheck"
  /** The view may be stale: stop acting as leader now, keep the node (the session may live on). */
  | "suspend"
  /** The session and its node are gone: stop leading and forget the node. */
  | "drop";

/** Maps a session event to its effect on leadership. */
export function connectionEffect(event: SessionEvent): ConnectionEffect {
  switch (event.type) {
    case "connected":
      return event.newSession ? "join" : "recheck";
    case "suspended":
      return "suspend";
    case "lost":
      return "drop";
  }
}
