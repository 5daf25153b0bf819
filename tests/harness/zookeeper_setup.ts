/**
 * How one test ZooKeeper server is laid out: a temporary directory with `conf/` (zoo.cfg and the
 * logging files, first on the classpath) and `data/` (snapshots, logs, `myid`). The config and the
 * JVM command come from the lab's launcher (lib/zookeeper/launcher.ts), so tests run ZooKeeper the
 * way the lab does; only the test tuning (short ticks, no fsync) is added here.
 */
import { loggingFiles, zooCfg, zooKeeperCommand } from "../../lib/zookeeper/launcher.ts";

/** What one server's zoo.cfg says. */
export interface ServerConfig {
  port: number;
  tickTimeMs: number;
  /** `server.N=...` lines; empty for a standalone server. */
  serverLines: string[];
  /** This server's id in an ensemble. */
  myid?: number;
  /** Where the client port listens. Default 127.0.0.1. */
  clientPortAddress?: string;
  /** The longest session timeout the server grants. Default 60 000 ms. */
  maxSessionTimeoutMs?: number;
}

/** A prepared server: its directories and the command that runs it. */
export interface ServerLayout {
  /** The temporary directory holding everything below; remove it to clean up. */
  root: string;
  dataDir: string;
  logFile: string;
  java: string;
  args: string[];
}

/** Creates the directories and config files for one server and returns how to run it. */
export async function prepareServer(config: ServerConfig): Promise<ServerLayout> {
  const root = await Deno.makeTempDir({ prefix: "zookeeper-test-" });
  const confDir = `${root}/conf`;
  const dataDir = `${root}/data`;
  let command: string[];
  try {
    // Before anything else is written: no installation fails with the launcher's clear message.
    command = zooKeeperCommand(confDir, Deno.env.toObject());
  } catch (error) {
    await Deno.remove(root, { recursive: true });
    throw error;
  }
  await Deno.mkdir(confDir);
  await Deno.mkdir(dataDir);
  if (config.myid !== undefined) await Deno.writeTextFile(`${dataDir}/myid`, `${config.myid}\n`);
  await Deno.writeTextFile(
    `${confDir}/zoo.cfg`,
    zooCfg({
      dataDir,
      clientPort: config.port,
      clientPortAddress: config.clientPortAddress,
      tickTimeMs: config.tickTimeMs,
      maxSessionTimeoutMs: config.maxSessionTimeoutMs,
      fourLetterWords: [
        "ruok",
        "srvr",
        "stat",
        "mntr",
        "cons",
        "conf",
        "wchp",
        "wchc",
        "wchs",
        "dump",
      ],
      // Test data is thrown away: skip fsync and the 64 MB transaction log preallocation.
      extraLines: ["forceSync=no", "preAllocSize=1024", ...config.serverLines],
    }),
  );
  for (const [name, text] of Object.entries(loggingFiles())) {
    await Deno.writeTextFile(`${confDir}/${name}`, text);
  }
  const [java, ...args] = command;
  return { root, dataDir, logFile: `${root}/zookeeper.log`, java, args };
}
