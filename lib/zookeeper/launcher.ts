/**
 * ZooKeeper from the local installation: Debian's package (`/usr/share/java/zookeeper.jar`, whose
 * manifest names its dependencies) or an unpacked release in ZOOKEEPER_HOME. Config rendering is
 * pure; the command is `java … QuorumPeerMain zoo.cfg`, in the foreground of a detached process.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Env } from "../config/config.ts";

/** One server of the local ZooKeeper (standalone: one of these, without quorum ports). */
export interface ZooKeeperServer {
  readonly service: string;
  /** The server id (`myid`), 1 to 3. */
  readonly id: number;
  readonly clientPort: number;
  /** Ensemble only: the port followers use to reach the leader, and the leader-election port. */
  readonly quorumPort?: number;
  readonly electionPort?: number;
}

const DEBIAN_JAR = "/usr/share/java/zookeeper.jar";
// Debian's jar binds no logger (SLF4J falls back to silence); slf4j-simple prints to stderr.
const DEBIAN_LOGGER_JAR = "/usr/share/java/slf4j-simple.jar";

/**
 * zoo.cfg for `server`. tickTime 2000 as ZooKeeper ships it; sessions from 4000 ms (the apps'
 * default timeout) up. Clients and peers stay on loopback.
 */
export function renderZooCfg(
  server: ZooKeeperServer,
  ensemble: readonly ZooKeeperServer[],
  dataDir: string,
): string {
  const lines = [
    "tickTime=2000",
    "initLimit=10",
    "syncLimit=5",
    `dataDir=${dataDir}`,
    `clientPort=${server.clientPort}`,
    "clientPortAddress=127.0.0.1",
    "minSessionTimeout=4000",
    "maxSessionTimeout=60000",
    "admin.enableServer=false",
    "4lw.commands.whitelist=ruok,srvr,stat,mntr",
  ];
  if (ensemble.length > 1) {
    for (const peer of ensemble) {
      lines.push(`server.${peer.id}=127.0.0.1:${peer.quorumPort}:${peer.electionPort}`);
    }
  }
  return lines.join("\n") + "\n";
}

/** The command that runs one server with the config in `confDir`; throws when none is installed. */
export function zooKeeperCommand(confDir: string, env: Env): string[] {
  const java = env["JAVA_HOME"] ? join(env["JAVA_HOME"], "bin", "java") : "java";
  const home = env["ZOOKEEPER_HOME"]?.trim();
  let classPath: string[];
  const flags = [
    "-Xmx256m",
    "-XX:+UseSerialGC",
    // A lab server: start fast (C1 only, shared class data) rather than peak throughput.
    "-XX:TieredStopAtLevel=1",
    "-Xshare:auto",
    "-XX:-UsePerfData",
    "-Dzookeeper.admin.enableServer=false",
  ];
  if (home) {
    // An Apache release: its jars sit in lib/ (java expands the `*`), its logback.xml in conf/.
    classPath = [join(home, "lib", "*"), join(home, "*")];
    const logback = join(home, "conf", "logback.xml");
    if (existsSync(logback)) flags.push(`-Dlogback.configurationFile=${logback}`);
  } else if (existsSync(DEBIAN_JAR)) {
    classPath = [DEBIAN_JAR];
    if (existsSync(DEBIAN_LOGGER_JAR)) {
      classPath.push(DEBIAN_LOGGER_JAR);
      flags.push(
        "-Dorg.slf4j.simpleLogger.showDateTime=true",
        "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy/MM/dd HH:mm:ss",
      );
    }
  } else {
    throw new Error(
      `Cannot start ZooKeeper: no installation found: "${DEBIAN_JAR}" does not exist and "ZOOKEEPER_HOME" is not set (install it with "apt-get install zookeeper" or point ZOOKEEPER_HOME at a release)`,
    );
  }
  return [
    java,
    ...flags,
    "-cp",
    [confDir, ...classPath].join(":"),
    "org.apache.zookeeper.server.quorum.QuorumPeerMain",
    join(confDir, "zoo.cfg"),
  ];
}
