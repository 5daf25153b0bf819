/**
 * The lab CLI's settings: where it keeps its state and which ports the local backend uses. Read
 * once from the environment by a pure function (so each error message is tested) and frozen.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isHostPort } from "../common/host_port.ts";
import { ELECTION_PATH_RULE, type Env, isElectionPath } from "../config/config.ts";

/** The project's root: the folder with master.ts and worker.ts. */
export const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

/**
 * The host ports of the lab, the same variables compose.yaml publishes with. The local backend
 * moves a taken ZooKeeper port to a free one; the others must be free.
 */
export interface LabPorts {
  readonly zookeeper: number;
  /** The ensemble's zoo1..zoo3. */
  readonly zoo: readonly [number, number, number];
  readonly worker: number;
  readonly master1: number;
  readonly master2: number;
}

/** Everything the CLI reads from the environment. */
export interface LabSettings {
  /** The folder with pid files, logs, ZooKeeper's data and state.json (git-ignored `.lab/`). */
  readonly stateDir: string;
  readonly ports: LabPorts;
  readonly electionPath: string;
  /** Overrides where this host reaches the Compose stack's ZooKeeper (LAB_ZK_SERVERS). */
  readonly composeZkServers?: readonly string[];
}

/** A setting the lab cannot use; the message names the variable and the value. */
export class LabSettingsError extends Error {
  override name = "LabSettingsError";
}

function port(env: Env, name: string, fallback: number): number {
  const text = env[name]?.trim() || String(fallback);
  const value = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 1 && value <= 65535)) {
    throw new LabSettingsError(
      `Cannot run the lab: "${name}" must be a port number from 1 to 65535: current value is "${
        env[name]
      }"`,
    );
  }
  return value;
}

/** Reads the lab's settings from `env`; throws {@linkcode LabSettingsError}. */
export function parseLabSettings(env: Env, root = PROJECT_ROOT): LabSettings {
  const servers = env["LAB_ZK_SERVERS"]?.trim();
  if (servers && !servers.split(",").every(isHostPort)) {
    throw new LabSettingsError(
      `Cannot run the lab: "LAB_ZK_SERVERS" must be a comma-separated list of "host:port": current value is "${servers}"`,
    );
  }
  const electionPath = env["ELECTION_PATH"]?.trim() || "/election";
  if (!isElectionPath(electionPath)) {
    throw new LabSettingsError(
      `Cannot run the lab: "ELECTION_PATH" ${ELECTION_PATH_RULE}: current value is "${electionPath}"`,
    );
  }
  return Object.freeze({
    stateDir: env["LAB_STATE_DIR"]?.trim() || join(root, ".lab"),
    ports: Object.freeze({
      zookeeper: port(env, "LAB_ZK_PORT", 2181),
      zoo: Object.freeze([1, 2, 3].map((id) => port(env, `LAB_ZOO${id}_PORT`, 2181 + id))) as [
        number,
        number,
        number,
      ],
      worker: port(env, "LAB_WORKER_PORT", 7070),
      master1: port(env, "LAB_MASTER1_PORT", 50051),
      master2: port(env, "LAB_MASTER2_PORT", 50052),
    }),
    electionPath,
    composeZkServers: servers ? Object.freeze(servers.split(",")) : undefined,
  });
}
