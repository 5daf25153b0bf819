/**
 * Starting and stopping the local lab's processes, one service at a time, through pid files in
 * `run/` and logs appended to `logs/<service>.log` under the state folder.
 */
import { join } from "node:path";
import type { Env } from "../../config/config.ts";
import { checkServicePort } from "./layout.ts";
import { type LocalService, localServices, zooKeeperDir } from "./services.ts";
import { loggingFiles, renderZooCfg } from "../../zookeeper/launcher.ts";
import {
  isPaused,
  isRunning,
  readPidFile,
  signalProcess,
  spawnDetached,
  stopProcess,
  writePidFile,
} from "./processes.ts";
import type { ProcessState } from "../backend.ts";
import { PROJECT_ROOT } from "../settings.ts";
import { delay } from "../../common/backoff.ts";
import type { LocalLayout } from "../state.ts";

/** How long a stopped process may take to exit before it is killed. */
const STOP_GRACE_MS = 5000;

/** See the module comment. */
export class LocalRunner {
  readonly runDir: string;
  readonly logDir: string;

  constructor(readonly stateDir: string, private readonly env: Env) {
    this.runDir = join(stateDir, "run");
    this.logDir = join(stateDir, "logs");
  }

  /** The services of `layout`, in start order. */
  services(layout: LocalLayout): LocalService[] {
    return localServices(layout, {
      stateDir: this.stateDir,
      denoPath: Deno.execPath(),
      env: this.env,
    });
  }

  logPath(service: string): string {
    return join(this.logDir, `${service}.log`);
  }

  async isRunning(service: string): Promise<boolean> {
    return isRunning(await readPidFile(this.#pidPath(service)));
  }

  /** Starts `service` unless it runs; resolves true when it was started now. */
  async start(layout: LocalLayout, service: LocalService): Promise<boolean> {
    if (await this.isRunning(service.name)) return false;
    checkServicePort(layout, service.name);
    await Deno.mkdir(this.runDir, { recursive: true });
    await Deno.mkdir(this.logDir, { recursive: true });
    if (service.kind === "zookeeper") await this.#writeZooKeeperConfig(layout, service.name);
    const id = spawnDetached({
      command: service.command,
      env: service.env,
      cwd: PROJECT_ROOT,
      logPath: this.logPath(service.name),
    });
    await writePidFile(this.#pidPath(service.name), id);
    return true;
  }

  /** Stops `service` (SIGTERM, then SIGKILL after a grace period); resolves false if not running. */
  async stop(service: string): Promise<boolean> {
    const id = await readPidFile(this.#pidPath(service));
    await Deno.remove(this.#pidPath(service)).catch(() => {});
    if (!isRunning(id)) return false;
    await stopProcess(id!, { graceMs: STOP_GRACE_MS });
    return true;
  }

  /** Kills `service` (SIGKILL) and resolves once it is gone; false if it was not running. */
  async kill(service: string): Promise<boolean> {
    const id = await readPidFile(this.#pidPath(service));
    if (!signalProcess(id, "SIGKILL")) return false;
    await Deno.remove(this.#pidPath(service)).catch(() => {});
    while (isRunning(id)) await delay(5);
    return true;
  }

  /** Sends SIGSTOP or SIGCONT to `service`; resolves false if it is not running. */
  async freeze(service: string, frozen: boolean): Promise<boolean> {
    return signalProcess(await readPidFile(this.#pidPath(service)), frozen ? "SIGSTOP" : "SIGCONT");
  }

  /** Running, paused (stopped by SIGSTOP) or stopped. */
  async processState(service: string): Promise<ProcessState> {
    const id = await readPidFile(this.#pidPath(service));
    return isPaused(id) ? "paused" : isRunning(id) ? "running" : "stopped";
  }

  /** Services with a pid file, whatever the state says (for `down` after a lost state.json). */
  recordedServices(): Promise<string[]> {
    return namesIn(this.runDir, ".pid");
  }

  /** Services with a log file. */
  loggedServices(): Promise<string[]> {
    return namesIn(this.logDir, ".log");
  }

  async #writeZooKeeperConfig(layout: LocalLayout, service: string): Promise<void> {
    const server = layout.zookeeper.find((s) => s.service === service)!;
    const dir = zooKeeperDir(this.stateDir, service);
    await Deno.mkdir(join(dir, "data"), { recursive: true });
    const config = renderZooCfg(server, layout.zookeeper, join(dir, "data"));
    await Deno.writeTextFile(join(dir, "zoo.cfg"), config);
    for (const [name, text] of Object.entries(loggingFiles())) {
      await Deno.writeTextFile(join(dir, name), text);
    }
    await Deno.writeTextFile(join(dir, "data", "myid"), `${server.id}\n`);
  }

  #pidPath(service: string): string {
    return join(this.runDir, `${service}.pid`);
  }
}

/** The names of the files in `dir` that end in `suffix`, without it; none if `dir` is missing. */
async function namesIn(dir: string, suffix: string): Promise<string[]> {
  try {
    const entries = await Array.fromAsync(Deno.readDir(dir));
    return entries.filter((entry) => entry.name.endsWith(suffix))
      .map((entry) => entry.name.slice(0, -suffix.length)).sort();
  } catch {
    return [];
  }
}
