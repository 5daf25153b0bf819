/**
 * The lab CLI's command line, parsed by a pure function (node:util's parseArgs underneath) into one
 * typed command, so usage errors are unit-tested without running anything.
 */
import { parseArgs } from "node:util";
import { canonicalService } from "./backend.ts";

/** A parsed command line. */
export type LabCommand =
  | {
    readonly command: "up";
    readonly backend?: BackendName;
    readonly ensemble: boolean;
    /** `--tls`: mutual TLS everywhere; absent when not given. */
    readonly tls?: true;
  }
  | {
    readonly command: "logs";
    readonly backend?: BackendName;
    readonly service?: string;
    readonly follow: boolean;
    readonly lines: number;
  }
  | { readonly command: "stop" | "start"; readonly backend?: BackendName; readonly service: string }
  | {
    readonly command: "rpc" | "status" | "failover" | "down" | "clean" | "certs";
    readonly backend?: BackendName;
  }
  | { readonly command: "help" };

/** The backends `--backend` accepts. */
export type BackendName = "local" | "compose";

/** A command line that cannot be run; the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The help text. */
export const USAGE = `Usage: deno task <command> [options]   (or: deno run … lab.ts <command>)

Commands:
  up [--ensemble] [--tls]  start the lab in the background and wait for a leader; --tls: every
                           gRPC connection uses mutual TLS (certificates made if missing)
  rpc                      call the worker: PerformTask("1", "Hello, worker!")
  logs [service] [-f] [-n N]  the last N lines (default 20) of the masters and the worker, or of
                           one service ("zookeeper": every ZooKeeper server); -f follows
  status                   the election as ZooKeeper sees it and each service's health
  failover                 stop the leader, time the takeover, restart it as a follower
  stop <service>           stop one service (master1, master2, worker, zookeeper, zoo1..zoo3)
  start <service>          start it again
  down                     stop and remove everything
  clean                    down, then remove the lab's files in .lab/ (Compose: also images, volumes)
  submit <message> [--count N]  send N tasks through the leader, retried across failovers
  certs                    write a new CA and certificates for worker, master1, master2 and cli
                           into .lab/certs/ (restart a running --tls lab to use them)

Every command takes --backend local|compose (default: what "up" used; for "up": Compose when a
Docker engine answers, else local processes).`;

const COMMANDS = [
  "up",
  "rpc",
  "logs",
  "status",
  "failover",
  "stop",
  "start",
  "down",
  "clean",
  "certs",
];

/** Parses `args` (without the program name); throws {@linkcode UsageError}. */
export function parseCommandLine(args: readonly string[]): LabCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        backend: { type: "string" },
        ensemble: { type: "boolean", default: false },
        tls: { type: "boolean", default: false },
        follow: { type: "boolean", short: "f", default: false },
        lines: { type: "string", short: "n" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === "help") return { command: "help" };
  if (!COMMANDS.includes(command)) throw new UsageError(`Unknown command "${command}"`);
  const backend = values.backend;
  if (backend !== undefined && backend !== "local" && backend !== "compose") {
    throw new UsageError(`--backend must be "local" or "compose": got "${backend}"`);
  }
  const allow = (option: string, given: boolean, commands: string[]) => {
    if (given && !commands.includes(command)) {
      throw new UsageError(`${option} is an option of ${commands.join(", ")}, not of ${command}`);
    }
  };
  allow("--ensemble", values.ensemble, ["up"]);
  allow("--tls", values.tls, ["up"]);
  allow("--follow", values.follow, ["logs"]);
  allow("--lines", values.lines !== undefined, ["logs"]);
  const maxArguments = command === "logs" || command === "stop" || command === "start" ? 1 : 0;
  if (rest.length > maxArguments) {
    throw new UsageError(`Too many arguments for ${command}: ${rest.join(" ")}`);
  }
  switch (command) {
    case "up":
      return { command, backend, ensemble: values.ensemble, ...(values.tls ? { tls: true } : {}) };
    case "logs": {
      const lines = values.lines === undefined ? 20 : Number(values.lines);
      if (!Number.isSafeInteger(lines) || lines < 1) {
        throw new UsageError(`--lines must be a positive integer: got "${values.lines}"`);
      }
      const service = rest[0] === undefined ? undefined : canonicalService(rest[0]);
      return { command, backend, service, follow: values.follow, lines };
    }
    case "stop":
    case "start":
      if (rest[0] === undefined) {
        throw new UsageError(`${command} needs a service, e.g. "${command} master1"`);
      }
      return { command, backend, service: canonicalService(rest[0]) };
    default:
      return {
        command: command as "rpc" | "status" | "failover" | "down" | "clean" | "certs",
        backend,
      };
  }
}
