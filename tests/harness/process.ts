/**
 * The lab's own programs (`master.ts`, `worker.ts`) as real child processes of the test, so tests
 * exercise real signals, real exits and real sockets.
 *
 * What it promises: every line a process prints, on stdout or stderr, lands in `lines` in the
 * order it was read, stamped with `performance.now()`; `exited` resolves only after both streams
 * are drained, so a line printed just before exit is never missed; a `waitForLine` that cannot be
 * satisfied rejects (on its deadline, or as soon as the process exits) with the process's last
 * lines. The environment is hermetic: only the variables the test gives, plus what Deno needs to
 * find its cache, so a developer's shell cannot change a test's outcome.
 */
import { delay } from "../../lib/common/backoff.ts";
import { waitFor } from "../../lib/common/wait.ts";

const REPO_ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
/** Variables a child inherits: what Deno needs to run and to reach its cache and the registry. */
const INHERITED_ENV =
  /^(PATH|HOME|TMPDIR|DENO_.*|NPM_CONFIG_.*|(HTTPS?|NO)_PROXY|ALLOW_UNSAFE_DENO)$/i;
const VERBOSE = Deno.env.get("LAB_TEST_VERBOSE") === "1";
const TAIL_LINES = 30;

/** One line of output. */
export interface LabLine {
  readonly text: string;
  /** `performance.now()` in the test process when the line was read. */
  readonly at: number;
  readonly stream: "stdout" | "stderr";
}

/** A line to wait for: a substring, a pattern, or a predicate. */
export type LineMatcher = string | RegExp | ((line: string) => boolean);

/** Options for {@linkcode spawnLab}. */
export interface SpawnLabOptions {
  /** Names the process in errors and verbose output. */
  name: string;
  /** The child's environment (NO_COLOR=1 is added). */
  env: Record<string, string>;
  /** Arguments after the script. */
  args?: string[];
  /**
   * A command that runs Deno for us, e.g. `["ip", "netns", "exec", "<ns>"]`. It must exec Deno in
   * place, so that the child's pid is Deno's and signals reach it.
   */
  prefix?: readonly string[];
}

/** Options for {@linkcode LabProcess.waitForLine}. */
export interface WaitForLineOptions {
  /** Default 10 000 ms. */
  timeoutMs?: number;
  /** The index in `lines` to start scanning from; default 0. */
  from?: number;
  /** Names the matcher in errors (a predicate's source says little). */
  description?: string;
}

/** Every lab process not yet exited, for {@linkcode cleanupAll} and the `unload` safety net. */
const live = new Set<LabProcess>();
globalThis.addEventListener("unload", () => {
  for (const process of live) process.signal("SIGKILL");
});

/** Runs `deno run --allow-all <repo>/<script>` with the repository root as working directory. */
export function spawnLab(script: string, options: SpawnLabOptions): LabProcess {
  if (!options.name) throw new TypeError(`Cannot spawn "${script}": name must not be empty`);
  const inherited = Object.entries(Deno.env.toObject()).filter(([key]) => INHERITED_ENV.test(key));
  const [command, ...prefixArgs] = [...(options.prefix ?? []), Deno.execPath()];
  const child = new Deno.Command(command, {
    args: [...prefixArgs, "run", "--allow-all", script, ...(options.args ?? [])],
    cwd: REPO_ROOT, // so `script` is relative to the repository root and deno.json is found
    clearEnv: true,
    env: { ...Object.fromEntries(inherited), ...options.env, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return new LabProcess(options.name, child);
}

/** Kills every lab process still running and waits for each to exit. */
export async function cleanupAll(): Promise<void> {
  await Promise.all([...live].map((process) => process.kill()));
}

interface Waiter {
  readonly test: (line: string) => boolean;
  readonly from: number;
  readonly settle: (line: LabLine | undefined, index: number) => void;
}

/** A running (or exited) lab process and everything it printed. */
export class LabProcess implements AsyncDisposable {
  readonly lines: LabLine[] = [];
  readonly pid: number;
  /** Resolves once the process has exited and all its output is in `lines`. */
  readonly exited: Promise<Deno.CommandStatus>;
  #status?: Deno.CommandStatus;
  readonly #waiters = new Set<Waiter>();

  constructor(readonly name: string, private readonly child: Deno.ChildProcess) {
    this.pid = child.pid;
    live.add(this);
    const drained = Promise.all([
      this.#read(child.stdout, "stdout"),
      this.#read(child.stderr, "stderr"),
    ]);
    this.exited = Promise.all([child.status, drained]).then(([status]) => {
      this.#status = status;
      live.delete(this);
      for (const waiter of this.#waiters) waiter.settle(undefined, -1);
      return status;
    });
  }

  /** True once the process has exited and its output is drained. */
  get hasExited(): boolean {
    return this.#status !== undefined;
  }

  /** Resolves with the first line at or after `from` that matches; see the module comment. */
  waitForLine(
    match: LineMatcher,
    options: WaitForLineOptions = {},
  ): Promise<{ text: string; index: number; at: number }> {
    const { timeoutMs = 10_000, from = 0 } = options;
    const test = toPredicate(match);
    const found = this.lines.findIndex((line, index) => index >= from && test(line.text));
    if (found >= 0) {
      const { text, at } = this.lines[found];
      return Promise.resolve({ text, index: found, at });
    }
    const wanted = `line matching ${options.description ?? describeMatcher(match)}`;
    const exitedFirst = () => `exited (${describe(this.#status!)}) before printing a ${wanted}`;
    if (this.#status) return Promise.reject(this.#failure(exitedFirst()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(this.#failure(`printed no ${wanted} within ${timeoutMs} ms (from line ${from})`));
      }, timeoutMs);
      const waiter: Waiter = {
        test,
        from,
        settle: (line, index) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          if (line) return resolve({ text: line.text, index, at: line.at });
          reject(this.#failure(exitedFirst()));
        },
      };
      this.#waiters.add(waiter);
    });
  }

  /** How many lines match. */
  count(match: LineMatcher): number {
    const test = toPredicate(match);
    return this.lines.filter((line) => test(line.text)).length;
  }

  /** Sends `signal`; false if the process has already exited. */
  signal(signal: Deno.Signal): boolean {
    if (this.#status) return false;
    try {
      this.child.kill(signal);
      return true;
    } catch {
      return false; // It exited between the check and the kill.
    }
  }

  /**
   * SIGSTOP, resolving once every thread of the process has stopped (the signal takes effect a
   * moment after it is sent); false if the process has already exited.
   */
  async pause(): Promise<boolean> {
    if (!this.signal("SIGSTOP")) return false;
    await untilStopped(this.pid, this.name);
    return true;
  }

  /** SIGTERM, SIGKILL if still running after `timeoutMs`; resolves with the exit status. */
  async stop(timeoutMs = 5000): Promise<Deno.CommandStatus> {
    if (this.signal("SIGTERM")) {
      const timer = new AbortController();
      const exitedInTime = await Promise.race([
        this.exited.then(() => true),
        delay(timeoutMs, { signal: timer.signal }).then(() => false, () => true),
      ]);
      timer.abort(); // Clear the timer so it does not hold the test open.
      if (!exitedInTime) this.signal("SIGKILL");
    }
    return await this.exited;
  }

  /** SIGKILL; resolves with the exit status. */
  kill(): Promise<Deno.CommandStatus> {
    this.signal("SIGKILL");
    return this.exited;
  }

  /** Stops the process, resuming it first in case a test paused it with SIGSTOP. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.signal("SIGCONT");
    await this.stop();
  }

  async #read(stream: ReadableStream<Uint8Array>, name: LabLine["stream"]): Promise<void> {
    let partial = "";
    try {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        const parts = (partial + chunk).split("\n");
        partial = parts.pop()!;
        for (const text of parts) this.#add(text.replace(/\r$/, ""), name);
      }
    } catch (error) {
      // Keep `exited` resolving; the failure shows up in the lines a failing wait prints.
      this.#add(`[harness] reading ${name} failed: ${error}`, name);
    } finally {
      if (partial) this.#add(partial, name);
    }
  }

  #add(text: string, stream: LabLine["stream"]): void {
    const line = { text, at: performance.now(), stream };
    const index = this.lines.push(line) - 1;
    if (VERBOSE) console.error(`[${this.name}] ${text}`);
    for (const waiter of this.#waiters) {
      if (index >= waiter.from && waiter.test(text)) waiter.settle(line, index);
    }
  }

  #failure(what: string): Error {
    const tail = this.lines.slice(-TAIL_LINES).map((line) => `  ${line.text}`).join("\n");
    return new Error(`${this.name} (pid ${this.pid}) ${what}; its last lines:\n${tail}`);
  }
}

function toPredicate(match: LineMatcher): (line: string) => boolean {
  if (typeof match === "string") return (line) => line.includes(match);
  if (match instanceof RegExp) {
    return (line) => {
      match.lastIndex = 0; // A /g or /y pattern would otherwise resume where it last matched.
      return match.test(line);
    };
  }
  return match;
}

function describeMatcher(match: LineMatcher): string {
  if (typeof match === "string") return JSON.stringify(match);
  if (match instanceof RegExp) return String(match);
  const source = match.toString().replace(/\s+/g, " ");
  return source.length > 120 ? `${source.slice(0, 117)}...` : source;
}

function describe(status: Deno.CommandStatus): string {
  return status.signal ? `signal ${status.signal}` : `code ${status.code}`;
}

/**
 * Resolves once every thread of process `pid` is stopped (by SIGSTOP): a signal takes effect a
 * moment after `kill` returns, and until then the process may still answer. `name` is for the
 * timeout's message.
 */
export async function untilStopped(pid: number, name: string): Promise<void> {
  // /proc/<pid>/task/<tid>/stat is "tid (comm) state ...": T once that thread has stopped.
  const stopped = async () => {
    for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
      const stat = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/stat`).catch(() => "");
      if (stat !== "" && !stat.slice(stat.lastIndexOf(")") + 2).startsWith("T")) return undefined;
    }
    return true;
  };
  await waitFor(stopped, {
    timeoutMs: 5000,
    intervalMs: 1,
    message: `every thread of ${name} (pid ${pid}) stopped by SIGSTOP`,
  });
}
