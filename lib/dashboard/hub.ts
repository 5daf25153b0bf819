/**
 * The dashboard's core: finds the lab that `deno task up` started (state.json, looked at every
 * second, so a lab brought up or taken down later is picked up), and for it runs the election
 * watch, the probes and the log follower, folding everything into one state that subscribers get
 * on every change. The page's buttons run through {@linkcode Hub.act}, on the lab's own backend.
 */
import type { Env } from "../config/config.ts";
import { type Backend, MASTERS } from "../lab/backend.ts";
import { chooseBackend } from "../lab/choose_backend.ts";
import { failoverCommand } from "../lab/commands/failover.ts";
import type { LabSettings } from "../lab/settings.ts";
import { readState } from "../lab/state.ts";
import { TaskSubmitter } from "../tasks/submitter.ts";
import type { ZkClient } from "../zookeeper/client.ts";
import { delay } from "../common/backoff.ts";
import { watchElection } from "./election_watch.ts";
import { parseLogLine } from "./log_lines.ts";
import { startProbes } from "./service_probes.ts";
import { labClientTls } from "../lab/lab_tls.ts";
import type { TlsCredentials } from "../grpc/grpc.ts";
import {
  applyInput,
  type DashboardInput,
  type DashboardState,
  initialState,
  type ServiceView,
} from "./state_model.ts";

/** What the buttons of a service can do. */
export const SERVICE_ACTIONS = ["stop", "kill", "pause", "resume", "start"] as const;
/** A service action. */
export type ServiceAction = typeof SERVICE_ACTIONS[number];

/** The answer to an action: HTTP status and a message for the page. */
export interface ActionResult {
  readonly status: number;
  readonly message: string;
}

/** Lines of each service's log read at start, so the page opens with some history. */
const HISTORY_LINES = 60;

/** See the module comment. */
export class Hub {
  #state: DashboardState = initialState();
  readonly #listeners = new Set<(state: DashboardState) => void>();
  #lab?: {
    backend: Backend;
    controller: AbortController;
    client?: ZkClient;
    poke(): void;
    /** What the dashboard presents to the lab's gRPC services (mutual TLS), if anything. */
    tls?: TlsCredentials;
  };

  constructor(private readonly settings: LabSettings, private readonly env: Env) {}

  /** The state now. */
  get state(): DashboardState {
    return this.#state;
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (state: DashboardState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Folds one observation in and tells the subscribers when it changed something. */
  apply(input: DashboardInput): void {
    const next = applyInput(this.#state, input);
    if (next === this.#state) return;
    this.#state = next;
    for (const listener of this.#listeners) listener(next);
  }

  /** Follows the lab until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let seen: string | undefined = "";
    while (!signal.aborted) {
      const recorded = await readState(this.settings.stateDir).catch(() => undefined);
      const key = recorded && JSON.stringify(recorded);
      if (key !== seen) {
        seen = key;
        this.#stopLab();
        if (recorded) {
          await this.#startLab(recorded.backend).catch((error) => {
            this.#noLab(`Cannot follow the lab: ${error instanceof Error ? error.message : error}`);
            seen = ""; // try again next round (a Docker engine may be starting)
          });
        } else {
          this.#noLab(
            `No lab is up (no state in ${this.settings.stateDir}): run "deno task up" and this page follows it`,
          );
        }
      }
      await delay(1000, { signal }).catch(() => {});
    }
    this.#stopLab();
  }

  /** Runs one button's action on a service. */
  async act(service: string, action: string): Promise<ActionResult> {
    const known = this.#state.services.map((s) => s.name);
    if (!known.includes(service)) {
      const names = known.length > 0 ? known.join(", ") : "none (no lab is up)";
      return {
        status: 404,
        message: `Unknown service "${service}": the lab's services are ${names}`,
      };
    }
    if (!(SERVICE_ACTIONS as readonly string[]).includes(action)) {
      return {
        status: 400,
        message: `Unknown action "${action}": the actions are ${SERVICE_ACTIONS.join(", ")}`,
      };
    }
    const lab = this.#lab;
    if (!lab) return { status: 409, message: "The lab is still being looked at: try again" };
    const backend = lab.backend;
    const run = {
      stop: () => backend.stop(service),
      kill: () => backend.kill(service),
      pause: () => backend.pause(service),
      resume: () => backend.resume(service),
      start: () => backend.start(service),
    }[action as ServiceAction];
    return await this.#track(service, action, run);
  }

  /** Submits one task through the leader (the same retrying client as `deno task submit`). */
  async submit(message: string): Promise<ActionResult> {
    const lab = this.#lab;
    if (!lab) return { status: 409, message: "No lab is up" };
    const masters: Record<string, string> = {};
    for (const service of this.#state.services) masters[service.name] = service.address;
    const submitter = new TaskSubmitter({
      zk: () => lab.client,
      electionPath: this.#state.electionPath ?? this.settings.electionPath,
      resolveAddress: (leader) => masters[leader.name] ?? leader.address,
      tls: lab.tls,
    });
    const taskId = `dashboard-${crypto.randomUUID().slice(0, 8)}`;
    try {
      const result = await submitter.submit(taskId, message, { deadlineMs: 10_000 });
      return {
        status: 200,
        message:
          `Task ${taskId}: ${result.message} (through ${result.leader}, ${result.attempts} attempt${
            result.attempts === 1 ? "" : "s"
          })`,
      };
    } catch (error) {
      return { status: 502, message: error instanceof Error ? error.message : String(error) };
    } finally {
      submitter.close();
    }
  }

  /** The measured clean handover of `deno task failover`, then the old leader back as follower. */
  failover(): Promise<ActionResult> {
    const lab = this.#lab;
    if (!lab) return Promise.resolve({ status: 409, message: "No lab is up" });
    const leader = this.#state.chain[0]?.name ?? "the leader";
    return this.#track(leader, "failover", () => failoverCommand(lab.backend));
  }

  async #track(service: string, action: string, run: () => Promise<void>): Promise<ActionResult> {
    this.apply({ type: "action", at: Date.now(), service, action, outcome: "sent" });
    try {
      await run();
      this.apply({ type: "action", at: Date.now(), service, action, outcome: "done" });
      return { status: 200, message: `${action} ${service}: done` };
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      this.apply({ type: "action", at: Date.now(), service, action, outcome: "failed", detail });
      return { status: 500, message: `${action} ${service} failed: ${detail}` };
    } finally {
      this.#lab?.poke();
    }
  }

  #noLab(message: string): void {
    this.apply({ type: "lab", at: Date.now(), up: false, message, services: [] });
  }

  async #startLab(name: "local" | "compose"): Promise<void> {
    const backend = await chooseBackend(name, this.settings, this.env);
    const endpoints = await backend.endpoints();
    // The lab's `cli` certificate when `up --tls` started it (or TLS_* of this process).
    const tls = await labClientTls(this.settings, this.env);
    const services: Pick<ServiceView, "name" | "kind" | "address">[] = [
      ...endpoints.zookeeper.map(({ service, address }) => ({
        name: service,
        kind: "zookeeper" as const,
        address,
      })),
      { name: "worker", kind: "worker", address: endpoints.worker },
      ...MASTERS.map((name) => ({
        name,
        kind: "master" as const,
        address: endpoints.masters[name],
      })),
    ];
    this.apply({
      type: "lab",
      at: Date.now(),
      up: true,
      backend: backend.name,
      message: `The ${backend.name} lab, election path ${endpoints.electionPath}`,
      electionPath: endpoints.electionPath,
      services,
    });
    const controller = new AbortController();
    const { signal } = controller;
    const names = services.map((service) => service.name);
    await this.#replayHistory(backend, names);
    const probes = startProbes(
      backend,
      () => this.#state.services,
      (input) => this.apply(input),
      signal,
      tls,
    );
    const lab = {
      backend,
      controller,
      tls,
      client: undefined as ZkClient | undefined,
      poke: probes.poke,
    };
    this.#lab = lab;
    void watchElection({
      servers: endpoints.zookeeper.map((server) => server.address),
      electionPath: endpoints.electionPath,
      onInput: (input) => this.apply(input),
      onClient: (client) => lab.client = client,
      signal,
    });
    void backend.followLogs(names, (service, line, at) => this.#logLine(service, line, at), {
      signal,
    });
  }

  /** The last lines of every log, oldest first across services, as if they came in now. */
  async #replayHistory(backend: Backend, names: readonly string[]): Promise<void> {
    const lines = await Promise.all(
      names.map(async (service) =>
        (await backend.recentLines(service, HISTORY_LINES).catch(() => [])).map((line) => ({
          service,
          line,
        }))
      ),
    );
    const records = lines.flat().map(({ service, line }) => ({
      service,
      record: parseLogLine(line),
    }))
      .filter((entry) => entry.record?.time !== undefined)
      .sort((a, b) => a.record!.time! - b.record!.time!);
    for (const { service, record } of records) {
      this.apply({ type: "log", at: record!.time!, service, record: record! });
    }
  }

  #logLine(service: string, line: string, at: number): void {
    const record = parseLogLine(line);
    if (record) this.apply({ type: "log", at, service, record });
  }

  #stopLab(): void {
    this.#lab?.controller.abort();
    this.#lab = undefined;
  }
}
