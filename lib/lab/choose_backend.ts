/**
 * Which backend a command uses: `--backend` if given, else the one `up` recorded, else Compose when
 * a Docker engine answers and a Compose client exists, else local processes.
 */
import type { Env } from "../config/config.ts";
import { type Backend, LabError } from "./backend.ts";
import { runCommand } from "./compose/run_command.ts";
import { ComposeBackend } from "./compose/backend.ts";
import { LocalBackend } from "./local/backend.ts";
import type { LabSettings } from "./settings.ts";
import { readState } from "./state.ts";

/**
 * How long `docker-compose version` may take: it is a Python program, and on a loaded machine its
 * start-up alone took more than 5 s (the walkthrough's `rpc` then said Compose was not installed).
 */
const COMPOSE_VERSION_TIMEOUT_MS = 20_000;

/** A Docker engine that does not answer `docker info` this quickly counts as absent. */
const DOCKER_INFO_TIMEOUT_MS = 3000;

/** The Compose client to use: `docker compose` (v2) when present, else `docker-compose`. */
export async function findComposeCommand(): Promise<string[] | undefined> {
  if (
    (await runCommand(["docker", "compose", "version"], { timeoutMs: COMPOSE_VERSION_TIMEOUT_MS }))
      .success
  ) {
    return ["docker", "compose"];
  }
  if (
    (await runCommand(["docker-compose", "version"], { timeoutMs: COMPOSE_VERSION_TIMEOUT_MS }))
      .success
  ) {
    return ["docker-compose"];
  }
  return undefined;
}

/** True when a Docker engine answers. */
export async function dockerAnswers(): Promise<boolean> {
  return (await runCommand(["docker", "info"], { timeoutMs: DOCKER_INFO_TIMEOUT_MS })).success;
}

/** Picks the backend for one command (see the module comment). */
export async function chooseBackend(
  requested: "local" | "compose" | undefined,
  settings: LabSettings,
  env: Env,
): Promise<Backend> {
  // Read once here and handed to the backend, which keeps it current as it changes it.
  const state = await readState(settings.stateDir);
  const chosen = requested ?? state?.backend;
  const detected = chosen === undefined;
  const name = chosen ?? (await dockerAnswers() ? "compose" : "local");
  if (name === "local") return new LocalBackend(settings, env, state);
  // A requested or recorded Compose lab needs the engine too: one clear line instead of
  // docker-compose's traceback.
  if (!detected && !await dockerAnswers()) {
    throw new LabError(
      'Cannot use the compose backend: the Docker engine does not answer "docker info" (start it, or use --backend local)',
    );
  }
  const compose = await findComposeCommand();
  if (compose) return new ComposeBackend(settings, compose, state);
  if (detected) return new LocalBackend(settings, env, state);
  throw new LabError(
    'Cannot use the compose backend: neither "docker compose" nor "docker-compose" is installed',
  );
}
