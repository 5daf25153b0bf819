/**
 * The local backend: ZooKeeper, the worker and both masters as background processes of this
 * machine. Everything lives in the state folder: `state.json`, `run/<service>.pid`,
 * `logs/<service>.log`, `zookeeper/<server>/` (zoo.cfg and data). Processes are started detached,
 * so they keep running after the CLI exits, and are stopped with SIGTERM (a clean leave).
 */
import { join } from "node:path";
import type { Env } from "../../config/config.ts";
import { readElection } from "../../election/read_election.ts";
import {
  type Backend,
  checkKnownService,
  type Endpoints,
  LabError,
  type LogLineListener,
  logServices,
  type PrintLogsOptions,
  type ProcessState,
} from "../backend.ts";
import { withZooKeeper } from "../probes/election_probe.ts";
import { checkServicePort, localEndpoints, planLocalLayout } from "./layout.ts";
import { LocalRunner } from "./runner.ts";
import { followFiles, lastLines, logPrefix } from "./log_files.ts";
import type { LabSettings } from "../settings.ts";
import {
  type LabState,
  type LocalLayout,
  removeLabFiles,
  removeState,
  writeState,
} from "../state.ts";
import { waitFor } from "../../common/wait.ts";
import { zooKeeperHealth } from "../../zookeeper/four_letter_words.ts";
import { checkHealth } from "../../grpc/grpc.ts";
import { labCertificateTls } from "../lab_tls.ts";

/** See the module comment. */
export class LocalBackend implements Backend {
  readonly name = "local";
  readonly upTimeoutMs = 30_000;
  readonly #runner: LocalRunner;
  #state: LabState | undefined;

  /** `state` is what `up` recorded, as chooseBackend read it. */
  constructor(private readonly settings: LabSettings, env: Env, state?: LabState) {
    this.#runner = new LocalRunner(settings.stateDir, env);
    this.#state = state;
  }

  async up(options: { ensemble: boolean; tls?: boolean }): Promise<void> {
    const layout = await this.#layoutForUp(options.ensemble, options.tls ?? false);
    const runner = this.#runner;
    const services = runner.services(layout);
    const service = (name: string) => services.find((s) => s.name === name)!;
    // Every port is checked before anything starts, so a taken one leaves nothing half-started.
    for (const { name } of services) {
      if (!await runner.isRunning(name)) checkServicePort(layout, name);
    }
    // ZooKeeper first and serving, so the apps connect at their first attempt.
    for (const server of layout.zookeeper) await runner.start(layout, service(server.service));
    await Promise.all(layout.zookeeper.map((server) =>
      waitFor(
        async () =>
          (await zooKeeperHealth(`127.0.0.1:${server.clientPort}`, { timeoutMs: 1000 })).ok ||
          undefined,
        { timeoutMs: 30_000, intervalMs: 100, message: `${server.service} to serve clients` },
      )
    ));
    // The worker serving before the masters start: the first leader's first call reaches it, so the
    // first screen of `logs` has no "Cannot reach the worker" (compose.yaml waits the same way).
    if (await runner.start(layout, service("worker"))) {
      const address = `127.0.0.1:${layout.workerPort}`;
      const tls = layout.tls ? labCertificateTls(this.settings.stateDir) : undefined;
      await waitFor(
        async () =>
          (await checkHealth(address, { timeoutMs: 1000, tls })) === "SERVING" || undefined,
        { timeoutMs: 30_000, intervalMs: 50, message: `the worker to serve at ${address}` },
      );
    }
    // master1 joins before master2 starts, so the walkthrough's first leader is master1.
    if (await runner.start(layout, service("master1")) && !await runner.isRunning("master2")) {
      await withZooKeeper(localEndpoints(layout), (client) =>
        waitFor(async () => {
          const order = await readElection(client, layout.electionPath);
          return order.some((candidate) => candidate.name === "master1") || undefined;
        }, { timeoutMs: 15_000, message: "master1 to join the election" }));
    }
    await runner.start(layout, service("master2"));
  }

  async stop(service: string): Promise<void> {
    this.#checkKnown(this.#layout(), service);
    console.log(
      await this.#runner.stop(service) ? `Stopped ${service}` : `${service} is not running`,
    );
  }

  async start(service: string): Promise<void> {
    const layout = this.#layout();
    this.#checkKnown(layout, service);
    const spec = this.#runner.services(layout).find((s) => s.name === service)!;
    const started = await this.#runner.start(layout, spec);
    console.log(started ? `Started ${service}` : `${service} is already running`);
  }

  async kill(service: string): Promise<void> {
    this.#checkKnown(this.#layout(), service);
    console.log(
      await this.#runner.kill(service) ? `Killed ${service}` : `${service} is not running`,
    );
  }

  async pause(service: string): Promise<void> {
    await this.#freeze(service, true);
  }

  async resume(service: string): Promise<void> {
    await this.#freeze(service, false);
  }

  processState(service: string): Promise<ProcessState> {
    return this.#runner.processState(service);
  }

  async followLogs(
    services: readonly string[],
    onLine: LogLineListener,
    options: { readonly signal: AbortSignal },
  ): Promise<void> {
    const files = services.map((service) => ({ service, path: this.#runner.logPath(service) }));
    // The text log has whole seconds only: a line is timed when it is read, woken by inotify.
    await Deno.mkdir(this.#runner.logDir, { recursive: true });
    await followFiles(files, (service, line) => onLine(service, line, Date.now()), {
      signal: options.signal,
      intervalMs: 200,
      watchDir: this.#runner.logDir,
    });
  }

  async down(): Promise<void> {
    const state = this.#state;
    // Masters first (they leave the election at once), ZooKeeper last.
    const names = state?.backend === "local"
      ? this.#runner.services(state.local).map((s) => s.name).reverse()
      : await this.#runner.recordedServices();
    for (const name of names) {
      if (await this.#runner.stop(name)) console.log(`Stopped ${name}`);
    }
    // Logs stay for a look after the fact; the next `up` starts them afresh.
    await Deno.remove(this.#runner.runDir, { recursive: true }).catch(() => {});
    await Deno.remove(join(this.settings.stateDir, "zookeeper"), { recursive: true }).catch(
      () => {},
    );
    await removeState(this.settings.stateDir);
    this.#state = undefined;
  }

  async clean(): Promise<void> {
    await this.down();
    await removeLabFiles(this.settings.stateDir);
    console.log(`Removed the lab's files from ${this.settings.stateDir}`);
  }

  async printLogs(service: string | undefined, options: PrintLogsOptions): Promise<void> {
    const known = await this.services();
    if (service && !known.includes(service) && !(service === "zookeeper" && known.length > 0)) {
      const names = known.length > 0 ? known.join(", ") : "none (the lab has not run yet)";
      throw new LabError(`No logs of "${service}": the lab's services are ${names}`);
    }
    const names = logServices(service, known);
    const width = Math.max(...names.map((name) => name.length));
    const print = (name: string, line: string) => console.log(logPrefix(name, width) + line);
    for (const name of names) {
      for (const line of await this.recentLines(name, options.lines)) print(name, line);
    }
    if (!options.follow) return;
    const controller = new AbortController();
    Deno.addSignalListener("SIGINT", () => controller.abort());
    const files = names.map((name) => ({ service: name, path: this.#runner.logPath(name) }));
    await followFiles(files, print, { signal: controller.signal });
  }

  recentLines(service: string, count: number): Promise<string[]> {
    return lastLines(this.#runner.logPath(service), count);
  }

  /** The lab's services; after `down`, those whose logs the last run left. */
  async services(): Promise<string[]> {
    const state = this.#state;
    if (state?.backend === "local") return this.#runner.services(state.local).map((s) => s.name);
    return await this.#runner.loggedServices();
  }

  endpoints(): Promise<Endpoints> {
    const state = this.#state;
    if (state?.backend === "local") return Promise.resolve(localEndpoints(state.local));
    return Promise.resolve(localEndpoints(planLocalLayout(this.settings, { ensemble: false })));
  }

  /** The layout to start: the recorded one, or a new one when the lab is down. */
  async #layoutForUp(ensemble: boolean, tls: boolean): Promise<LocalLayout> {
    const state = this.#state;
    if (state?.backend === "compose") {
      throw new LabError(
        'Cannot start the local lab: the lab runs in Compose ("deno task down" first)',
      );
    }
    const sameTls = (state?.tls ?? false) === tls;
    if (state?.ensemble === ensemble && sameTls) return state.local;
    if (state && await this.#anyRunning(state.local)) {
      if (!sameTls) {
        throw new LabError(
          `Cannot start the local lab ${tls ? "with" : "without"} --tls: it runs ${
            tls ? "without" : "with"
          } mutual TLS ("deno task down" first)`,
        );
      }
      const running = state.ensemble ? "with" : "without";
      throw new LabError(
        `Cannot start the local lab ${
          ensemble ? "with" : "without"
        } --ensemble: it runs ${running} one ("deno task down" first)`,
      );
    }
    // A new lab: fresh logs, so `logs` shows this run only.
    await Deno.remove(this.#runner.logDir, { recursive: true }).catch(() => {});
    const layout = planLocalLayout(this.settings, { ensemble, tls });
    this.#state = { backend: "local", ensemble, local: layout, ...(tls ? { tls } : {}) };
    await writeState(this.settings.stateDir, this.#state);
    return layout;
  }

  #layout(): LocalLayout {
    const state = this.#state;
    if (state?.backend !== "local") {
      throw new LabError(
        `The local lab is not up (no state in ${this.settings.stateDir}): run "deno task up" first`,
      );
    }
    return state.local;
  }

  #checkKnown(layout: LocalLayout, service: string): void {
    checkKnownService(service, this.#runner.services(layout).map((s) => s.name));
  }

  async #freeze(service: string, frozen: boolean): Promise<void> {
    this.#checkKnown(this.#layout(), service);
    if (!await this.#runner.freeze(service, frozen)) {
      throw new LabError(`${service} is not running`);
    }
    console.log(`${frozen ? "Paused" : "Resumed"} ${service}`);
  }

  async #anyRunning(layout: LocalLayout): Promise<boolean> {
    for (const service of this.#runner.services(layout)) {
      if (await this.#runner.isRunning(service.name)) return true;
    }
    return false;
  }
}
