/**
 * The Compose backend's command lines, checked against stand-in `docker` and `docker-compose`
 * programs that record their arguments (the real stack is exercised by the Docker CI test).
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** Runs `lab.ts` with stand-ins first on PATH; resolves with its exit code and what they saw. */
async function runWithStandIns(...args: string[]): Promise<{ code: number; calls: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "lab-compose-test-" });
  try {
    const record = 'echo "$(basename "$0") $*" >> "$STANDIN_LOG"';
    // docker: the engine answers, there is no v2 plugin, nothing else succeeds.
    await Deno.writeTextFile(
      join(dir, "docker"),
      `#!/bin/sh\n${record}\ncase "$1" in info) exit 0;; *) exit 1;; esac\n`,
      { mode: 0o755 },
    );
    await Deno.writeTextFile(join(dir, "docker-compose"), `#!/bin/sh\n${record}\n`, {
      mode: 0o755,
    });
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "lab.ts", ...args],
      cwd: ROOT,
      env: {
        PATH: `${dir}:${Deno.env.get("PATH")}`,
        STANDIN_LOG: join(dir, "calls"),
        LAB_STATE_DIR: join(dir, "state"),
      },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    const calls = await Deno.readTextFile(join(dir, "calls")).catch(() => "");
    return { code: output.code, calls: calls.trim().split("\n") };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const COMPOSE = `docker-compose --project-directory ${ROOT} -f ${ROOT}/compose.yaml`;

Deno.test("compose backend: stop zookeeper2 stops the ensemble's zoo2 with docker-compose", async () => {
  const { code, calls } = await runWithStandIns("stop", "zookeeper2", "--backend", "compose");
  assert.equal(code, 0);
  assert.equal(calls.at(-1), `${COMPOSE} stop zoo2`);
});

Deno.test("compose backend: down takes the ensemble profile down too", async () => {
  const { code, calls } = await runWithStandIns("down", "--backend", "compose");
  assert.equal(code, 0);
  assert.equal(calls.at(-1), `${COMPOSE} --profile ensemble down -v --remove-orphans`);
});

Deno.test("compose backend: clean removes local images and volumes", async () => {
  const { code, calls } = await runWithStandIns("clean", "--backend", "compose");
  assert.equal(code, 0);
  assert.ok(calls.includes(`${COMPOSE} --profile ensemble down --rmi local -v --remove-orphans`));
});

Deno.test("compose backend: logs passes --tail, -f and the service to docker-compose logs, uncoloured into a pipe", async () => {
  const { code, calls } = await runWithStandIns(
    "logs",
    "-f",
    "-n",
    "5",
    "master1",
    "--backend",
    "compose",
  );
  assert.equal(code, 0);
  assert.equal(calls.at(-1), `${COMPOSE} logs --no-color --tail=5 -f master1`);
});

Deno.test("compose backend: an unknown service is refused before docker-compose runs", async () => {
  const { code, calls } = await runWithStandIns("start", "master9", "--backend", "compose");
  assert.equal(code, 1);
  assert.ok(!calls.some((call) => call.startsWith("docker-compose --project-directory")));
});
