/**
 * The dashboard's state as plain data, and the one pure function that folds each observation into
 * it: ZooKeeper's election reads, probes of the services, the services' log lines and the actions
 * clicked on the page. No clock, no I/O: every input carries its own time, so the unit tests feed
 * plain records and the server, the page and the tests all see the same state.
 *
 * Who leads is ZooKeeper's answer (the chain of election nodes), never a log line: logs add what
 * only the processes know (the epoch the worker accepted, refusals, session events, reasons).
 */
import { type Failover, failoverInput, type FailoverSummary } from "./failover_model.ts";
import type { LogRecord } from "./log_lines.ts";
import { applyLog, updateService, withEvent } from "./log_model.ts";

/** The state of one election node, as the page draws it. */
export interface ChainNode {
  readonly node: string;
  readonly name: string;
  readonly address: string;
  readonly epoch: string;
  /** The owner session, `0x…`. */
  readonly owner: string;
}

/** What the dashboard knows of one service. */
export interface ServiceView {
  readonly name: string;
  readonly kind: "zookeeper" | "worker" | "master";
  readonly address: string;
  readonly process: "running" | "paused" | "stopped" | "unknown";
  /** `ruok`/`srvr` (ZooKeeper) or gRPC health; undefined until probed. */
  readonly health?: { readonly ok: boolean; readonly detail: string };
  /** ZooKeeper: standalone / leader / follower, and its last zxid. */
  readonly mode?: string;
  readonly zxid?: string;
  /** Masters: their place in the election, with the reason when out of it. */
  readonly role?: "leader" | "follower" | "none";
  readonly reason?: string;
  /** The reason the master's own log gave when it last left the election. */
  readonly leftBecause?: string;
  readonly epoch?: string;
  /** Masters: what their own log last said about their ZooKeeper session. */
  readonly session?: "connected" | "disconnected" | "expired";
  /** The worker: the highest epoch it accepted, its recent tasks and refusals. */
  readonly acceptedEpoch?: string;
  readonly tasks?: readonly { readonly id: string; readonly at: number }[];
  readonly refusals?: readonly { readonly at: number; readonly text: string }[];
}

/** One line of the page's event log. */
export interface LabEvent {
  readonly at: number;
  readonly service: string;
  readonly level: "info" | "warn" | "error";
  readonly text: string;
}

/** Everything the page shows. */
export interface DashboardState {
  /** Bumped on every change; the page and the tests can tell states apart. */
  readonly version: number;
  readonly lab: { readonly up: boolean; readonly backend?: string; readonly message: string };
  readonly electionPath?: string;
  readonly zookeeper: { readonly connected: boolean; readonly message: string };
  readonly chain: readonly ChainNode[];
  /** Children of the election path that are not a master's node: shown greyed, never followed. */
  readonly ignored: readonly string[];
  readonly services: readonly ServiceView[];
  /** Newest first, at most `MAX_EVENTS`. */
  readonly events: readonly LabEvent[];
  /** The latest leader change, complete or under way. */
  readonly failover?: Failover;
  /** Earlier completed failovers, newest first. */
  readonly history: readonly FailoverSummary[];
  /** Leader epochs seen in the masters' and the worker's logs, for failovers still being drawn. */
  readonly epochMarks: Readonly<Record<string, { leading?: number; accepted?: number }>>;
}

export { MAX_EVENTS } from "./log_model.ts";

/** One observation. */
export type DashboardInput =
  | {
    readonly type: "lab";
    readonly at: number;
    readonly up: boolean;
    readonly backend?: string;
    readonly message: string;
    readonly electionPath?: string;
    readonly services: readonly Pick<ServiceView, "name" | "kind" | "address">[];
  }
  | {
    readonly type: "zookeeper";
    readonly at: number;
    readonly connected: boolean;
    readonly message: string;
  }
  | {
    readonly type: "election";
    readonly at: number;
    readonly chain: readonly ChainNode[];
    readonly ignored: readonly string[];
  }
  /** The leader's node was deleted (its data watch fired). */
  | { readonly type: "node-gone"; readonly at: number; readonly node: string }
  | {
    readonly type: "probe";
    readonly at: number;
    readonly service: string;
    readonly process?: ServiceView["process"];
    readonly health?: ServiceView["health"];
    readonly mode?: string;
    readonly zxid?: string;
  }
  | {
    readonly type: "log";
    readonly at: number;
    readonly service: string;
    readonly record: LogRecord;
  }
  | {
    readonly type: "action";
    readonly at: number;
    readonly service: string;
    readonly action: string;
    readonly outcome: "sent" | "done" | "failed";
    readonly detail?: string;
  };

/** The state before anything was observed. */
export function initialState(): DashboardState {
  return {
    version: 0,
    lab: { up: false, message: "Looking for the lab…" },
    zookeeper: { connected: false, message: "Not connected to ZooKeeper yet" },
    chain: [],
    ignored: [],
    services: [],
    events: [],
    history: [],
    epochMarks: {},
  };
}

/** Folds one observation into the state; returns the same object when nothing changed. */
export function applyInput(state: DashboardState, input: DashboardInput): DashboardState {
  const next = reduce(state, input);
  if (next === state) return state;
  return { ...next, version: state.version + 1, services: withRoles(next) };
}

function reduce(state: DashboardState, input: DashboardInput): DashboardState {
  switch (input.type) {
    case "lab": {
      const services = input.services.map((service): ServiceView => ({
        ...service,
        process: "unknown",
        ...state.services.find((known) => known.name === service.name),
      }));
      const same = state.lab.up === input.up && state.lab.message === input.message &&
        JSON.stringify(state.services.map((s) => [s.name, s.address])) ===
          JSON.stringify(services.map((s) => [s.name, s.address]));
      if (same) return state;
      const gone = input.up ? {} : { chain: [], ignored: [] };
      return {
        ...state,
        ...gone,
        lab: { up: input.up, backend: input.backend, message: input.message },
        electionPath: input.electionPath,
        services,
      };
    }
    case "zookeeper": {
      if (
        state.zookeeper.connected === input.connected && state.zookeeper.message === input.message
      ) {
        return state;
      }
      const text = input.connected ? "The dashboard is connected to ZooKeeper" : input.message;
      return withEvent({
        ...state,
        zookeeper: { connected: input.connected, message: input.message },
      }, {
        at: input.at,
        service: "dashboard",
        level: input.connected ? "info" : "warn",
        text,
      });
    }
    case "election": {
      const changed = JSON.stringify([state.chain, state.ignored]) !==
        JSON.stringify([input.chain, input.ignored]);
      if (!changed) return state;
      let next: DashboardState = { ...state, chain: input.chain, ignored: input.ignored };
      const [leader] = input.chain;
      if (leader && leader.node !== state.chain[0]?.node) {
        next = withEvent(next, {
          at: input.at,
          service: leader.name,
          level: "info",
          text: `${leader.name} is first in the election (epoch ${leader.epoch})`,
        });
      }
      return failoverInput(next, input, state.chain[0]);
    }
    case "node-gone": {
      const gone = state.chain.find((node) => node.node === input.node);
      if (!gone) return state;
      return failoverInput(
        withEvent(state, {
          at: input.at,
          service: gone.name,
          level: "info",
          text: `${gone.name}'s election node is gone`,
        }),
        input,
        state.chain[0],
      );
    }
    case "probe":
      return updateService(state, input.service, (service) => {
        const next = { ...service };
        if (input.process !== undefined) next.process = input.process;
        if (input.health !== undefined) next.health = input.health;
        if (input.mode !== undefined || input.health !== undefined) next.mode = input.mode;
        if (input.zxid !== undefined) next.zxid = input.zxid;
        return next;
      });
    case "log":
      return applyLog(state, input);
    case "action": {
      const verb = { sent: "sent", done: "done", failed: "failed" }[input.outcome];
      const withIt = withEvent(state, {
        at: input.at,
        service: input.service,
        level: input.outcome === "failed" ? "error" : "info",
        text: `${input.action} ${input.service}: ${verb}${
          input.detail ? ` (${input.detail})` : ""
        }`,
      });
      return failoverInput(withIt, input, state.chain[0]);
    }
  }
}

/** Each master's role and epoch from the chain: ZooKeeper decides, the rest explains. */
function withRoles(state: DashboardState): ServiceView[] {
  return state.services.map((service) => {
    if (service.kind !== "master") return service;
    const index = state.chain.findIndex((node) => node.name === service.name);
    if (index >= 0) {
      const role = index === 0 ? "leader" : "follower";
      const reason = service.process === "paused"
        ? "paused: its node stays until its session times out"
        : undefined;
      return { ...service, role, epoch: state.chain[index].epoch, reason };
    }
    const reason = !state.zookeeper.connected
      ? "unknown: the dashboard cannot reach ZooKeeper"
      : service.process === "stopped"
      ? "stopped"
      : service.process === "paused"
      ? "paused"
      : service.leftBecause ?? "not in the election";
    return { ...service, role: "none", epoch: undefined, reason };
  });
}
