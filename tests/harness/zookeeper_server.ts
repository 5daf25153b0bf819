/**
 * One ZooKeeper server's JVM across restarts: same port, same directories. It owns the child
 * process, files the JVM's output in the log file, and knows whether the JVM still runs.
 *
 * If the test process exits without closing a server, an `unload` handler still SIGKILLs the JVM.
 */
import type { ServerLayout } from "./zookeeper_setup.ts";
import { delay } from "../../lib/common/backoff.ts";
import { waitFor } from "../../lib/common/wait.ts";
import { untilStopped } from "./process.ts";
import { fourLetterWord } from "../../lib/zookeeper/four_letter_words.ts";

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const FOUR_LETTER_TIMEOUT_MS = 2_000;

/** A ZooKeeper server process that a test can stop, restart, crash and freeze. */
export interface ZooKeeperServer extends AsyncDisposable {
  /** The client port on 127.0.0.1. */
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly connectString: string;
  readonly dataDir: string;
  /** The JVM's output: ZooKeeper's WARN and above, and anything the JVM itself prints. */
  readonly logFile: string;
  /** True from `start()` until the JVM has exited (also while paused). */
  readonly isRunning: boolean;
  /** Starts the JVM again on the same port and data; resolves once it serves. */
  start(options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<void>;
  /** SIGTERM, then waits for the JVM to exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** SIGKILL, then waits for the JVM to exit. */
  kill(): Promise<void>;
  /**
   * SIGSTOP: the server keeps its sockets open but answers nothing. Resolves once the kernel shows
   * the JVM stopped (the signal takes effect a moment after it is sent).
   */
  pause(): Promise<void>;
  /** SIGCONT. */
  resume(): void;
  /** Sends a four-letter word (`ruok`, `srvr`, `mntr`, `wchp`, ...) and returns the answer. */
  fourLetter(command: string, options?: { timeoutMs?: number }): Promise<string>;
  /** The last `lines` lines of the log file. */
  logTail(lines?: number): Promise<string>;
  /** Kills the JVM and removes the temporary directories. Idempotent. */
  close(): Promise<void>;
}

/** Resolves when `server` serves, `undefined` while it does not yet. */
export type ReadyProbe = (server: ZooKeeperServer) => Promise<true | undefined>;

/** Every JVM still running, for the `unload` safety net. */
const running = new Set<Deno.ChildProcess>();
globalThis.addEventListener("unload", () => {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
});

/** See the module comment. */
export class JavaZooKeeper implements ZooKeeperServer {
  #child?: Deno.ChildProcess;
  /** Resolves once the current JVM has exited and all its output is in the log file. */
  #exited: Promise<Deno.CommandStatus> = Promise.resolve({ success: true, code: 0, signal: null });
  #isRunning = false;
  #closing?: Promise<void>;

  constructor(
    readonly port: number,
    private readonly layout: ServerLayout,
    private readonly isReady: ReadyProbe,
  ) {}

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  get dataDir(): string {
    return this.layout.dataDir;
  }

  get logFile(): string {
    return this.layout.logFile;
  }

  get isRunning(): boolean {
    return this.#isRunning;
  }

  async start(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    this.launch();
    await this.waitUntilReady(options);
  }

  /** Spawns the JVM without waiting for it to serve (an ensemble launches all members first). */
  launch(): void {
    if (this.#closing) throw new Error(`Cannot start ZooKeeper on port ${this.port}: closed`);
    if (this.#isRunning) {
      throw new Error(`Cannot start ZooKeeper on port ${this.port}: it is already running`);
    }
    const { java, args, logFile } = this.layout;
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(java, { args, stdin: "null", stdout: "piped", stderr: "piped" })
        .spawn();
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new Error(`Cannot start ZooKeeper: "${java}" not found; install Java or set JAVA_HOME`);
    }
    this.#child = child;
    this.#isRunning = true;
    running.add(child);
    // Both pipes must be read to the end, or the JVM blocks and Deno reports leaked resources.
    const drained = [child.stdout, child.stderr].map((stream) =>
      stream.pipeTo(Deno.openSync(logFile, { append: true, create: true }).writable)
    );
    this.#exited = Promise.all([child.status, ...drained]).then(([status]) => {
      running.delete(child);
      this.#isRunning = false;
      return status;
    });
  }

  /** Polls the ready probe; fails early if the JVM exits, and always with the log tail. */
  async waitUntilReady(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    const gone = new AbortController();
    this.#exited.then((status) => gone.abort(new Error(`the JVM exited (${describe(status)})`)));
    const signal = options.signal ? AbortSignal.any([gone.signal, options.signal]) : gone.signal;
    try {
      await waitFor(() => this.isReady(this), {
        timeoutMs: options.timeoutMs ?? READY_TIMEOUT_MS,
        message: `ZooKeeper on port ${this.port} to serve`,
        signal,
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const tail = await this.logTail();
      throw new Error(
        `ZooKeeper on port ${this.port} did not start: ${reason}\n--- ${this.logFile} ---\n${tail}`,
        { cause: error },
      );
    } finally {
      gone.abort(); // Done waiting: a later exit has nobody to tell.
    }
  }

  async stop(): Promise<void> {
    if (!this.#signal("SIGTERM")) return;
    this.#signal("SIGCONT"); // A paused JVM would hold the SIGTERM until resumed.
    const exited = this.#exited;
    const timer = new AbortController();
    const timedOut = await Promise.race([
      exited.then(() => false),
      delay(STOP_TIMEOUT_MS, { signal: timer.signal }).then(() => true, () => false),
    ]);
    timer.abort(); // Clear the timer so it does not hold the test (or the process) open.
    if (timedOut) this.#signal("SIGKILL");
    await exited;
  }

  async kill(): Promise<void> {
    this.#signal("SIGKILL");
    await this.#exited;
  }

  async pause(): Promise<void> {
    if (this.#signal("SIGSTOP")) await untilStopped(this.#child!.pid, "ZooKeeper");
  }

  resume(): void {
    this.#signal("SIGCONT");
  }

  fourLetter(command: string, options: { timeoutMs?: number } = {}): Promise<string> {
    return fourLetterWord(this.connectString, command, {
      timeoutMs: options.timeoutMs ?? FOUR_LETTER_TIMEOUT_MS,
    });
  }

  async logTail(lines = 40): Promise<string> {
    const text = await Deno.readTextFile(this.logFile).catch(() => "(no log file)");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.kill();
      await Deno.remove(this.layout.root, { recursive: true });
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Sends `signal` to the running JVM; false if there is none. */
  #signal(signal: Deno.Signal): boolean {
    if (!this.#isRunning || !this.#child) return false;
    try {
      this.#child.kill(signal);
      return true;
    } catch {
      return false; // It exited between the check and the kill.
    }
  }
}

function describe(status: Deno.CommandStatus): string {
  return status.signal ? `signal ${status.signal}` : `code ${status.code}`;
}
