/**
 * The election's decisions, as pure functions of plain data: no ZooKeeper, no gRPC, no clock.
 *
 * The recipe is ZooKeeper's classic one. Each master creates an ephemeral sequential node
 * `master-<guid>-<sequence>` under the election path; the lowest sequence leads; every other master
 * watches only its predecessor, so a departure wakes exactly one process (no herd). The leader's
 * epoch is its node's creation zxid (`czxid`): zxids grow for the lifetime of the ensemble, even when
 * the election path is deleted and made again (sequence numbers restart then, zxids never do).
 *
 * Only nodes that look like a master's count: the right name, an ephemeral owner, and member data
 * that parses. Anything else another program leaves under the path is ignored, never followed.
 */
import { isHostPort } from "../common/host_port.ts";

/** The prefix of every election node name; ZooKeeper appends a 10-digit sequence. */
export const MEMBER_PREFIX = "master-";

/** Who a master is, as written in its election node. */
export interface MemberInfo {
  /** A human name, e.g. `master1`. */
  readonly name: string;
  /** The master's gRPC address, `host:port`. */
  readonly address: string;
}

/** A master's election node, validated. */
export interface Candidate extends MemberInfo {
  /** The node's name (not its path). */
  readonly node: string;
  /** The random id the master put in the name, to find its node again after a lost reply. */
  readonly guid: string;
  /** The sequence ZooKeeper appended. */
  readonly sequence: number;
  /** The node's `czxid`: the epoch of this master's leadership. */
  readonly epoch: bigint;
  /** The session that owns the node. */
  readonly owner: bigint;
}

/** The raw facts read about one child of the election path. */
export interface NodeFacts {
  readonly node: string;
  readonly czxid: bigint;
  readonly ephemeralOwner: bigint;
  readonly data: Uint8Array;
}

/** What a master should do after reading the election. */
export type Decision =
  | { readonly kind: "lead"; readonly self: Candidate }
  | {
    readonly kind: "follow";
    readonly self: Candidate;
    readonly predecessor: Candidate;
    readonly leader: Candidate;
  }
  /** Our node is gone or is not ours: make a new one. */
  | { readonly kind: "rejoin" };

const NODE_PATTERN =
  /^master-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-(\d{10})$/;
const MAX_DATA_BYTES = 1024;

/** The name to create (sequential) for a master with this guid. */
export function memberNodePrefix(guid: string): string {
  return `${MEMBER_PREFIX}${guid}-`;
}

/** Parses an election node name; undefined when it is not a master's. */
export function parseMemberNode(node: string): { guid: string; sequence: number } | undefined {
  const match = NODE_PATTERN.exec(node);
  return match ? { guid: match[1], sequence: Number(match[2]) } : undefined;
}

/** The bytes a master writes into its election node. */
export function encodeMemberInfo(info: MemberInfo): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ name: info.name, address: info.address }));
}

/** Parses election node data; undefined when it is not a master's. */
export function decodeMemberInfo(data: Uint8Array): MemberInfo | undefined {
  if (data.byteLength === 0 || data.byteLength > MAX_DATA_BYTES) return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
    if (typeof value !== "object" || value === null) return undefined;
    const { name, address } = value as Record<string, unknown>;
    if (typeof name !== "string" || name === "" || name.length > 64) return undefined;
    if (typeof address !== "string" || !isHostPort(address)) return undefined;
    return { name, address };
  } catch {
    return undefined;
  }
}

/** Validates one child of the election path; undefined when it is not a live master's node. */
export function toCandidate(facts: NodeFacts): Candidate | undefined {
  const parsed = parseMemberNode(facts.node);
  // A persistent node (owner 0) is never a master's: masters only create ephemeral ones.
  if (!parsed || facts.ephemeralOwner === 0n) return undefined;
  const info = decodeMemberInfo(facts.data);
  if (!info) return undefined;
  return { ...info, ...parsed, node: facts.node, epoch: facts.czxid, owner: facts.ephemeralOwner };
}

/** The valid candidates among the children, in election order (lowest sequence first). */
export function electionOrder(children: readonly NodeFacts[]): Candidate[] {
  return children.flatMap((facts) => toCandidate(facts) ?? [])
    .sort((a, b) => a.sequence - b.sequence || (a.epoch < b.epoch ? -1 : 1));
}

/** The current leader: the first candidate in election order. */
export function leaderOf(order: readonly Candidate[]): Candidate | undefined {
  return order[0];
}

/**
 * What the master with node `ownNode`, in session `sessionId`, should do. Our node counts only if
 * it is owned by our session (LeaderLatch's check): a node left by an earlier session of ours must
 * not make us believe we lead.
 */
export function decide(
  order: readonly Candidate[],
  own: { readonly node: string; readonly sessionId: bigint },
): Decision {
  const index = order.findIndex((candidate) => candidate.node === own.node);
  if (index < 0 || order[index].owner !== own.sessionId) return { kind: "rejoin" };
  const self = order[index];
  if (index === 0) return { kind: "lead", self };
  return { kind: "follow", self, predecessor: order[index - 1], leader: order[0] };
}
