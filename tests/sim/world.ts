/**
 * What every simulated node shares: the scheduler, the model ZooKeeper, the gRPC hop, the
 * checker, the trace and the settings; and how a node's process gets its clock, its randomness
 * and its ZooKeeper sessions (model clients, remembered so a crash can close their connections).
 */
import type { Clock } from "../../lib/common/clock.ts";
import { uuidFrom } from "../../lib/common/clock.ts";
import type { ZooKeeperConfig } from "../../lib/config/config.ts";
import type { Checker } from "./checker.ts";
import type { Prng } from "./prng.ts";
import type { RpcNetwork } from "./rpc_hop.ts";
import { type SimProcess, SimScheduler } from "./scheduler.ts";
import type { Trace } from "./trace.ts";
import { modelConnect, type ModelZkClient } from "./zk_client.ts";
import type { ModelZooKeeper } from "./zk_model.ts";

/** Settings of one run. */
export interface WorldSettings {
  /** The session timeout the processes ask for. */
  readonly sessionTimeoutMs: number;
  readonly electionPath: string;
  readonly workerTimeoutMs: number;
  readonly workerAddress: string;
}

/** See the module comment. */
export interface World {
  readonly scheduler: SimScheduler;
  readonly model: ModelZooKeeper;
  readonly rpc: RpcNetwork;
  readonly checker: Checker;
  readonly trace: Trace;
  readonly random: Prng;
  readonly settings: WorldSettings;
}

/** A process's clock, randomness and ZooKeeper connector. */
export interface ProcessKit {
  readonly clock: Clock;
  readonly random: () => number;
  readonly newGuid: () => string;
  readonly config: ZooKeeperConfig;
  readonly connect: ReturnType<typeof modelConnect>;
  /** The model clients made so far. */
  readonly clients: ModelZkClient[];
}

/** Equips `process` to run real code in `world`. */
export function kitFor(world: World, process: SimProcess): ProcessKit {
  const random = world.random.fork();
  const clock = world.scheduler.clockFor(process);
  const clients: ModelZkClient[] = [];
  return {
    clock,
    random: () => random.next(),
    newGuid: () => uuidFrom(() => random.next()),
    config: {
      zkServers: world.model.servers.map((server) => server.address),
      sessionTimeoutMs: world.settings.sessionTimeoutMs,
      electionPath: world.settings.electionPath,
    },
    connect: modelConnect(world.model, process, clock, (client) => clients.push(client)),
    clients,
  };
}

export { SimScheduler };
