/**
 * Reads the election as ZooKeeper holds it now, for the masters, the worker's fence and the status
 * view alike, so all of them agree on who leads.
 *
 * With an {@linkcode ElectionCache}, a read costs one round trip when no one new has joined: an
 * ephemeral node's czxid, owner and data never change while it lives, so only children not seen
 * before need a `getData`. The cache is keyed by the election path's own czxid (its incarnation,
 * read in the same round trip as the children), so a path deleted and made again, whose
 * sequence numbers restart and may repeat a name, never mixes nodes of two incarnations. Within one
 * incarnation a name is never used twice, because ZooKeeper appends the sequence (a node someone
 * creates with a chosen name that copies a master's could break that, but whoever can write there
 * can break the election anyway).
 */
import { type Candidate, electionOrder, type NodeFacts, parseMemberNode } from "./decisions.ts";
import { type Watcher, type ZkClient, ZkError } from "../zookeeper/client.ts";

/** Options for {@linkcode readElection}. */
export interface ReadElectionOptions {
  /** Watches the children of the election path (fires on join, leave and path deletion). */
  readonly childWatcher?: Watcher;
  /**
   * Reads one node with a data watch (its deletion or change fires it), in the same round trip
   * as the listing; the node is read even when the cache knows it.
   */
  readonly nodeWatch?: { readonly node: string; readonly watcher: Watcher };
  /** What earlier reads learned; see the module comment. Use one cache per ZooKeeper client. */
  readonly cache?: ElectionCache;
}

/** The facts of the election's nodes seen so far, for one client; see the module comment. */
export class ElectionCache {
  #incarnation?: bigint;
  readonly #facts = new Map<string, NodeFacts>();

  /** Keeps only the nodes in `children` of incarnation `czxid`; returns the known facts. */
  retain(czxid: bigint, children: readonly string[]): Map<string, NodeFacts> {
    if (czxid !== this.#incarnation) {
      this.#incarnation = czxid;
      this.#facts.clear();
    }
    const listed = new Set(children);
    for (const node of this.#facts.keys()) if (!listed.has(node)) this.#facts.delete(node);
    return this.#facts;
  }

  /** Remembers the facts of a node read in incarnation `czxid`. */
  remember(czxid: bigint, facts: NodeFacts): void {
    if (czxid === this.#incarnation) this.#facts.set(facts.node, facts);
  }
}

/** The valid candidates under `electionPath`, in election order; empty when the path is missing. */
export async function readElection(
  client: ZkClient,
  electionPath: string,
  options: ReadElectionOptions = {},
): Promise<Candidate[]> {
  const { cache, nodeWatch } = options;
  const readNode = async (node: string, watcher?: Watcher): Promise<NodeFacts | undefined> => {
    const found = await client.getData(`${electionPath}/${node}`, watcher);
    // Gone between the listing and the read: it has left the election.
    if (!found) return undefined;
    return {
      node,
      czxid: found.stat.czxid,
      ephemeralOwner: found.stat.ephemeralOwner,
      data: found.data,
    };
  };
  // Sent together (one round trip): the listing, the path's incarnation, the watched node.
  const listing = client.getChildren(electionPath, options.childWatcher);
  const path = cache ? client.exists(electionPath) : undefined;
  const watched = nodeWatch ? readNode(nodeWatch.node, nodeWatch.watcher) : undefined;
  let children: string[];
  try {
    children = await listing;
  } catch (error) {
    await Promise.allSettled([path, watched]);
    if (error instanceof ZkError && error.code === "NO_NODE") return [];
    throw error;
  }
  const incarnation = (await path)?.czxid;
  const watchedFacts = await watched;
  const known = cache && incarnation !== undefined
    ? cache.retain(incarnation, children)
    : new Map<string, NodeFacts>();
  // Foreign names are skipped without a read; the reads of new nodes go out together.
  const facts = await Promise.all(
    children.filter((node) => parseMemberNode(node)).map((node) => {
      if (node === nodeWatch?.node) return watchedFacts;
      return known.get(node) ?? readNode(node);
    }),
  );
  if (cache && incarnation !== undefined) {
    for (const fact of facts) if (fact) cache.remember(incarnation, fact);
  }
  return electionOrder(facts.filter((fact) => fact !== undefined));
}
