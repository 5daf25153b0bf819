/**
 * The lab CLI behind the Deno tasks (`deno task up`, `rpc`, `logs`…): parses the command line,
 * picks the backend and runs one command. Problems the user can fix end with a one-line message
 * and exit code 1; usage errors with the usage and exit code 2.
 */
import { ConfigError, type Env } from "../config/config.ts";
import { LabError } from "./backend.ts";
import { chooseBackend } from "./choose_backend.ts";
import { parseCommandLine, USAGE, UsageError } from "./command_line.ts";
import { failoverCommand } from "./commands/failover.ts";
import { rpcCheck } from "./commands/rpc.ts";
import { runSubmit } from "./commands/submit.ts";
import { LabSettingsError, parseLabSettings } from "./settings.ts";
import { startCommand } from "./commands/start.ts";
import { statusCommand } from "./commands/status.ts";
import { upCommand } from "./commands/up.ts";
import { certsCommand } from "./commands/certs.ts";
import { ensureLabCertificates, labClientTls } from "./lab_tls.ts";

/**
 * `submit` against the running lab: its ZooKeeper and election path unless ZK_SERVERS or
 * ELECTION_PATH say otherwise, and the masters' addresses as seen from this host (a Compose
 * master writes its container name into its election node).
 */
async function submitToLab(args: string[], env: Env): Promise<number> {
  const settings = parseLabSettings(env);
  const backend = await chooseBackend(undefined, settings, env);
  const endpoints = await backend.endpoints();
  const labEnv = {
    ZK_SERVERS: endpoints.zookeeper.map((server) => server.address).join(","),
    ELECTION_PATH: endpoints.electionPath,
    ...env,
  };
  const hostAddresses: Record<string, string> = endpoints.masters;
  return await runSubmit(
    args,
    labEnv,
    (leader) => hostAddresses[leader.name] ?? leader.address,
    await labClientTls(settings, env),
  );
}

/** The deadline of the `rpc` call. */
const RPC_TIMEOUT_MS = 2000;

/** Runs the CLI with `args`; resolves with the exit code. */
export async function runLab(args: readonly string[], env: Env): Promise<number> {
  try {
    // submit has arguments of its own (a message, --count); it finds the lab as "up" left it.
    if (args[0] === "submit") return await submitToLab(args.slice(1), env);
    const command = parseCommandLine(args);
    if (command.command === "help") {
      console.log(USAGE);
      return 0;
    }
    const settings = parseLabSettings(env);
    if (command.command === "certs") return await certsCommand(settings.stateDir);
    const backend = await chooseBackend(command.backend, settings, env);
    switch (command.command) {
      case "up":
        if (command.tls && await ensureLabCertificates(settings.stateDir)) {
          console.log(`Made the lab's certificates in ${settings.stateDir}/certs`);
        }
        await upCommand(backend, { ensemble: command.ensemble, tls: command.tls ?? false });
        return 0;
      case "rpc":
        return await rpcCheck((await backend.endpoints()).worker, {
          timeoutMs: RPC_TIMEOUT_MS,
          tls: await labClientTls(settings, env),
        });
      case "logs":
        await backend.printLogs(command.service, command);
        return 0;
      case "status":
        return await statusCommand(backend, { tls: await labClientTls(settings, env) });
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
    // Bad TLS_CA, TLS_CERT or TLS_KEY: exit 2, as every process does for a bad setting.
    if (error instanceof ConfigError) {
      console.error(error.message);
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
