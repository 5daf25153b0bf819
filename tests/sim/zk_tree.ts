/**
 * The model ZooKeeper's data: a tree of znodes with ZooKeeper's stats (czxid, mzxid, pzxid,
 * ephemeral owner, versions, sequence counters), the checks a write must pass, and what applying a
 * transaction changes, including which watches it triggers. Every server of the model ensemble
 * holds its own copy and applies the same transactions in the same order.
 */
import type { CreateMode, Stat } from "../../lib/zookeeper/client.ts";

/** One znode. */
export interface ZNode {
  data: Uint8Array;
  readonly czxid: bigint;
  mzxid: bigint;
  /** The zxid of the latest change of the children. */
  pzxid: bigint;
  readonly ephemeralOwner: bigint;
  version: number;
  /** Creations of sequential children so far: the next sequence number. */
  cversion: number;
  readonly children: Set<string>;
}

/** A write as a client asks for it. */
export type WriteOp =
  | {
    readonly op: "create";
    readonly path: string;
    readonly data: Uint8Array;
    readonly mode: CreateMode;
  }
  | { readonly op: "delete"; readonly path: string; readonly version: number }
  | { readonly op: "check"; readonly path: string; readonly version: number }
  | { readonly op: "setData"; readonly path: string; readonly data: Uint8Array };

/** A write after the leader checked it: what every server applies. */
export type AppliedOp =
  | {
    readonly op: "create";
    readonly path: string;
    readonly data: Uint8Array;
    readonly owner: bigint;
  }
  | { readonly op: "delete"; readonly path: string }
  | { readonly op: "setData"; readonly path: string; readonly data: Uint8Array };

/** A watch notification the tree's change calls for. */
export interface Trigger {
  readonly path: string;
  readonly type: "NODE_CREATED" | "NODE_DELETED" | "NODE_DATA_CHANGED" | "NODE_CHILDREN_CHANGED";
  /** Which server-side watch table fires: data (getData/exists) or child (getChildren). */
  readonly table: "data" | "child";
}

/** The parent path of `path` ("/" for a top-level node). */
export function parentOf(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut <= 0 ? "/" : path.slice(0, cut);
}

/** See the module comment. */
export class ZkTree {
  readonly nodes = new Map<string, ZNode>();
  /** The zxid of the latest transaction applied. */
  zxid: bigint;

  constructor(baseZxid: bigint) {
    this.zxid = baseZxid;
    this.nodes.set("/", newNode(new Uint8Array(), 0n, 0n));
  }

  /** The node's stat as the client sees it. */
  stat(path: string): Stat | undefined {
    const node = this.nodes.get(path);
    if (!node) return undefined;
    return {
      czxid: node.czxid,
      mzxid: node.mzxid,
      ephemeralOwner: node.ephemeralOwner,
      version: node.version,
      numChildren: node.children.size,
    };
  }

  /**
   * Checks writes (all or nothing, as a multi) and resolves them (sequence numbers, owners);
   * returns the ops to apply or the error code of the first that fails. Does not change the tree.
   */
  prepare(ops: readonly WriteOp[], owner: bigint): AppliedOp[] | string {
    // A scratch view of existence and child counts, for ops that depend on earlier ones.
    const exists = (path: string) => scratch.has(path) ? scratch.get(path)! : this.nodes.has(path);
    const scratch = new Map<string, boolean>();
    const childCount = (path: string) =>
      [...(this.nodes.get(path)?.children ?? [])].filter((c) => exists(joinPath(path, c))).length +
      [...scratch].filter(([p, e]) => e && parentOf(p) === path && !this.nodes.has(p)).length;
    const sequences = new Map<string, number>();
    const applied: AppliedOp[] = [];
    for (const op of ops) {
      const node = this.nodes.get(op.path);
      if (op.op === "create") {
        const parent = parentOf(op.path);
        if (!exists(parent)) return "NO_NODE";
        const parentNode = this.nodes.get(parent);
        if (parentNode && parentNode.ephemeralOwner !== 0n) return "NO_CHILDREN_FOR_EPHEMERALS";
        let path = op.path;
        if (op.mode === "ephemeral-sequential") {
          const sequence = sequences.get(parent) ?? parentNode?.cversion ?? 0;
          sequences.set(parent, sequence + 1);
          path += String(sequence).padStart(10, "0");
        }
        if (exists(path)) return "NODE_EXISTS";
        scratch.set(path, true);
        applied.push({
          op: "create",
          path,
          data: op.data,
          owner: op.mode === "persistent" ? 0n : owner,
        });
      } else {
        if (!exists(op.path)) return "NO_NODE";
        if ("version" in op && op.version >= 0 && node && node.version !== op.version) {
          return "BAD_VERSION";
        }
        if (op.op === "delete") {
          if (childCount(op.path) > 0) return "NOT_EMPTY";
          scratch.set(op.path, false);
          applied.push({ op: "delete", path: op.path });
        } else if (op.op === "setData") {
          applied.push({ op: "setData", path: op.path, data: op.data });
        }
      }
    }
    return applied;
  }

  /** Applies one transaction's ops at `zxid`; returns the watches it triggers, in order. */
  apply(zxid: bigint, ops: readonly AppliedOp[]): Trigger[] {
    this.zxid = zxid;
    const triggers: Trigger[] = [];
    for (const op of ops) {
      const parent = parentOf(op.path);
      const name = op.path.slice(parent === "/" ? 1 : parent.length + 1);
      if (op.op === "create") {
        this.nodes.set(op.path, newNode(op.data, zxid, op.owner));
        const parentNode = this.nodes.get(parent)!;
        parentNode.children.add(name);
        parentNode.cversion++;
        parentNode.pzxid = zxid;
        triggers.push(
          { path: op.path, type: "NODE_CREATED", table: "data" },
          { path: parent, type: "NODE_CHILDREN_CHANGED", table: "child" },
        );
      } else if (op.op === "delete") {
        this.nodes.delete(op.path);
        const parentNode = this.nodes.get(parent)!;
        parentNode.children.delete(name);
        parentNode.cversion++;
        parentNode.pzxid = zxid;
        triggers.push(
          { path: op.path, type: "NODE_DELETED", table: "data" },
          { path: op.path, type: "NODE_DELETED", table: "child" },
          { path: parent, type: "NODE_CHILDREN_CHANGED", table: "child" },
        );
      } else {
        const node = this.nodes.get(op.path)!;
        node.data = op.data;
        node.mzxid = zxid;
        node.version++;
        triggers.push({ path: op.path, type: "NODE_DATA_CHANGED", table: "data" });
      }
    }
    return triggers;
  }

  /** The paths of the ephemeral nodes `owner` holds, deepest first. */
  ephemeralsOf(owner: bigint): string[] {
    return [...this.nodes].filter(([, node]) => node.ephemeralOwner === owner)
      .map(([path]) => path).sort((a, b) => b.length - a.length);
  }
}

/** `parent` + `/` + `child`. */
export function joinPath(parent: string, child: string): string {
  return parent === "/" ? `/${child}` : `${parent}/${child}`;
}

function newNode(data: Uint8Array, zxid: bigint, owner: bigint): ZNode {
  return {
    data,
    czxid: zxid,
    mzxid: zxid,
    pzxid: zxid,
    ephemeralOwner: owner,
    version: 0,
    cversion: 0,
    children: new Set(),
  };
}
