/**
 * The lab CLI behind the Deno tasks (`deno task up`, `rpc`, `logs`…): parses the command line,
 * picks the backend and runs one command. Problems the user can fix end with a one-line message
 * and exit code 1; usage errors with the usage and exit code 2.
 */
import type { Env } from "../config.ts";
import { LabError } from "./backend.ts";
import { chooseBackend } from "./choose_backend.ts";
import { parseCommandLine, USAGE, UsageError } from "./command_line.ts";
import { failoverCommand } from "./failover.ts";
import { rpcCheck } from "./rpc_check.ts";
import { LabSettingsError, parseLabSettings } from "./settings.ts";
import { startCommand } from "./start.ts";
import { statusCommand } from "./status.ts";
import { upCommand } from "./up.ts";

/** The deadline of the `rpc` call. */
const RPC_TIMEOUT_MS = 2000;

/** Runs the CLI with `args`; resolves with the exit code. */
export async function runLab(args: readonly string[], env: Env): Promise<number> {
  try {
    const command = parseCommandLine(args);
    if (command.command === "help") {
      console.log(USAGE);
      return 0;
    }
    const settings = parseLabSettings(env);
    const backend = await chooseBackend(command.backend, settings, env);
    switch (command.command) {
      case "up":
        await upCommand(backend, { ensemble: command.ensemble });
        return 0;
      case "rpc":
        return await rpcCheck((await backend.endpoints()).worker, { timeoutMs: RPC_TIMEOUT_MS });
      case "logs":
        await backend.printLogs(command.service, command);
        return 0;
      case "status":
        return await statusCommand(backend);
      case "failover":
        await failoverCommand(backend);
        return 0;
      case "stop":
        await backend.stop(command.service);
        return 0;
      case "start":
        await startCommand(backend, command.service);
        return 0;
      case "down":
        await backend.down();
        return 0;
      case "clean":
        await backend.clean();
        return 0;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof LabSettingsError || error instanceof LabError) {
      console.error(error.message);
      return 1;
    }
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
}
