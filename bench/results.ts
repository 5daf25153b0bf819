/**
 * The bench's results: their shape (written as JSON as it is) and the targets of issues 5 and 9
 * judged against them.
 */
import type { FailoverRound } from "./failover.ts";
import type { IdleFigures } from "./idle.ts";
import type { MachineFacts } from "./machine.ts";
import type { PeerFigures, PeerSection } from "./peers/peer_rounds.ts";
import type { PeerName } from "./peers/prepare.ts";
import type { RpcCase, RpcFigures, RpcMode } from "./rpc.ts";
import type { ScalingRow } from "./scaling.ts";
import type { StartupRound } from "./startup.ts";
import { round, summarize, type Summary } from "./stats.ts";

/** A section that could not be measured says why instead. */
export type Section<T> = T | { readonly error: string };

/** Failover figures: summaries of each step, in ms from the signal (minus `offsetMs`). */
export interface FailoverFigures {
  readonly sessionTimeoutMs: number;
  /** Subtracted from every figure: the session timeout for a crash, 0 for a clean stop. */
  readonly offsetMs: number;
  /** The warm-up rounds, not in the figures (ms from the signal, nothing subtracted). */
  readonly warmup: FailoverRound[];
  readonly nodeGone: Summary;
  readonly decided: Summary;
  readonly accepted: Summary;
  readonly confirmed: Summary;
  /** The worker's `accepted` line as it reached the bench through its pipe (absent in old runs). */
  readonly acceptedLine?: Summary;
  /** From the node's deletion to the worker's acceptance: the part the lab's code controls. */
  readonly handover: Summary;
  readonly rounds: FailoverRound[];
}

/** Everything a run measured. */
export interface BenchResults {
  readonly date: string;
  readonly quick: boolean;
  /** The sections this run measured. */
  readonly sections: string[];
  durationS: number;
  readonly machine: MachineFacts;
  readonly nodeVersion: string;
  readonly baselinePackages: Readonly<Record<string, string>>;
  /**
   * Per section: the share of the machine (all cores) that other work used meanwhile, and the load
   * averages (1, 5, 15 min, our own processes included) when it ended.
   */
  readonly sectionLoad: Record<string, { foreignCpuPercent: number; loadAverage: number[] }>;
  readonly howMeasured: string[];
  startup?: Section<
    { warmupRounds: number; summary: Record<string, Summary>; rounds: StartupRound[] }
  >;
  cleanFailover?: Section<FailoverFigures>;
  /** The peers' clean failovers, run interleaved with ours (issue 9). */
  peers?: Partial<Record<PeerName, PeerSection>>;
  readonly crashFailover: Section<FailoverFigures>[];
  idle?: Section<{ windowMs: number; processes: IdleFigures[] }>;
  rpc?: Section<{
    repetitions: number;
    warmupMs: number;
    durationMs: number;
    concurrency: number;
    cases: Record<RpcCase, Record<RpcMode, RpcFigures>>;
  }>;
  /** How the cost of a failover grows with the number of contenders (issue 9). */
  scaling?: Section<ScalingRow[]>;
  targets?: Target[];
}

/** One target of issue 5 and whether this run met it. */
export interface Target {
  readonly figure: string;
  readonly measured: string;
  readonly target: string;
  readonly met: boolean;
}

/** Summarizes failover rounds, subtracting `offsetMs` from every figure. */
export function failoverFigures(
  rounds: FailoverRound[],
  options: { sessionTimeoutMs: number; offsetMs: number; warmup: FailoverRound[] },
): FailoverFigures {
  const step = (pick: (round: FailoverRound) => number) =>
    summarize(rounds.map((r) => pick(r) - options.offsetMs));
  return {
    ...options,
    nodeGone: step((r) => r.nodeGoneMs),
    decided: step((r) => r.decidedMs),
    accepted: step((r) => r.acceptedMs),
    confirmed: step((r) => r.confirmedMs),
    acceptedLine: step((r) => r.acceptedLineMs),
    handover: summarize(rounds.map((r) => r.acceptedMs - r.nodeGoneMs)),
    rounds,
  };
}

/** The section's figures, or undefined when it was not measured. */
export function ok<T extends object>(section: Section<T> | undefined): T | undefined {
  return section && !("error" in section) ? section as T : undefined;
}

const ms = (value: number) => `${round(value, 1)} ms`;
/** `+ 12 ms` or `− 246 ms`. */
const signed = (value: number) => `${value < 0 ? "−" : "+"} ${Math.abs(round(value, 0) ?? NaN)} ms`;

/** Judges the run against issue 5's targets. */
export function judgeTargets(results: BenchResults, tickMs: number): Target[] {
  const targets: Target[] = [];
  const clean = ok(results.cleanFailover);
  if (clean) targets.push(...peerTargets(clean, results.peers ?? {}));
  for (const crash of results.crashFailover.map(ok)) {
    if (!crash) continue;
    const limit = tickMs + 50;
    targets.push({
      figure: `crash failover max, session ${crash.sessionTimeoutMs} ms`,
      measured: `timeout ${signed(crash.accepted.max)}`,
      target: `≤ timeout + ${limit} ms (tick ${tickMs} + 50)`,
      met: crash.accepted.max <= limit,
    });
  }
  const rpc = ok(results.rpc);
  if (rpc) {
    for (const mode of ["sequential", "concurrent"] as const) {
      const { ratioToDenoBare: ratio, ratioToDenoBareRange: [low, high] } = rpc.cases.lab[mode];
      targets.push({
        figure: `RPC ${
          mode === "sequential" ? "sequential" : `concurrency ${rpc.concurrency}`
        }, lab vs the bare files under Deno`,
        measured: `${round(ratio, 2)}× (runs ${round(low, 2)}–${round(high, 2)})`,
        target: "≥ 0.9×",
        met: ratio >= 0.9,
      });
    }
  }
  const idle = ok(results.idle);
  for (const process of idle?.processes ?? []) {
    targets.push({
      figure: `idle CPU, ${process.name}`,
      measured: `${round(process.cpuPercent, 2)} %`,
      target: "< 1 %",
      met: process.cpuPercent < 1,
    });
  }
  return targets;
}

/** The measured peers, best (lowest callback p50) first. */
export function rankedPeers(
  peers: Partial<Record<PeerName, PeerSection>>,
): { name: PeerName; figures: PeerFigures }[] {
  return Object.entries(peers)
    .flatMap(([name, section]) =>
      section && "callback" in section ? [{ name: name as PeerName, figures: section }] : []
    )
    .sort((a, b) => a.figures.callback.p50 - b.figures.callback.p50);
}

/** Issue 9: clean failover p50 ≤ 0.8× the best peer's p50, p99 ≤ the best peer's p99. */
function peerTargets(
  clean: FailoverFigures,
  peers: Partial<Record<PeerName, PeerSection>>,
): Target[] {
  const ranked = rankedPeers(peers);
  if (ranked.length === 0) {
    const why = Object.entries(peers).map(([name, s]) =>
      `${name}: ${s && "skipped" in s ? s.skipped : s && "error" in s ? s.error : "not run"}`
    ).join("; ") || "no peer ran";
    return [{
      figure: "clean failover vs the best peer",
      measured: `${ms(clean.accepted.p50)} p50 (no peer measured: ${why})`,
      target: "≤ 0.8× best peer p50",
      met: false,
    }];
  }
  const best = ranked[0];
  const bestP99 = Math.min(...ranked.map((peer) => peer.figures.callback.p99));
  return [
    {
      figure: "clean failover p50 vs the best peer",
      measured: `${ms(clean.accepted.p50)} = ${
        round(clean.accepted.p50 / best.figures.callback.p50, 2)
      }× ${best.name} (${ms(best.figures.callback.p50)})`,
      target: "≤ 0.8× best peer p50",
      met: clean.accepted.p50 <= 0.8 * best.figures.callback.p50,
    },
    {
      figure: "clean failover p99 vs the best peer",
      measured: `${ms(clean.accepted.p99)} vs ${ms(bestP99)}`,
      target: "≤ best peer p99",
      met: clean.accepted.p99 <= bestP99,
    },
  ];
}
