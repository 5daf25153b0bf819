/**
 * The master's periodic status line. In the election it is the original lab's, word for word
 * (`I am the leader`, `I am the follower`); out of it (no ZooKeeper, no node yet, just demoted) it
 * says so instead of claiming to follow.
 */
import type { LogFields } from "../../common/log.ts";
import type { LatchRole } from "../../election/leader_latch.ts";

/** The status line for a role. */
export function statusLine(role: LatchRole): { message: string; fields?: LogFields } {
  switch (role.role) {
    case "leader":
      return { message: "I am the leader" };
    case "follower":
      return { message: "I am the follower" };
    case "none":
      return { message: "I am not in the election right now", fields: { reason: role.reason } };
  }
}
