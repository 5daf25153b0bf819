/**
 * Reads the election as ZooKeeper holds it now, for the masters, the worker's fence and the status
 * view alike, so all of them agree on who leads.
 */
import { type Candidate, electionOrder, type NodeFacts, parseMemberNode } from "./decisions.ts";
import { type Watcher, type ZkClient, ZkError } from "../zookeeper/client.ts";

/** Options for {@linkcode readElection}. */
export interface ReadElectionOptions {
  /** Watches the children of the election path (fires on join, leave and path deletion). */
  readonly childWatcher?: Watcher;
  /** Sets a data watch on one node while reading it (its deletion or change fires it). */
  readonly nodeWatch?: { readonly node: string; readonly watcher: Watcher };
}

/** The valid candidates under `electionPath`, in election order; empty when the path is missing. */
export async function readElection(
  client: ZkClient,
  electionPath: string,
  options: ReadElectionOptions = {},
): Promise<Candidate[]> {
  let children: string[];
  try {
    children = await client.getChildren(electionPath, options.childWatcher);
  } catch (error) {
    if (error instanceof ZkError && error.code === "NO_NODE") return [];
    throw error;
  }
  // Foreign names are skipped without a read; the reads go out together (one round trip).
  const facts = await Promise.all(
    children.filter((node) => parseMemberNode(node)).map(
      async (node): Promise<NodeFacts | undefined> => {
        const watcher = options.nodeWatch?.node === node ? options.nodeWatch.watcher : undefined;
        const found = await client.getData(`${electionPath}/${node}`, watcher);
        // Gone between the listing and the read: it has left the election.
        if (!found) return undefined;
        return {
          node,
          czxid: found.stat.czxid,
          ephemeralOwner: found.stat.ephemeralOwner,
          data: found.data,
        };
      },
    ),
  );
  return electionOrder(facts.filter((fact) => fact !== undefined));
}
