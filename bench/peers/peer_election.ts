/**
 * One peer's election on the bench's ZooKeeper: two contenders (kazoo or Curator programs, see
 * prepare.ts) on a fresh path, and failover rounds like ours: SIGTERM the leader and time, from
 * the signal, until the other contender's leadership callback. Each contender prints
 * `LEADER <id> <unix ms>` from inside its callback; that timestamp is the figure (`callbackMs`),
 * and the moment the line reached us through the pipe is kept too (`lineMs`, the same kind of
 * figure as ours). After each round a new contender replaces the stopped one and the bench waits
 * until it has joined (two children under the path) and for the settle time.
 */
import type { ZkClient } from "../../lib/zookeeper/client.ts";
import { LabProcess } from "../../tests/harness/process.ts";
import { delay } from "../../lib/common/backoff.ts";
import { waitFor } from "../../lib/common/wait.ts";
import type { PeerName, PreparedPeer } from "./prepare.ts";

/** One peer failover, in ms from the signal. */
export interface PeerRound {
  /** The successor's callback ran (its own clock, the wall clock, as ours is). */
  readonly callbackMs: number;
  /** Its line reached the bench (the bench's monotonic clock). */
  readonly lineMs: number;
}

/** `contenders` contenders of one peer (default two), kept at that number across rounds. */
export class PeerElection {
  readonly path = `/bench-peer-${crypto.randomUUID()}`;
  readonly #contenders: LabProcess[] = [];
  #started = 0;

  constructor(
    readonly peer: Extract<PreparedPeer, { command: unknown }>,
    private readonly zk: ZkClient,
    private readonly connectString: string,
    private readonly sessionTimeoutMs: number,
    private readonly contenders = 2,
  ) {}

  get name(): PeerName {
    return this.peer.name;
  }

  /** Starts the contenders and waits until one leads and all have joined. */
  async start(): Promise<void> {
    const first = this.#spawn();
    await first.waitForLine(/^LEADER /, { timeoutMs: 30_000 });
    for (let i = 1; i < this.contenders; i++) this.#spawn();
    await this.#untilJoined();
  }

  /** SIGTERMs the leader, times the hand-over, then replaces it and lets things settle. */
  async round(settleMs: number): Promise<PeerRound> {
    const round = await this.failover();
    await this.replace(settleMs);
    return round;
  }

  /** SIGTERMs the leader and times the hand-over; resolves once the leader has exited. */
  async failover(): Promise<PeerRound> {
    const leader = this.#leader();
    const others = this.#contenders.filter((c) => c !== leader && !c.hasExited);
    if (others.length === 0) {
      throw new Error(`Cannot run a ${this.name} round: no second contender`);
    }
    const marks = others.map((contender) => contender.lines.length);
    const sentAt = performance.now();
    const sentAtWall = performance.timeOrigin + sentAt;
    leader.signal("SIGTERM");
    // Whichever contender comes next in the recipe's order leads; the others never print.
    const waits = others.map((contender, i) =>
      contender.waitForLine(/^LEADER /, { from: marks[i], timeoutMs: 10_000 })
    );
    const line = await Promise.any(waits).catch(() => {
      throw new Error(`No ${this.name} contender took over within 10000 ms`);
    });
    for (const wait of waits) wait.catch(() => {}); // The rest time out; that is expected.
    const callbackAt = Number(line.text.split(" ")[2]);
    await leader.exited;
    this.#contenders.splice(this.#contenders.indexOf(leader), 1);
    return { callbackMs: callbackAt - sentAtWall, lineMs: line.at - sentAt };
  }

  /** Starts a contender in place of the stopped one, waits until it has joined, then `settleMs`. */
  async replace(settleMs: number): Promise<void> {
    this.#spawn();
    await this.#untilJoined();
    await delay(settleMs);
  }

  /** Stops every contender. */
  async close(): Promise<void> {
    await Promise.all(this.#contenders.map((contender) => contender.stop()));
  }

  #spawn(): LabProcess {
    const id = `${this.name}${++this.#started}`;
    const [command, ...args] = this.peer.command(
      this.connectString,
      this.path,
      id,
      this.sessionTimeoutMs,
    );
    const child = new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const contender = new LabProcess(id, child);
    this.#contenders.push(contender);
    return contender;
  }

  /** The contender whose `LEADER` line came last among those still running. */
  #leader(): LabProcess {
    let best: { contender: LabProcess; at: number } | undefined;
    for (const contender of this.#contenders) {
      if (contender.hasExited) continue;
      const line = contender.lines.findLast((l) => l.text.startsWith("LEADER "));
      if (line && (!best || line.at > best.at)) best = { contender, at: line.at };
    }
    if (!best) throw new Error(`Cannot run a ${this.name} round: no contender leads`);
    return best.contender;
  }

  /** Waits until every contender has a node under the path and has said READY. */
  async #untilJoined(): Promise<void> {
    await waitFor(async () => {
      const ready = this.#contenders.every((c) => c.lines.some((l) => l.text.startsWith("READY ")));
      if (!ready) return undefined;
      const children = await this.zk.getChildren(this.path);
      return children.length >= this.contenders ? true : undefined;
    }, {
      timeoutMs: 60_000,
      message: `${this.contenders} ${this.name} contenders under ${this.path}`,
    });
  }
}
