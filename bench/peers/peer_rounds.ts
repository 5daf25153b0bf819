/**
 * The peers' part of the clean-failover section: one election per prepared peer, a round of each
 * after every round of ours (so that drifting load from other work hits all alike), and their
 * figures. A peer that is skipped or fails says why in its figures; the others carry on.
 */
import type { ZkClient } from "../../lib/zookeeper/client.ts";
import { summarize, type Summary } from "../stats.ts";
import { PeerElection, type PeerRound } from "./peer_election.ts";
import type { PeerName, PreparedPeer } from "./prepare.ts";

/** One peer's clean failovers: SIGTERM of the leader until the other's callback. */
export interface PeerFigures {
  /** E.g. `kazoo 2.8.0`. */
  readonly version: string;
  /** From the signal to the successor's callback (its timestamp): the figure compared. */
  readonly callback: Summary;
  /** From the signal to the callback's line reaching the bench through the pipe. */
  readonly line: Summary;
  readonly rounds: PeerRound[];
  readonly warmup: PeerRound[];
}

/** A peer's figures, or why there are none. */
export type PeerSection = PeerFigures | { readonly skipped: string } | { readonly error: string };

/** The peers' elections during our clean rounds. */
export class PeerRounds {
  readonly #running = new Map<
    PeerName,
    { election: PeerElection; rounds: PeerRound[]; warmup: PeerRound[] }
  >();
  readonly #results = new Map<PeerName, PeerSection>();

  private constructor(private readonly say: (message: string) => void) {}

  /** Starts two contenders of each ready peer on `connectString`. */
  static async start(
    prepared: readonly PreparedPeer[],
    options: {
      zk: ZkClient;
      connectString: string;
      sessionTimeoutMs: number;
      say: (message: string) => void;
    },
  ): Promise<PeerRounds> {
    const rounds = new PeerRounds(options.say);
    for (const peer of prepared) {
      if ("skipped" in peer) {
        rounds.#results.set(peer.name, { skipped: peer.skipped });
        continue;
      }
      const election = new PeerElection(
        peer,
        options.zk,
        options.connectString,
        options.sessionTimeoutMs,
      );
      try {
        await election.start();
        rounds.#running.set(peer.name, { election, rounds: [], warmup: [] });
      } catch (error) {
        await election.close();
        rounds.#fail(peer.name, error);
      }
    }
    return rounds;
  }

  /** One round of every running peer; a peer that fails is stopped and reported. */
  async round(index: number, warmup: boolean, settleMs: number): Promise<void> {
    for (const [name, state] of this.#running) {
      try {
        const round = await state.election.round(settleMs);
        (warmup ? state.warmup : state.rounds).push(round);
        const figures = `callback ${round.callbackMs.toFixed(1)} ms, line ${
          round.lineMs.toFixed(1)
        } ms`;
        this.say(`${name} round ${index + 1}${warmup ? " (warm-up)" : ""}: ${figures}`);
      } catch (error) {
        this.#running.delete(name);
        await state.election.close();
        this.#fail(name, error);
      }
    }
  }

  /** Stops every contender and returns each peer's figures. */
  async close(): Promise<Partial<Record<PeerName, PeerSection>>> {
    for (const [name, { election, rounds, warmup }] of this.#running) {
      await election.close();
      this.#results.set(name, {
        version: election.peer.version,
        callback: summarize(rounds.map((r) => r.callbackMs)),
        line: summarize(rounds.map((r) => r.lineMs)),
        rounds,
        warmup,
      });
    }
    this.#running.clear();
    return Object.fromEntries(this.#results);
  }

  #fail(name: PeerName, error: unknown): void {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    this.say(`${name} failed: ${message}`);
    this.#results.set(name, { error: message });
  }
}
