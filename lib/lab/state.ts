/**
 * `state.json` in the state folder: which backend `up` used and, for the local backend, the ports
 * it chose, so every later command (status, stop, start, down…) talks to the same lab.
 */
import { join } from "node:path";
import type { MasterName } from "./backend.ts";
import type { ZooKeeperServer } from "../zookeeper/launcher.ts";

/** The local backend's layout, fixed by `up`. */
export interface LocalLayout {
  readonly electionPath: string;
  readonly zookeeper: readonly ZooKeeperServer[];
  readonly workerPort: number;
  readonly masterPorts: Readonly<Record<MasterName, number>>;
  /** Mutual TLS with the certificates in `<state>/certs` (`up --tls`). */
  readonly tls?: boolean;
}

/** What `up` recorded. */
export type LabState =
  | {
    readonly backend: "local";
    readonly ensemble: boolean;
    readonly local: LocalLayout;
    readonly tls?: boolean;
  }
  | { readonly backend: "compose"; readonly ensemble: boolean; readonly tls?: boolean };

function statePath(stateDir: string): string {
  return join(stateDir, "state.json");
}

/** The recorded state, or undefined when the lab was never brought up (or was taken down). */
export async function readState(stateDir: string): Promise<LabState | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(statePath(stateDir))) as LabState;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`Cannot read the lab's state from ${statePath(stateDir)}: ${error}`);
  }
}

/** Records `state`, creating the state folder. */
export async function writeState(stateDir: string, state: LabState): Promise<void> {
  await Deno.mkdir(stateDir, { recursive: true });
  await Deno.writeTextFile(statePath(stateDir), JSON.stringify(state, null, 2) + "\n");
}

/** Forgets the state (the lab is down). */
export async function removeState(stateDir: string): Promise<void> {
  await Deno.remove(statePath(stateDir)).catch(() => {});
}

/** What the lab itself keeps in the state folder (see local_backend.ts). */
const LAB_ENTRIES = ["state.json", "run", "logs", "zookeeper", "certs"];

/**
 * Removes the lab's own files from the state folder, then the folder if nothing else is in it:
 * other tools may keep files there too (CI writes .lab/ci/), and `clean` must not take them.
 */
export async function removeLabFiles(stateDir: string): Promise<void> {
  for (const entry of LAB_ENTRIES) {
    await Deno.remove(join(stateDir, entry), { recursive: true }).catch(() => {});
  }
  await Deno.remove(stateDir).catch(() => {});
}
