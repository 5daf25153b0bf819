/**
 * A real network partition for the chaos suite, with nothing but iproute2: each master runs in its
 * own network namespace, joined by a veth pair to a bridge that carries ZooKeeper's and the
 * worker's addresses. Cutting a master off ZooKeeper adds, inside its namespace, a blackhole route
 * to ZooKeeper's address and turns on strict reverse-path filtering, so packets in both directions
 * are dropped silently, as on a broken link, while the worker stays reachable: a cut-off leader
 * that kept acting would be caught by the worker's fence, not hidden by a dead link.
 *
 * Everything lives on a private /24 that only this machine routes. `close()` (and, should the test
 * process die first, an `unload` handler) deletes the namespaces, which takes their veth pairs
 * along, and the bridge.
 */
import { type LabProcess, spawnLab } from "../harness/process.ts";

/** Where a master runs when not on loopback: a namespace, and the address it binds there. */
export interface Placement {
  readonly netns: string;
  readonly host: string;
}

/** Runs `ip` with `args`; throws with its error output when it fails. */
async function ip(...args: string[]): Promise<string> {
  const output = await new Deno.Command("ip", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`"ip ${args.join(" ")}" failed: ${stderr}`);
  }
  return new TextDecoder().decode(output.stdout);
}

/** Why namespaces cannot be used here, or undefined when they can. */
export async function netnsProblem(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return `network namespaces need Linux, not ${Deno.build.os}`;
  if (Deno.uid() !== 0) return `network namespaces need root; running as uid ${Deno.uid()}`;
  const probe = `chaos-probe-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await ip("netns", "add", probe);
    await ip("-n", probe, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1");
    return undefined;
  } catch (error) {
    return `cannot create a network namespace with a veth pair: ${
      error instanceof Error ? error.message : String(error)
    }`;
  } finally {
    await ip("netns", "del", probe).catch(() => {});
  }
}

/** Namespaces for some masters, a bridge to ZooKeeper and the worker, and the cuts between them. */
export interface Topology extends AsyncDisposable {
  /** The address ZooKeeper must bind (on the bridge). */
  readonly zkHost: string;
  /** The address the worker must bind (on the bridge). */
  readonly workerHost: string;
  /** Where master `name` runs. */
  placement(name: string): Placement;
  /** Cuts master `name` off ZooKeeper (both directions); the worker stays reachable. */
  cut(name: string): Promise<void>;
  /** Undoes {@linkcode cut}. */
  heal(name: string): Promise<void>;
  /** Deletes the namespaces and the bridge. Idempotent. */
  close(): Promise<void>;
}

/** A third octet for 10.213.x.0/24 that no address or route here uses yet. */
async function freeSubnet(): Promise<string> {
  const used = (await ip("-4", "-o", "addr")) + (await ip("-4", "route"));
  for (let attempt = 0; attempt < 50; attempt++) {
    const subnet = `10.213.${Math.floor(Math.random() * 256)}`;
    if (!used.includes(`${subnet}.`)) return subnet;
  }
  throw new Error("Cannot find a free 10.213.x.0/24 subnet for the chaos namespaces");
}

/** Creates one namespace per name in `masters`, all joined to a new bridge; see the module comment. */
export async function createTopology(masters: readonly string[]): Promise<Topology> {
  const id = crypto.randomUUID().slice(0, 4);
  const subnet = await freeSubnet();
  const bridge = `chb${id}`;
  const namespaces = new Map(masters.map((name, i) => [name, {
    netns: `chaos-${id}-${name}`,
    host: `${subnet}.${11 + i}`,
    device: `chp${id}m${i}`,
  }]));
  const zkHost = `${subnet}.1`;
  const workerHost = `${subnet}.2`;

  const removeAll = () => {
    for (const { netns } of namespaces.values()) {
      new Deno.Command("ip", { args: ["netns", "del", netns], stderr: "null", stdout: "null" })
        .outputSync();
    }
    new Deno.Command("ip", { args: ["link", "del", bridge], stderr: "null", stdout: "null" })
      .outputSync();
  };
  globalThis.addEventListener("unload", removeAll);
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      globalThis.removeEventListener("unload", removeAll);
      for (const { netns } of namespaces.values()) {
        // Our own processes only: nothing else runs in a namespace this module made.
        const pids = await ip("netns", "pids", netns).catch(() => "");
        for (const pid of pids.split("\n").filter((text) => /^\d+$/.test(text))) {
          try {
            Deno.kill(Number(pid), "SIGKILL");
          } catch {
            // Already gone.
          }
        }
        await ip("netns", "del", netns).catch(() => {});
      }
      await ip("link", "del", bridge).catch(() => {});
    })();

  try {
    await ip("link", "add", bridge, "type", "bridge");
    await ip("addr", "add", `${zkHost}/24`, "dev", bridge);
    await ip("addr", "add", `${workerHost}/24`, "dev", bridge);
    await ip("link", "set", bridge, "up");
    for (const [i, { netns, host, device }] of [...namespaces.values()].entries()) {
      const outside = `chv${id}m${i}`;
      await ip("netns", "add", netns);
      await ip("link", "add", outside, "type", "veth", "peer", "name", device);
      await ip("link", "set", device, "netns", netns);
      await ip("link", "set", outside, "master", bridge);
      await ip("link", "set", outside, "up");
      await ip("-n", netns, "addr", "add", `${host}/24`, "dev", device);
      await ip("-n", netns, "link", "set", device, "up");
      await ip("-n", netns, "link", "set", "lo", "up");
      // Strict reverse-path filtering drops ZooKeeper's packets once its route is a blackhole.
      await ip(
        "netns",
        "exec",
        netns,
        "sh",
        "-c",
        "echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter",
      );
    }
  } catch (error) {
    await close();
    throw error;
  }

  const namespaceOf = (name: string) => {
    const found = namespaces.get(name);
    if (!found) throw new Error(`No namespace for master "${name}"`);
    return found;
  };
  return {
    zkHost,
    workerHost,
    placement: (name) => {
      const { netns, host } = namespaceOf(name);
      return { netns, host };
    },
    cut: async (name) => {
      await ip("-n", namespaceOf(name).netns, "route", "add", "blackhole", `${zkHost}/32`);
    },
    heal: async (name) => {
      await ip("-n", namespaceOf(name).netns, "route", "del", "blackhole", `${zkHost}/32`);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Runs a lab script inside network namespace `netns`, as spawnLab does on loopback. */
export function spawnInNamespace(
  netns: string,
  script: string,
  options: { name: string; env: Record<string, string> },
): LabProcess {
  // `ip netns exec` execs the command in place, so the child's pid is Deno's and signals reach it.
  return spawnLab(script, { ...options, prefix: ["ip", "netns", "exec", netns] });
}
