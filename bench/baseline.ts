/**
 * The bare grpc-js baseline (node_baseline/): installs its packages, at the versions deno.json
 * pins, into a directory under the system's temp directory (reused while its files are the
 * same), and runs its server and client under Node.js, or the very same files under Deno.
 */
import { LabProcess } from "../tests/harness/process.ts";

const SOURCE_DIR = new URL("./node_baseline/", import.meta.url);
const FILES = [
  "package.json",
  "package-lock.json",
  "load.mjs",
  "proto.mjs",
  "server.mjs",
  "client.mjs",
  "tls.mjs",
];
const PINNED = ["@grpc/grpc-js", "@grpc/proto-loader"];
/** The lab's proto, which the baseline loads too. */
export const PROTO_PATH = decodeURIComponent(
  new URL("../proto/mapreduce.proto", import.meta.url).pathname,
);

/** Which runtime runs a baseline script. */
export type Runtime = "node" | "deno";

/** An installed baseline. */
export interface Baseline {
  readonly dir: string;
  /** `node --version`, e.g. `v20.20.2`. */
  readonly nodeVersion: string;
  /** The pinned versions, as installed. */
  readonly versions: Readonly<Record<string, string>>;
  /** Runs `script` (server.mjs or client.mjs) from the baseline directory. */
  spawn(runtime: Runtime, script: string, args: string[], name: string): LabProcess;
}

/** Checks the pins against deno.json, installs if needed, and returns the baseline. */
export async function prepareBaseline(): Promise<Baseline> {
  const manifest = JSON.parse(await Deno.readTextFile(new URL("package.json", SOURCE_DIR)));
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  for (const name of PINNED) {
    const wanted = `npm:${name}@${manifest.dependencies[name]}`;
    if (denoJson.imports[name] !== wanted) {
      throw new Error(
        `Cannot run the Node baseline: bench/node_baseline/package.json pins "${wanted}" but deno.json imports "${
          denoJson.imports[name]
        }"; make them equal (and refresh package-lock.json)`,
      );
    }
  }
  const nodeVersion = await output("node", ["--version"]);
  // Keyed by every file, not only the lock: benches of different checkouts run at once on a
  // shared machine, and one must not overwrite the other's server.mjs or client.mjs mid-run.
  const sources = await Promise.all(FILES.map((file) => Deno.readFile(new URL(file, SOURCE_DIR))));
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new Uint8Array(sources.flatMap((bytes) => [...bytes]))),
  );
  const key = [...digest.slice(0, 6)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  const tmp = Deno.env.get("TMPDIR") || "/tmp";
  const dir = `${tmp}/lab-bench-node-baseline-${key}`;
  await Deno.mkdir(dir, { recursive: true });
  for (const file of FILES) await Deno.copyFile(new URL(file, SOURCE_DIR), `${dir}/${file}`);
  const versions = await installedVersions(dir);
  if (PINNED.some((name) => versions[name] !== manifest.dependencies[name])) {
    // --ignore-scripts: protobufjs's install script only checks a version scheme.
    await output("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], dir);
    Object.assign(versions, await installedVersions(dir));
  }
  return {
    dir,
    nodeVersion,
    versions,
    spawn(runtime, script, args, name) {
      const [command, runtimeArgs] = runtime === "node"
        ? ["node", []]
        : [Deno.execPath(), ["run", "--allow-all"]];
      // From `dir`, Deno finds package.json and uses its node_modules as Node does.
      const child = new Deno.Command(command, {
        args: [...runtimeArgs, script, ...args],
        cwd: dir,
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      return new LabProcess(name, child);
    },
  };
}

async function installedVersions(dir: string): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const name of PINNED) {
    try {
      const manifest = await Deno.readTextFile(`${dir}/node_modules/${name}/package.json`);
      versions[name] = JSON.parse(manifest).version;
    } catch {
      // Not installed yet.
    }
  }
  return versions;
}

async function output(command: string, args: string[], cwd?: string): Promise<string> {
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command(command, { args, cwd, stdin: "null" }).output();
  } catch (error) {
    throw new Error(`Cannot run "${command} ${args.join(" ")}": ${error}`);
  }
  const text = new TextDecoder();
  if (!result.success) {
    throw new Error(
      `"${command} ${args.join(" ")}" failed (code ${result.code}): ${text.decode(result.stderr)}`,
    );
  }
  return text.decode(result.stdout).trim();
}
