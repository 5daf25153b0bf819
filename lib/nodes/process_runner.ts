/**
 * What every entry point does around its `run…()` function: refuse a Deno known to crash, parse
 * the config (a bad value exits 2 with a message naming the variable), turn SIGINT/SIGTERM into
 * one AbortSignal, and exit within a bounded time even if shutdown hangs.
 */
import { ConfigError, type Env } from "../config/config.ts";
import { denoVersionProblem, OVERRIDE_VARIABLE } from "./deno_version.ts";
import { createLogger, type LogFormat, type Logger } from "../common/log.ts";

/** How long a clean shutdown may take before the process exits anyway. */
export const SHUTDOWN_DEADLINE_MS = 1800;

/** What `run` gets: the logger and the signal that asks it to stop. */
export interface RunContext {
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /**
   * Runs `hook` the moment a stop signal arrives, before anything else (the log line, `signal`'s
   * listeners, whose dispatch alone takes a fraction of a millisecond): for what must not wait,
   * such as a leader's leaving the election. The rest of the shutdown waits for the promise a hook
   * returns (the exit deadline runs meanwhile).
   */
  readonly onStop: (hook: () => void | Promise<void>) => void;
}

/** Runs a process: `run` resolves when it has shut down after the signal. */
export async function main<C extends { readonly logFormat: LogFormat }>(
  parse: (env: Env) => C,
  run: (config: C, context: RunContext) => Promise<void>,
): Promise<never> {
  const env = Deno.env.toObject();
  const problem = denoVersionProblem(Deno.version.deno);
  if (problem && env[OVERRIDE_VARIABLE] !== "1") {
    console.error(problem);
    Deno.exit(3);
  }
  let config: C;
  try {
    config = parse(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    Deno.exit(2);
  }
  const logger = createLogger(config.logFormat);
  const controller = new AbortController();
  const hooks: (() => void | Promise<void>)[] = [];
  let stopping = false;
  const stop = async (signal: Deno.Signal) => {
    if (stopping) return;
    stopping = true;
    const hooksDone = hooks.map(async (hook) => {
      try {
        await hook();
      } catch (error) {
        logger.error("A stop hook failed", { error: String(error) });
      }
    });
    const timer = setTimeout(() => {
      logger.error("Shutdown took too long; exiting", { deadlineMs: SHUTDOWN_DEADLINE_MS });
      Deno.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    Deno.unrefTimer(timer);
    await Promise.all(hooksDone);
    logger.info("Shutting down", { signal });
    controller.abort(new Error(`received ${signal}`));
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => void stop(signal));
  }
  try {
    await run(config, {
      logger,
      signal: controller.signal,
      onStop: (hook) => void hooks.push(hook),
    });
  } catch (error) {
    logger.error("Stopped by an unexpected error", {
      error: error instanceof Error ? error.stack ?? error.message : String(error),
    });
    Deno.exit(1);
  }
  Deno.exit(0);
}

/** Resolves when `signal` aborts. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}
