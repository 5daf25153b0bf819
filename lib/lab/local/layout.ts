/**
 * Choosing the local lab's ports: the configured ones for the worker and masters (a taken one is an
 * error that names the variable to change), ZooKeeper's client port moved to a free one if needed.
 */
import { type Endpoints, LabError, MASTERS } from "../backend.ts";
import type { ZooKeeperServer } from "../../zookeeper/launcher.ts";
import { freePort, isPortFree } from "../../common/ports.ts";
import type { LabSettings } from "../settings.ts";
import type { LocalLayout } from "../state.ts";

/** Ports for a new local lab: a single ZooKeeper, or three on loopback with quorum ports. */
export function planLocalLayout(
  settings: LabSettings,
  options: { ensemble: boolean; tls?: boolean },
): LocalLayout {
  // The fixed ports are never handed to ZooKeeper (quorum ports are picked among free ones).
  const taken = new Set<number>([
    settings.ports.worker,
    settings.ports.master1,
    settings.ports.master2,
  ]);
  const pick = (preferred?: number) => {
    let port = preferred !== undefined && !taken.has(preferred)
      ? (isPortFree(preferred) ? preferred : freePort())
      : freePort();
    while (taken.has(port)) port = freePort();
    taken.add(port);
    return port;
  };
  const zookeeper: ZooKeeperServer[] = options.ensemble
    ? [1, 2, 3].map((id) => ({
      service: `zoo${id}`,
      id,
      clientPort: pick(settings.ports.zoo[id - 1]),
      quorumPort: pick(),
      electionPort: pick(),
    }))
    : [{ service: "zookeeper", id: 1, clientPort: pick(settings.ports.zookeeper) }];
  return {
    electionPath: settings.electionPath,
    zookeeper,
    workerPort: settings.ports.worker,
    masterPorts: { master1: settings.ports.master1, master2: settings.ports.master2 },
    ...(options.tls ? { tls: true } : {}),
  };
}

const PORT_VARIABLES: Record<string, string> = {
  worker: "LAB_WORKER_PORT",
  master1: "LAB_MASTER1_PORT",
  master2: "LAB_MASTER2_PORT",
};

/** Throws when a fixed port of `service` is taken by something else. */
export function checkServicePort(layout: LocalLayout, service: string): void {
  const port = service === "worker"
    ? layout.workerPort
    : MASTERS.includes(service as typeof MASTERS[number])
    ? layout.masterPorts[service as typeof MASTERS[number]]
    : layout.zookeeper.find((server) => server.service === service)?.clientPort;
  if (port === undefined || isPortFree(port)) return;
  const variable = PORT_VARIABLES[service] ?? "LAB_ZK_PORT";
  throw new LabError(
    `Cannot start ${service}: port ${port} is already in use (stop what uses it, or set ${variable} to another port)`,
  );
}

/** Where the local lab's processes answer: everything on loopback. */
export function localEndpoints(layout: LocalLayout): Endpoints {
  return {
    zookeeper: layout.zookeeper.map((server) => ({
      service: server.service,
      address: `127.0.0.1:${server.clientPort}`,
    })),
    electionPath: layout.electionPath,
    worker: `127.0.0.1:${layout.workerPort}`,
    masters: {
      master1: `127.0.0.1:${layout.masterPorts.master1}`,
      master2: `127.0.0.1:${layout.masterPorts.master2}`,
    },
  };
}
