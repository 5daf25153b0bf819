/**
 * `submit`: sends tasks to the lab as a client would, `deno task submit <message> [--count N]`.
 * The leader is found through ZooKeeper (ZK_SERVERS, ELECTION_PATH); each task gets its own id
 * (`<run>-<n>`) and is retried with that same id across failovers until its deadline, so it is
 * performed at most once. Every task gets exactly one line on stdout: its answer or its error.
 * ZooKeeper connection trouble is reported on stderr.
 */
import { parseArgs } from "node:util";
import { ConfigError, type Env, parseZooKeeperConfig } from "../../config/config.ts";
import type { Candidate } from "../../election/decisions.ts";
import { createLogger } from "../../common/log.ts";
import type { TlsCredentials } from "../../grpc/grpc.ts";
import { TaskSubmitter } from "../../tasks/submitter.ts";
import { ZkSession } from "../../zookeeper/session.ts";

/** Each task's total deadline, retries included. */
const TASK_DEADLINE_MS = 30_000;
/** How long to wait for the first ZooKeeper connection before giving up. */
const CONNECT_TIMEOUT_MS = 10_000;
const MAX_COUNT = 100_000;

/** The help text of `submit`. */
export const SUBMIT_USAGE = `Usage: deno task submit <message> [--count N]

Submits N tasks (default 1) carrying <message> to the leading master and prints one line per
task: its answer ("<message> gatech") or why it failed. Each task is retried with the same task id
across failovers for up to ${TASK_DEADLINE_MS / 1000} s. Environment: ZK_SERVERS (default
localhost:2181), ELECTION_PATH (default /election), ZK_AUTH (optional "user:password").`;

/** A `submit` command line or environment that cannot be run. */
export class SubmitUsageError extends Error {
  override name = "SubmitUsageError";
}

/** What `submit` will do, read from its arguments and environment. */
export interface SubmitCommand {
  readonly message: string;
  readonly count: number;
  readonly zkServers: readonly string[];
  readonly electionPath: string;
  readonly zkAuth?: string;
}

/** Parses `submit`'s arguments (after the command name) and environment; throws SubmitUsageError. */
export function parseSubmitCommand(args: readonly string[], env: Env): SubmitCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { count: { type: "string", short: "n" } },
    });
  } catch (error) {
    throw new SubmitUsageError(error instanceof Error ? error.message : String(error));
  }
  const message = parsed.positionals.join(" ");
  if (message.trim() === "") throw new SubmitUsageError("submit needs a message");
  const countText = parsed.values.count ?? "1";
  const count = /^\d+$/.test(countText) ? Number(countText) : NaN;
  if (!(count >= 1 && count <= MAX_COUNT)) {
    throw new SubmitUsageError(
      `--count must be an integer from 1 to ${MAX_COUNT}: got "${countText}"`,
    );
  }
  let zooKeeper;
  try {
    zooKeeper = parseZooKeeperConfig(env, "submit");
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new SubmitUsageError(error.message);
  }
  const { zkServers, electionPath, zkAuth } = zooKeeper;
  return { message, count, zkServers, electionPath, zkAuth };
}

/**
 * Runs `submit` with `args`; resolves with the exit code (0: every task answered). With `tls`, the
 * calls to the masters use mutual TLS.
 */
export async function runSubmit(
  args: string[],
  env: Env = Deno.env.toObject(),
  resolveAddress?: (leader: Candidate) => string,
  tls?: TlsCredentials,
): Promise<number> {
  let command: SubmitCommand;
  try {
    command = parseSubmitCommand(args, env);
  } catch (error) {
    if (!(error instanceof SubmitUsageError)) throw error;
    console.error(`${error.message}\n\n${SUBMIT_USAGE}`);
    return 2;
  }
  const out = createLogger("text");
  // Only trouble goes to stderr: "Connected to ZooKeeper" is no news to someone submitting.
  const diagnostics = createLogger("text", {
    write: (line) => / (WARN|ERROR): /.test(line) && console.error(line),
  });
  let connected!: () => void;
  const firstConnection = new Promise<void>((resolve) => connected = resolve);
  const session = new ZkSession({
    zkServers: command.zkServers,
    sessionTimeoutMs: 4000,
    electionPath: command.electionPath,
    zkAuth: command.zkAuth,
  }, {
    logger: diagnostics,
    onEvent: (event) => event.type === "connected" && connected(),
  });
  const submitter = new TaskSubmitter({
    zk: () => session.client,
    electionPath: command.electionPath,
    resolveAddress,
    tls,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    session.start();
    const reached = await Promise.race([
      firstConnection.then(() => true),
      new Promise<boolean>((resolve) =>
        timer = setTimeout(() => resolve(false), CONNECT_TIMEOUT_MS)
      ),
    ]);
    if (!reached) {
      console.error(
        `Cannot reach ZooKeeper at ${command.zkServers.join(",")} within ${
          CONNECT_TIMEOUT_MS / 1000
        } s (is the lab up? "deno task up" starts it)`,
      );
      return 1;
    }
    const run = crypto.randomUUID().slice(0, 8);
    let failed = 0;
    for (let n = 1; n <= command.count; n++) {
      const taskId = `${run}-${n}`;
      try {
        const result = await submitter.submit(taskId, command.message, {
          deadlineMs: TASK_DEADLINE_MS,
        });
        out.info(`Task ${taskId}: ${result.message}`, {
          leader: result.leader,
          attempts: result.attempts,
        });
      } catch (error) {
        failed++;
        out.error(`Task ${taskId} failed: ${error instanceof Error ? error.message : error}`);
      }
    }
    return failed === 0 ? 0 : 1;
  } finally {
    clearTimeout(timer);
    submitter.close();
    await session.close();
  }
}
