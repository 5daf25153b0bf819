/**
 * The peers' programs, made ready to run: kazoo (Debian's python3-kazoo, run with /usr/bin/python3,
 * since a pyenv python3 earlier on PATH does not see Debian's packages) and Apache Curator (Debian's
 * libcurator-recipes-java; the contender is compiled with javac into a cache directory keyed by
 * its source, so it is compiled once). A missing peer is installed with apt-get when we can (root,
 * apt-get present), saying so; otherwise it is skipped, and the reason is printed and recorded.
 */

/** The peers, in the order of the report. */
export const PEERS = ["kazoo", "curator"] as const;
export type PeerName = typeof PEERS[number];

/** A peer ready to run, or the reason it cannot be. */
export type PreparedPeer =
  | {
    readonly name: PeerName;
    /** The version that runs, e.g. `kazoo 2.8.0`. */
    readonly version: string;
    /** The command line of one contender. */
    readonly command: (hosts: string, path: string, id: string, sessionMs: number) => string[];
  }
  | { readonly name: PeerName; readonly skipped: string };

const PYTHON = "/usr/bin/python3";
const JARS = [
  "curator-client",
  "curator-framework",
  "curator-recipes",
  "zookeeper",
  "zookeeper-jute",
  "guava",
  "slf4j-api",
  "slf4j-nop",
].map((jar) => `/usr/share/java/${jar}.jar`);
const HERE = decodeURIComponent(new URL(".", import.meta.url).pathname);

async function run(command: string, args: string[]) {
  try {
    const output = await new Deno.Command(command, { args, stdin: "null" }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    return { ok: output.success, text: text.trim() };
  } catch (error) {
    return { ok: false, text: error instanceof Error ? error.message : String(error) };
  }
}

/** Installs Debian `packages` if we are root with apt-get; returns why not, or undefined. */
async function aptInstall(packages: string[], say: (message: string) => void) {
  if (Deno.uid() !== 0) return "not root, so apt-get cannot install it";
  say(`installing ${packages.join(" ")} with apt-get (missing)...`);
  let result = await run("apt-get", ["install", "-y", "--no-install-recommends", ...packages]);
  if (!result.ok) {
    await run("apt-get", ["update"]);
    result = await run("apt-get", ["install", "-y", "--no-install-recommends", ...packages]);
  }
  return result.ok
    ? undefined
    : `apt-get install ${packages.join(" ")} failed: ${result.text.split("\n").at(-1)}`;
}

async function prepareKazoo(say: (message: string) => void): Promise<PreparedPeer> {
  const probe = () => run(PYTHON, ["-c", "import kazoo.version; print(kazoo.version.__version__)"]);
  let version = await probe();
  if (!version.ok) {
    const failed = await aptInstall(["python3-kazoo"], say);
    if (failed) return { name: "kazoo", skipped: `kazoo is not installed (${failed})` };
    version = await probe();
    if (!version.ok) return { name: "kazoo", skipped: `kazoo does not load: ${version.text}` };
  }
  const script = `${HERE}kazoo_contender.py`;
  return {
    name: "kazoo",
    version: `kazoo ${version.text}`,
    command: (hosts, path, id, sessionMs) => [PYTHON, script, hosts, path, id, String(sessionMs)],
  };
}

async function missingJars(): Promise<string[]> {
  const missing: string[] = [];
  for (const jar of JARS) {
    if (!(await Deno.stat(jar).then(() => true, () => false))) missing.push(jar);
  }
  return missing;
}

async function prepareCurator(say: (message: string) => void): Promise<PreparedPeer> {
  if ((await missingJars()).length || !(await run("javac", ["-version"])).ok) {
    const failed = await aptInstall(["libcurator-recipes-java", "default-jdk-headless"], say);
    const missing = await missingJars();
    if (failed || missing.length) {
      return {
        name: "curator",
        skipped: `Curator is not installed (${failed ?? `missing ${missing.join(", ")}`})`,
      };
    }
  }
  const source = await Deno.readTextFile(`${HERE}CuratorContender.java`);
  const classpath = JARS.join(":");
  const key = await digest(source + classpath);
  const cacheDir = `${cacheRoot()}/curator-${key.slice(0, 16)}`;
  const compiled = await Deno.stat(`${cacheDir}/CuratorContender.class`).then(
    () => true,
    () => false,
  );
  if (!compiled) {
    say(`compiling the Curator contender into ${cacheDir}...`);
    await Deno.mkdir(cacheDir, { recursive: true });
    const result = await run("javac", [
      "-cp",
      classpath,
      "-d",
      cacheDir,
      `${HERE}CuratorContender.java`,
    ]);
    if (!result.ok) return { name: "curator", skipped: `javac failed: ${result.text}` };
  }
  return {
    name: "curator",
    version: `Curator ${await curatorVersion()}`,
    command: (hosts, path, id, sessionMs) => [
      "java",
      "-cp",
      `${cacheDir}:${classpath}`,
      "CuratorContender",
      hosts,
      path,
      id,
      String(sessionMs),
    ],
  };
}

/** Debian installs `curator-recipes.jar` beside `curator-recipes-<version>.jar`. */
async function curatorVersion(): Promise<string> {
  for await (const entry of Deno.readDir("/usr/share/java")) {
    const match = /^curator-recipes-([\d.]+)\.jar$/.exec(entry.name);
    if (match) return match[1];
  }
  return "(version unknown)";
}

function cacheRoot(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/zk-lab-bench`;
}

async function digest(text: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(hash)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Makes every peer ready, or says why it is skipped (`say` prints progress). */
export async function preparePeers(say: (message: string) => void): Promise<PreparedPeer[]> {
  const peers = [await prepareKazoo(say), await prepareCurator(say)];
  for (const peer of peers) if ("skipped" in peer) say(`skipping ${peer.name}: ${peer.skipped}`);
  return peers;
}
