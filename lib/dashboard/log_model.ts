/**
 * What the services' log lines add to the dashboard's state (pure): role changes and their
 * reasons, the epochs the worker accepted, its tasks and refusals, session events, and the epoch
 * marks the failover timeline takes its last two steps from. The periodic status lines, which
 * carry no facts, change nothing. Also the two small edits every part of the model makes.
 */
import { failoverInput } from "./failover_model.ts";
import type { DashboardInput, DashboardState, LabEvent, ServiceView } from "./state_model.ts";

/** How many events the page keeps. */
export const MAX_EVENTS = 150;
const MAX_TASKS = 8;
const MAX_REFUSALS = 5;

/** Log lines that change what the page shows; the periodic status lines (no facts) do not. */
export function applyLog(
  state: DashboardState,
  input: Extract<DashboardInput, { type: "log" }>,
): DashboardState {
  const { record, service, at } = input;
  const { message, fields } = record;
  const event = (text: string, level = record.level) =>
    withEvent(state, { at, service, level, text });
  if (message === "I am the leader" && fields.epoch) {
    const next = markEpoch(
      event(`I am the leader (epoch ${fields.epoch})`),
      fields.epoch,
      "leading",
      at,
    );
    return failoverInput(next, input, state.chain[0]);
  }
  if (message === "I am the follower" && fields.leader) {
    return event(`I am the follower of ${fields.leader}`);
  }
  if (message === "Accepted a new leader epoch" && fields.epoch) {
    const next = markEpoch(
      updateService(event(`worker accepted epoch ${fields.epoch}`), service, (worker) => ({
        ...worker,
        acceptedEpoch: fields.epoch,
      })),
      fields.epoch,
      "accepted",
      at,
    );
    return failoverInput(next, input, state.chain[0]);
  }
  if (message.startsWith("Performing task: ")) {
    const id = message.slice("Performing task: ".length);
    return updateService(state, service, (worker) => ({
      ...worker,
      tasks: [{ id, at }, ...(worker.tasks ?? [])].slice(0, MAX_TASKS),
    }));
  }
  if (message === "Refused a task from a stale leader") {
    const text = `refused task ${fields.task ?? "?"}: ${fields.reason ?? "stale epoch"}`;
    return updateService(event(`worker ${text}`, "error"), service, (worker) => ({
      ...worker,
      refusals: [{ at, text }, ...(worker.refusals ?? [])].slice(0, MAX_REFUSALS),
    }));
  }
  const session = SESSION_MESSAGES[message];
  if (session) {
    const next = event(`${message}${fields.state ? ` (${fields.state})` : ""}`);
    return updateService(next, service, (view) => ({ ...view, session }));
  }
  if (message === "I am no longer the leader" || message === "Left the election for now") {
    return updateService(
      event(`${message}${fields.reason ? `: ${fields.reason}` : ""}`),
      service,
      (view) => ({ ...view, leftBecause: fields.reason ?? message }),
    );
  }
  if (NOTEWORTHY.has(message) || message.startsWith("server listening at")) {
    return event(`${message}`);
  }
  if (message === "The worker refused our epoch") return event(`${message}`, "error");
  return state;
}

const SESSION_MESSAGES: Record<string, ServiceView["session"]> = {
  "Connected to ZooKeeper": "connected",
  "Reconnected to ZooKeeper": "connected",
  "Disconnected from ZooKeeper": "disconnected",
  "ZooKeeper session ended": "expired",
};

const NOTEWORTHY = new Set([
  "Master serving",
  "Joined the election",
  "Our election node is gone; joining again",
  "The worker accepted our leadership",
  "Shutting down",
  "Master stopped",
  "Worker stopped",
  "Cannot reach the worker",
]);

function markEpoch(
  state: DashboardState,
  epoch: string,
  mark: "leading" | "accepted",
  at: number,
): DashboardState {
  const known = state.epochMarks[epoch] ?? {};
  if (known[mark] !== undefined) return state;
  // Only the latest few epochs matter; old ones are dropped so the record stays small.
  const entries = Object.entries({ ...state.epochMarks, [epoch]: { ...known, [mark]: at } })
    .sort(([a], [b]) => (BigInt(a) < BigInt(b) ? 1 : -1)).slice(0, 6);
  return { ...state, epochMarks: Object.fromEntries(entries) };
}

/** Adds an event, newest first, keeping at most MAX_EVENTS. */
export function withEvent(state: DashboardState, event: LabEvent): DashboardState {
  return { ...state, events: [event, ...state.events].slice(0, MAX_EVENTS) };
}

/** Replaces one service's view; the same state when nothing changed. */
export function updateService(
  state: DashboardState,
  name: string,
  update: (service: ServiceView) => ServiceView,
): DashboardState {
  const index = state.services.findIndex((service) => service.name === name);
  if (index < 0) return state;
  const updated = update(state.services[index]);
  if (JSON.stringify(updated) === JSON.stringify(state.services[index])) return state;
  const services = [...state.services];
  services[index] = updated;
  return { ...state, services };
}
