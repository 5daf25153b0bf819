/**
 * Reads the election as ZooKeeper holds it now, for the masters, the worker's fence and the status
 * view alike, so all of them agree on who leads.
 *
 * A read lists the children, then reads each master's node. With {@linkcode ElectionNames} (what
 * the previous read listed), the nodes already known are read in the same round trip as the
 * listing, so a change costs one round trip unless someone new joined. They are read again rather
 * than remembered: an ephemeral node's czxid and owner never change while it lives, but its data
 * can (anyone allowed to write there can `setData` junk over it, and it then no longer names a
 * master), and a master watching every node to notice would wake every master on every change. (The
 * worker's fence, one process, does watch every node: `everyNodeWatcher`.)
 */
import { type Candidate, electionOrder, type NodeFacts, parseMemberNode } from "./decisions.ts";
import { type Watcher, type ZkClient, ZkError } from "../zookeeper/client.ts";

/** Options for {@linkcode readElection}. */
export interface ReadElectionOptions {
  /** Watches the children of the election path (fires on join, leave and path deletion). */
  readonly childWatcher?: Watcher;
  /** Sets a data watch on one node while reading it (its deletion or change fires it). */
  readonly nodeWatch?: { readonly node: string; readonly watcher: Watcher };
  /** Sets a data watch on every master node it reads, valid or not (for the worker's fence). */
  readonly everyNodeWatcher?: Watcher;
  /** The names the previous read listed, read along with the listing; updated by the read. */
  readonly known?: ElectionNames;
}

/** The master nodes the last read listed; see the module comment. Use one per ZooKeeper client. */
export class ElectionNames {
  names: readonly string[] = [];
}

/** The valid candidates under `electionPath`, in election order; empty when the path is missing. */
export async function readElection(
  client: ZkClient,
  electionPath: string,
  options: ReadElectionOptions = {},
): Promise<Candidate[]> {
  const { known, nodeWatch } = options;
  const readNode = async (node: string): Promise<NodeFacts | undefined> => {
    const watcher = nodeWatch?.node === node ? nodeWatch.watcher : options.everyNodeWatcher;
    const found = await client.getData(`${electionPath}/${node}`, watcher);
    // Gone between the listing and the read: it has left the election.
    if (!found) return undefined;
    const { czxid, ephemeralOwner } = found.stat;
    return { node, czxid, ephemeralOwner, data: found.data };
  };
  // Sent together, one round trip: the listing and the reads of the nodes we expect in it.
  const listing = client.getChildren(electionPath, options.childWatcher);
  const early = new Map<string, Promise<NodeFacts | undefined>>();
  const expected = new Set(known?.names ?? []);
  if (nodeWatch) expected.add(nodeWatch.node);
  for (const node of expected) {
    const read = readNode(node);
    read.catch(() => {}); // A read for a node not listed is never awaited.
    early.set(node, read);
  }
  let children: string[];
  try {
    children = await listing;
  } catch (error) {
    if (error instanceof ZkError && error.code === "NO_NODE") return [];
    throw error;
  }
  // Foreign names are skipped without a read; the reads of new nodes go out together.
  const masters = children.filter((node) => parseMemberNode(node));
  if (known) known.names = masters;
  const facts = await Promise.all(masters.map((node) => early.get(node) ?? readNode(node)));
  return electionOrder(facts.filter((fact) => fact !== undefined));
}
