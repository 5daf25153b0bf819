/**
 * The failover timeline, folded from the same observations as the rest of the state (pure): from
 * the fault (a stop, kill or pause of the leader sent from the page, or else the moment its node
 * vanished) to the worker accepting the new leader's epoch, with the steps `deno task failover`
 * prints. Each observation is stamped when the dashboard learned it; a later step proves an
 * earlier one had happened by then, so an earlier step is never drawn after a later one.
 */
import type { ChainNode, DashboardInput, DashboardState } from "./state_model.ts";

/** The steps of a failover, in causal order. */
export const STEP_KINDS = ["fault", "gone", "first", "leading", "accepted"] as const;

/** One step of a failover. */
export interface FailoverStep {
  readonly kind: typeof STEP_KINDS[number];
  readonly label: string;
  readonly at: number;
  /** Milliseconds after the failover started. */
  readonly offsetMs: number;
}

/** A leader change, complete or under way. */
export interface Failover {
  readonly from: string;
  readonly fromNode: string;
  readonly to?: string;
  readonly epoch?: string;
  /** What started it: `stop`, `kill`, `pause`, `failover`, or `node gone` when seen only then. */
  readonly cause: string;
  readonly startedAt: number;
  readonly steps: readonly FailoverStep[];
  /** Set once the worker accepted the new epoch. */
  readonly totalMs?: number;
}

/** A completed failover in the history strip. */
export interface FailoverSummary {
  readonly from: string;
  readonly to: string;
  readonly epoch: string;
  readonly cause: string;
  readonly at: number;
  readonly totalMs: number;
}

const MAX_HISTORY = 12;
const FAULTS: Record<string, string> = {
  stop: "stop (SIGTERM) sent to",
  kill: "kill (SIGKILL) sent to",
  pause: "pause (SIGSTOP) sent to",
  failover: "failover: stop sent to",
};

/** Updates the failover for one input; `leader` is the chain's first node before the input. */
export function failoverInput(
  state: DashboardState,
  input: DashboardInput,
  leader: ChainNode | undefined,
): DashboardState {
  const current = state.failover;
  const open = current && current.totalMs === undefined ? current : undefined;
  switch (input.type) {
    case "action": {
      if (input.outcome !== "sent" || !FAULTS[input.action] || input.service !== leader?.name) {
        return state;
      }
      const started: Failover = {
        from: leader.name,
        fromNode: leader.node,
        cause: input.action,
        startedAt: input.at,
        steps: [],
      };
      return {
        ...state,
        failover: step(started, "fault", `${FAULTS[input.action]} ${leader.name}`, input.at),
      };
    }
    case "node-gone": {
      if (open?.fromNode === input.node) {
        return withFailover(state, step(open, "gone", goneLabel(open), input.at));
      }
      if (leader?.node !== input.node) return state;
      const started = startedBy(leader, input.at);
      return withFailover(state, step(started, "gone", goneLabel(started), input.at));
    }
    case "election": {
      if (!leader) return state;
      const [first] = input.chain;
      if (first?.node === leader.node) return state;
      let failover = open?.fromNode === leader.node ? open : startedBy(leader, input.at);
      if (!input.chain.some((node) => node.node === leader.node)) {
        failover = step(failover, "gone", goneLabel(failover), input.at);
      }
      if (first) {
        failover = step(
          { ...failover, to: first.name, epoch: first.epoch },
          "first",
          `${first.name} is first in the election (epoch ${first.epoch})`,
          input.at,
        );
        // The new leader's log may have been read before ZooKeeper's answer.
        failover = withEpochMarks(failover, state);
      }
      return withFailover(state, failover);
    }
    case "log":
      // Also after completion: the new leader's own line may be read after the worker's.
      return current?.epoch ? withFailover(state, withEpochMarks(current, state)) : state;
    default:
      return state;
  }
}

function startedBy(leader: ChainNode, at: number): Failover {
  return { from: leader.name, fromNode: leader.node, cause: "node gone", startedAt: at, steps: [] };
}

function goneLabel(failover: Failover): string {
  return `${failover.from}'s election node is gone`;
}

/** Adds the steps the logs gave for this failover's epoch. */
function withEpochMarks(failover: Failover, state: DashboardState): Failover {
  const marks = failover.epoch ? state.epochMarks[failover.epoch] : undefined;
  let next = failover;
  if (marks?.leading !== undefined) {
    next = step(next, "leading", `${next.to} logged "I am the leader"`, marks.leading);
  }
  if (marks?.accepted !== undefined) {
    next = step(
      next,
      "accepted",
      `the worker accepted ${next.to}'s epoch ${next.epoch}`,
      marks.accepted,
    );
  }
  return next;
}

/** Adds a step unless it is there; keeps the causal order (see the module comment). */
function step(failover: Failover, kind: FailoverStep["kind"], label: string, at: number): Failover {
  if (failover.steps.some((known) => known.kind === kind)) return failover;
  const steps = [...failover.steps, { kind, label, at, offsetMs: 0 }]
    .sort((a, b) => STEP_KINDS.indexOf(a.kind) - STEP_KINDS.indexOf(b.kind));
  // The fault is when we sent it, a fact; the observed steps after it are clamped backwards.
  for (let i = steps.length - 2; i >= 0; i--) {
    if (steps[i].kind !== "fault" && steps[i].at > steps[i + 1].at) {
      steps[i] = { ...steps[i], at: steps[i + 1].at };
    }
  }
  const timed = steps.map((s) => ({ ...s, offsetMs: Math.max(0, s.at - failover.startedAt) }));
  const accepted = timed.find((s) => s.kind === "accepted");
  return { ...failover, steps: timed, totalMs: accepted ? accepted.offsetMs : undefined };
}

function withFailover(state: DashboardState, failover: Failover): DashboardState {
  const finished = state.failover?.totalMs === undefined && failover.totalMs !== undefined;
  if (!finished) return { ...state, failover };
  const summary: FailoverSummary = {
    from: failover.from,
    to: failover.to!,
    epoch: failover.epoch!,
    cause: failover.cause,
    at: failover.startedAt,
    totalMs: failover.totalMs!,
  };
  return { ...state, failover, history: [summary, ...state.history].slice(0, MAX_HISTORY) };
}
