/**
 * The lab CLI as a newcomer runs it, on the local backend: a state folder and free ports of its
 * own, `deno task <command>` in the project root, the services' log files, and a `close()` that
 * takes the lab down and leaves no process behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePorts } from "../../lib/common/ports.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** A lab of one test: its environment and how to run its tasks. */
export class LocalLab {
  readonly stateDir = Deno.makeTempDirSync({ prefix: "lab-local-test-" });
  readonly env: Record<string, string>;
  /** Free ports picked with the lab's own, for what a test runs beside it (e.g. a dashboard). */
  readonly extraPorts: number[];

  constructor(options: { env?: Record<string, string>; extraPorts?: number } = {}) {
    const [zookeeper, worker, master1, master2, zoo1, zoo2, zoo3, ...extra] = freePorts(
      7 + (options.extraPorts ?? 0),
    );
    this.extraPorts = extra;
    this.env = {
      LAB_STATE_DIR: this.stateDir,
      LAB_ZK_PORT: String(zookeeper),
      LAB_WORKER_PORT: String(worker),
      LAB_MASTER1_PORT: String(master1),
      LAB_MASTER2_PORT: String(master2),
      LAB_ZOO1_PORT: String(zoo1),
      LAB_ZOO2_PORT: String(zoo2),
      LAB_ZOO3_PORT: String(zoo3),
      NO_COLOR: "1",
      ...options.env,
    };
  }

  /** Runs `deno task <args>` in the project root; resolves with its exit code and output. */
  async task(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["task", ...args],
      cwd: ROOT,
      env: this.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
  }

  /** Like {@linkcode task}, but fails the test on a non-zero exit. */
  async ok(...args: string[]): Promise<string> {
    const result = await this.task(...args);
    assert.equal(
      result.code,
      0,
      `deno task ${args.join(" ")} failed:\n${result.stdout}${result.stderr}`,
    );
    return result.stdout;
  }

  /** The text of one service's log file. */
  log(service: string): string {
    try {
      return Deno.readTextFileSync(join(this.stateDir, "logs", `${service}.log`));
    } catch {
      return "";
    }
  }

  /** Waits until `service`'s log matches `pattern` (at or after character `from`). */
  async waitForLog(service: string, pattern: RegExp, from = 0, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.log(service).slice(from))) {
      if (Date.now() > deadline) {
        assert.fail(
          `${service} did not log ${pattern} within ${timeoutMs} ms:\n${this.log(service)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** The pids in the state folder's pid files. */
  pids(): number[] {
    try {
      return [...Deno.readDirSync(join(this.stateDir, "run"))].map((entry) =>
        Number(Deno.readTextFileSync(join(this.stateDir, "run", entry.name)).split(" ")[0])
      );
    } catch {
      return [];
    }
  }

  /** Takes the lab down (whatever state it is in) and removes its folder. */
  async close(pids: readonly number[]): Promise<void> {
    // --backend local: after the test's own `down` no state is left, and without it `down` would
    // pick Compose whenever a Docker engine answers, taking down a real stack on this machine.
    await this.task("down", "--backend", "local");
    // The test must not leave processes behind, even if `down` failed.
    for (const pid of [...pids, ...this.pids()].filter(isAlive)) Deno.kill(pid, "SIGKILL");
    Deno.removeSync(this.stateDir, { recursive: true });
  }
}

/** True while `pid` runs (a zombie waiting for its parent to reap it counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}
