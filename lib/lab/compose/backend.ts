/**
 * The Compose backend: shells out to `docker compose` or `docker-compose` (1.29) with compose.yaml
 * in the project root. Container names equal service names, so `docker logs <service>` (fast, no
 * Python start-up) reads a service's recent output. Ports are published on 127.0.0.1 by compose.yaml.
 */
import { join } from "node:path";
import type {
  Backend,
  Endpoints,
  LogLineListener,
  PrintLogsOptions,
  ProcessState,
} from "../backend.ts";
import { checkKnownService, LabError, logServices } from "../backend.ts";
import { followContainerLogs } from "./follow_logs.ts";
import { certificatesDir } from "../certificates.ts";
import { runCommand } from "./run_command.ts";
import { PROJECT_ROOT } from "../settings.ts";
import type { LabSettings } from "../settings.ts";
import { type LabState, removeLabFiles, removeState, writeState } from "../state.ts";

const SERVICES = ["zookeeper", "worker", "master1", "master2"];
const ENSEMBLE_SERVICES = ["zoo1", "zoo2", "zoo3"];
/** Every service compose.yaml defines, for argument checks. */
const ALL_SERVICES = [...SERVICES, ...ENSEMBLE_SERVICES];
/** What the apps are given in the ensemble profile (compose.yaml reads ZK_SERVERS). */
const ENSEMBLE_ZK_SERVERS = "zoo1:2181,zoo2:2181,zoo3:2181";
/**
 * compose.yaml tags the app image, so `down --rmi local` keeps it; `clean` removes it by name and,
 * with the untagged builds it replaced, by the Dockerfile's label.
 */
const APP_IMAGE = "zk-lab/app:latest";
const APP_IMAGE_LABEL = "zk-lab.image=app";

/** See the module comment. */
export class ComposeBackend implements Backend {
  readonly name = "compose";
  // The first `up` builds the app image (npm packages are fetched during the build).
  readonly upTimeoutMs = 600_000;

  #state: LabState | undefined;

  /** `state` is what `up` recorded, as chooseBackend read it. */
  constructor(
    private readonly settings: LabSettings,
    private readonly compose: string[],
    state?: LabState,
  ) {
    this.#state = state;
  }

  async up(options: { ensemble: boolean; tls?: boolean }): Promise<void> {
    this.#state = {
      backend: "compose",
      ensemble: options.ensemble,
      ...(options.tls ? { tls: true } : {}),
    };
    await writeState(this.settings.stateDir, this.#state);
    await this.#run(["up", "-d", "--build"], options.ensemble);
  }

  async stop(service: string): Promise<void> {
    checkKnownService(service, ALL_SERVICES);
    await this.#run(["stop", service]);
  }

  async start(service: string): Promise<void> {
    checkKnownService(service, ALL_SERVICES);
    await this.#run(["start", service]);
  }

  async kill(service: string): Promise<void> {
    checkKnownService(service, ALL_SERVICES);
    await this.#run(["kill", service]);
  }

  async pause(service: string): Promise<void> {
    checkKnownService(service, ALL_SERVICES);
    await this.#run(["pause", service]);
  }

  async resume(service: string): Promise<void> {
    checkKnownService(service, ALL_SERVICES);
    await this.#run(["unpause", service]);
  }

  async processState(service: string): Promise<ProcessState> {
    // Container names equal service names (compose.yaml).
    const result = await runCommand(
      ["docker", "inspect", "--format", "{{.State.Status}}", service],
      { timeoutMs: 5000 },
    );
    const status = result.stdout.trim();
    return status === "paused" ? "paused" : status === "running" ? "running" : "stopped";
  }

  followLogs(
    services: readonly string[],
    onLine: LogLineListener,
    options: { readonly signal: AbortSignal },
  ): Promise<void> {
    return followContainerLogs(services, onLine, options);
  }

  async down(): Promise<void> {
    // The profile makes down remove zoo1..zoo3 too, whichever way the lab was started. -v: the
    // ZooKeeper image declares anonymous volumes (/data, /datalog, /logs) that no later container
    // reuses, so without it every down would leave three behind per server.
    await this.#run(["down", "-v", "--remove-orphans"], true);
    await removeState(this.settings.stateDir);
    this.#state = undefined;
  }

  async clean(): Promise<void> {
    await this.#run(["down", "--rmi", "local", "-v", "--remove-orphans"], true);
    // Full ids from both queries, so an image found by both is named (and removed) once.
    const labelled = await runCommand(
      ["docker", "images", "--quiet", "--no-trunc", "--filter", `label=${APP_IMAGE_LABEL}`],
      { timeoutMs: 10_000 },
    );
    // An image built before the label existed is still found by its tag.
    const tagged = await runCommand(["docker", "image", "inspect", "--format={{.Id}}", APP_IMAGE]);
    const found = labelled.stdout + (tagged.success ? tagged.stdout : "");
    const images = new Set(found.split("\n").filter((id) => id !== ""));
    if (images.size > 0) {
      const removed = await runCommand(["docker", "image", "rm", ...images], { inherit: true });
      if (!removed.success) throw new LabError(`Cannot remove the lab's images: ${[...images]}`);
    }
    await removeLabFiles(this.settings.stateDir);
  }

  async printLogs(service: string | undefined, options: PrintLogsOptions): Promise<void> {
    if (service) checkKnownService(service, ALL_SERVICES);
    const names = logServices(service, await this.services());
    // docker-compose 1.29 colours its prefixes even into a pipe or file, and ignores NO_COLOR.
    const plain = Deno.noColor || !Deno.stdout.isTerminal();
    const args = [
      "logs",
      ...(plain ? ["--no-color"] : []),
      `--tail=${options.lines}`,
      ...(options.follow ? ["-f"] : []),
    ];
    await this.#run([...args, ...names], this.#ensemble());
  }

  async recentLines(service: string, count: number): Promise<string[]> {
    const result = await runCommand(["docker", "logs", "--tail", String(count), service], {
      timeoutMs: 10_000,
    });
    // The apps log to stdout; stderr holds only start-up failures, so stdout's order is what counts.
    return (result.stdout + result.stderr).split("\n").filter((line) => line !== "");
  }

  services(): Promise<string[]> {
    return Promise.resolve(this.#ensemble() ? [...SERVICES, ...ENSEMBLE_SERVICES] : SERVICES);
  }

  endpoints(): Promise<Endpoints> {
    return Promise.resolve(this.#endpoints());
  }

  #endpoints(): Endpoints {
    // compose.yaml publishes on 127.0.0.1 with the same LAB_*_PORT variables (inherited by it).
    const { ports } = this.settings;
    const published = this.#ensemble()
      ? ENSEMBLE_SERVICES.map((service, index) => ({ service, port: ports.zoo[index] }))
      : [{ service: "zookeeper", port: ports.zookeeper }];
    const zookeeper = this.settings.composeZkServers
      ? this.settings.composeZkServers.map((address, index) => ({
        service: published[index]?.service ?? `zookeeper${index + 1}`,
        address,
      }))
      : published.map(({ service, port }) => ({ service, address: `127.0.0.1:${port}` }));
    return {
      zookeeper,
      electionPath: this.settings.electionPath,
      worker: `127.0.0.1:${ports.worker}`,
      masters: { master1: `127.0.0.1:${ports.master1}`, master2: `127.0.0.1:${ports.master2}` },
    };
  }

  /** True when `up --tls` started the stack: compose.tls.yaml goes on top of compose.yaml. */
  #tls(): boolean {
    return this.#state?.tls ?? false;
  }

  #ensemble(): boolean {
    return this.#state?.ensemble ?? false;
  }

  /** Runs one Compose command in the project root, its output shown; throws when it fails. */
  async #run(args: string[], ensemble = false): Promise<void> {
    const command = [
      ...this.compose,
      "--project-directory",
      PROJECT_ROOT,
      "-f",
      join(PROJECT_ROOT, "compose.yaml"),
      ...(this.#tls() ? ["-f", join(PROJECT_ROOT, "compose.tls.yaml")] : []),
      ...(ensemble ? ["--profile", "ensemble"] : []),
      ...args,
    ];
    const env: Record<string, string> = {
      ELECTION_PATH: this.settings.electionPath,
      LAB_CERTS_DIR: certificatesDir(this.settings.stateDir),
    };
    if (ensemble && args[0] === "up") env.ZK_SERVERS = ENSEMBLE_ZK_SERVERS;
    const result = await runCommand(command, { inherit: true, env });
    if (!result.success) {
      throw new LabError(`"${command.join(" ")}" failed with exit code ${result.code}`);
    }
  }
}
