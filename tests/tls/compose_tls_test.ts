/**
 * The Compose side of `up --tls`: a lab recorded as TLS runs every docker-compose command with
 * compose.tls.yaml on top and LAB_CERTS_DIR pointing at its certificates, and the two files
 * together are a valid Compose project for docker-compose 1.29 (`config -q`, no engine needed).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ComposeBackend } from "../../lib/lab/compose/backend.ts";
import { parseLabSettings, PROJECT_ROOT } from "../../lib/lab/settings.ts";

const hasDockerCompose = await new Deno.Command("docker-compose", { args: ["version"] })
  .output().then((output) => output.success, () => false);

Deno.test("a TLS Compose lab runs docker-compose with compose.tls.yaml and its certificates", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lab-compose-tls-test-" });
  try {
    const recorder = join(dir, "compose");
    await Deno.writeTextFile(
      recorder,
      `#!/bin/sh\necho "$LAB_CERTS_DIR $*" >> "${dir}/calls"\n`,
      { mode: 0o755 },
    );
    const settings = parseLabSettings({ LAB_STATE_DIR: join(dir, "state") });
    // The state as `up --tls` records it and chooseBackend hands it over, then a plaintext one.
    await new ComposeBackend(settings, [recorder], {
      backend: "compose",
      ensemble: false,
      tls: true,
    }).stop("master1");
    await new ComposeBackend(settings, [recorder], { backend: "compose", ensemble: false })
      .stop("master1");
    const [tls, plain] = (await Deno.readTextFile(join(dir, "calls"))).trim().split("\n");
    const files = `-f ${PROJECT_ROOT}/compose.yaml`;
    assert.equal(
      tls,
      `${
        join(dir, "state", "certs")
      } --project-directory ${PROJECT_ROOT} ${files} -f ${PROJECT_ROOT}/compose.tls.yaml stop master1`,
    );
    assert.equal(
      plain,
      `${join(dir, "state", "certs")} --project-directory ${PROJECT_ROOT} ${files} stop master1`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "compose.yaml with compose.tls.yaml is valid for docker-compose and mounts the certificates read-only",
  ignore: !hasDockerCompose,
  async fn() {
    const run = (args: string[]) =>
      new Deno.Command("docker-compose", {
        args: ["--project-directory", PROJECT_ROOT, "-f", "compose.yaml", ...args],
        cwd: PROJECT_ROOT,
        env: { LAB_CERTS_DIR: "/tmp/lab-certs" },
        stdout: "piped",
        stderr: "piped",
      }).output();
    const quiet = await run(["-f", "compose.tls.yaml", "config", "-q"]);
    assert.ok(quiet.success, new TextDecoder().decode(quiet.stderr));
    const config = new TextDecoder().decode(
      (await run(["-f", "compose.tls.yaml", "config"])).stdout,
    );
    assert.equal(config.match(/\/tmp\/lab-certs:\/certs:ro/g)?.length, 3, config);
    assert.match(config, /WORKER_PLAIN_CLIENTS: cli/);
    assert.match(config, /TLS_CERT: \/certs\/master2\.crt/);
    assert.match(config, /--allow-read=\/app,\/deno-dir\/npm,\/certs/);
  },
});
