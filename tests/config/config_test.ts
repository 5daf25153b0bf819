/**
 * Unit tests of `lib/config/config.ts`: the defaults of every variable and the exact message of every
 * refusal, for the worker and for a master.
 */
import assert from "node:assert/strict";
import {
  ConfigError,
  type Env,
  type MasterConfig,
  parseMasterConfig,
  parseWorkerConfig,
  type WorkerConfig,
} from "../../lib/config/config.ts";

const DEFAULTS = { hostname: "box1" };

function worker(env: Env): WorkerConfig {
  return parseWorkerConfig(env);
}

function master(env: Env): MasterConfig {
  return parseMasterConfig(env, DEFAULTS);
}

/** Asserts that parsing `env` for `role` throws a ConfigError with exactly `message`. */
function assertRefused(role: "worker" | "master", env: Env, message: string): void {
  assert.throws(() => (role === "worker" ? worker(env) : master(env)), {
    name: "ConfigError",
    message,
  });
}

/** The message for `name` breaking `rule`, as the process `role` prints it. */
function refusal(role: "worker" | "master", name: string, rule: string, value: string): string {
  return `Cannot start ${role}: "${name}" ${rule}: current value is "${value}"`;
}

const ZK_SERVERS_RULE = 'must be a comma-separated list of "host:port"';
const SESSION_TIMEOUT_RULE = "must be an integer number of milliseconds from 400 to 600000";
const ELECTION_PATH_RULE =
  'must be an absolute ZooKeeper path below the root, like "/election", without a trailing slash';
const ZK_AUTH_RULE = 'must be "user:password"';
const LOG_FORMAT_RULE = 'must be "text" or "json"';
const HOST_RULE = 'must be a host name or an IP address (IPv6 in brackets, like "[::1]")';
const PORT_RULE = "must be a port number from 0 to 65535";
const MASTER_NAME_RULE = "must be 1 to 64 letters, digits, '.', '_' or '-'";
const WORKER_ADDR_RULE = 'must be "host:port" with a port from 1 to 65535';
const STATUS_INTERVAL_RULE = "must be an integer number of milliseconds from 10 to 3600000";
const WORKER_TIMEOUT_RULE = "must be an integer number of milliseconds from 10 to 600000";

const ROLES = ["worker", "master"] as const;

for (const value of ["yes", "1", "ON"]) {
  Deno.test(`parseMasterConfig WORKER_LINK refuses "${value}"`, () => {
    assertRefused(
      "master",
      { WORKER_LINK: value },
      refusal("master", "WORKER_LINK", 'must be "on" or "off"', value),
    );
  });
}

for (const value of ["0", "abc", "10000001"]) {
  Deno.test(`parseWorkerConfig WORKER_DEDUP_WINDOW refuses "${value}"`, () => {
    assertRefused(
      "worker",
      { WORKER_DEDUP_WINDOW: value },
      refusal(
        "worker",
        "WORKER_DEDUP_WINDOW",
        "must be an integer number of task ids from 1 to 10000000",
        value,
      ),
    );
  });
}

// --- Defaults -------------------------------------------------------------------------------

Deno.test("parseWorkerConfig uses the defaults for an empty environment", () => {
  assert.deepEqual(worker({}), {
    zkServers: ["localhost:2181"],
    sessionTimeoutMs: 4000,
    electionPath: "/election",
    zkAuth: undefined,
    host: "0.0.0.0",
    port: 7070,
    dedupWindow: 10000,
    journalPath: undefined,
    logFormat: "text",
  });
});

Deno.test("parseMasterConfig uses the defaults and the hostname for an empty environment", () => {
  assert.deepEqual(master({}), {
    zkServers: ["localhost:2181"],
    sessionTimeoutMs: 4000,
    electionPath: "/election",
    zkAuth: undefined,
    name: "box1",
    host: "0.0.0.0",
    port: 0,
    advertiseHost: "box1",
    workerAddress: "localhost:7070",
    statusIntervalMs: 5000,
    workerTimeoutMs: 2000,
    workerLink: true,
    logFormat: "text",
  });
});

Deno.test("parseWorkerConfig falls back to the defaults for blank values", () => {
  const blank = {
    ZK_SERVERS: "",
    ZK_SESSION_TIMEOUT_MS: "  ",
    ELECTION_PATH: "\t",
    ZK_AUTH: " ",
    WORKER_HOST: "",
    WORKER_PORT: " ",
    LOG_FORMAT: "",
  };
  assert.deepEqual(worker(blank), worker({}));
});

Deno.test("parseMasterConfig falls back to the defaults for blank values", () => {
  const blank = {
    ZK_SERVERS: " ",
    ZK_SESSION_TIMEOUT_MS: "",
    ELECTION_PATH: "",
    ZK_AUTH: "",
    MASTER_NAME: "  ",
    MASTER_HOST: "",
    MASTER_PORT: "",
    MASTER_ADVERTISE_HOST: " ",
    WORKER_ADDR: "",
    STATUS_INTERVAL_MS: " ",
    WORKER_TIMEOUT_MS: "",
    WORKER_LINK: "",
    LOG_FORMAT: " ",
  };
  assert.deepEqual(master(blank), master({}));
});

Deno.test("parseWorkerConfig reads every variable, trimmed", () => {
  assert.deepEqual(
    worker({
      ZK_SERVERS: " zk1:2181 , zk2:2182 ",
      ZK_SESSION_TIMEOUT_MS: " 6000 ",
      ELECTION_PATH: " /lab/election ",
      ZK_AUTH: " lab:secret ",
      WORKER_HOST: " 127.0.0.1 ",
      WORKER_PORT: " 7071 ",
      WORKER_DEDUP_WINDOW: " 500 ",
      WORKER_JOURNAL: " /tmp/journal.jsonl ",
      LOG_FORMAT: " json ",
    }),
    {
      zkServers: ["zk1:2181", "zk2:2182"],
      sessionTimeoutMs: 6000,
      electionPath: "/lab/election",
      zkAuth: "lab:secret",
      host: "127.0.0.1",
      port: 7071,
      dedupWindow: 500,
      journalPath: "/tmp/journal.jsonl",
      logFormat: "json",
    },
  );
});

Deno.test("parseMasterConfig reads every variable, trimmed", () => {
  assert.deepEqual(
    master({
      ZK_SERVERS: "zk1:2181",
      ZK_SESSION_TIMEOUT_MS: "3000",
      ELECTION_PATH: "/e",
      ZK_AUTH: "lab:secret",
      MASTER_NAME: " master1 ",
      MASTER_HOST: "127.0.0.1",
      MASTER_PORT: "50051",
      MASTER_ADVERTISE_HOST: " master1.lab ",
      WORKER_ADDR: " worker:7070 ",
      STATUS_INTERVAL_MS: "1000",
      WORKER_TIMEOUT_MS: "500",
      WORKER_LINK: " off ",
      LOG_FORMAT: "json",
    }),
    {
      zkServers: ["zk1:2181"],
      sessionTimeoutMs: 3000,
      electionPath: "/e",
      zkAuth: "lab:secret",
      name: "master1",
      host: "127.0.0.1",
      port: 50051,
      advertiseHost: "master1.lab",
      workerAddress: "worker:7070",
      statusIntervalMs: 1000,
      workerTimeoutMs: 500,
      workerLink: false,
      logFormat: "json",
    },
  );
});

Deno.test("parseWorkerConfig returns a frozen object", () => {
  assert.ok(Object.isFrozen(worker({})));
});

Deno.test("parseMasterConfig returns a frozen object", () => {
  assert.ok(Object.isFrozen(master({})));
});

Deno.test("parseWorkerConfig throws a ConfigError", () => {
  assert.throws(() => worker({ WORKER_PORT: "abc" }), ConfigError);
});

// --- ZooKeeper settings, shared by both roles ---------------------------------------------------

for (const role of ROLES) {
  const parse = role === "worker" ? worker : master;

  Deno.test(`${role} ZK_SERVERS accepts a comma-separated list`, () => {
    assert.deepEqual(parse({ ZK_SERVERS: "a:1,b:2" }).zkServers, ["a:1", "b:2"]);
  });

  Deno.test(`${role} ZK_SERVERS accepts a bracketed IPv6 address`, () => {
    assert.deepEqual(parse({ ZK_SERVERS: "[::1]:2181" }).zkServers, ["[::1]:2181"]);
  });

  Deno.test(`${role} ZK_SERVERS accepts ports 1 and 65535`, () => {
    assert.deepEqual(parse({ ZK_SERVERS: "a:1,b:65535" }).zkServers, ["a:1", "b:65535"]);
  });

  for (const value of ["host", "host:0", "host:70000", "host:65536", "a:1,,b:2", "a:1,", "a b:1"]) {
    Deno.test(`${role} ZK_SERVERS refuses "${value}"`, () => {
      assertRefused(
        role,
        { ZK_SERVERS: value },
        refusal(role, "ZK_SERVERS", ZK_SERVERS_RULE, value),
      );
    });
  }

  Deno.test(`${role} ZK_SESSION_TIMEOUT_MS accepts 400 and 600000`, () => {
    assert.equal(parse({ ZK_SESSION_TIMEOUT_MS: "400" }).sessionTimeoutMs, 400);
    assert.equal(parse({ ZK_SESSION_TIMEOUT_MS: "600000" }).sessionTimeoutMs, 600000);
  });

  for (const value of ["abc", "399", "600001", "-1", "1.5", "4e3", "+4000", "0x400"]) {
    Deno.test(`${role} ZK_SESSION_TIMEOUT_MS refuses "${value}"`, () => {
      assertRefused(
        role,
        { ZK_SESSION_TIMEOUT_MS: value },
        refusal(role, "ZK_SESSION_TIMEOUT_MS", SESSION_TIMEOUT_RULE, value),
      );
    });
  }

  Deno.test(`${role} ELECTION_PATH accepts nested paths and names that only start with zookeeper`, () => {
    assert.equal(parse({ ELECTION_PATH: "/apps/lab/election" }).electionPath, "/apps/lab/election");
    assert.equal(parse({ ELECTION_PATH: "/zookeeperish" }).electionPath, "/zookeeperish");
    assert.equal(parse({ ELECTION_PATH: "/a/..b" }).electionPath, "/a/..b");
  });

  for (
    const value of [
      "/",
      "election",
      "/a/",
      "/a//b",
      "/zookeeper",
      "/zookeeper/election",
      "/a/../b",
      "/a/./b",
      "/..",
      "/a b",
    ]
  ) {
    Deno.test(`${role} ELECTION_PATH refuses "${value}"`, () => {
      assertRefused(
        role,
        { ELECTION_PATH: value },
        refusal(role, "ELECTION_PATH", ELECTION_PATH_RULE, value),
      );
    });
  }

  Deno.test(`${role} ZK_AUTH accepts "user:password"`, () => {
    assert.equal(parse({ ZK_AUTH: "user:password" }).zkAuth, "user:password");
  });

  Deno.test(`${role} ZK_AUTH accepts a password that contains a colon`, () => {
    assert.equal(parse({ ZK_AUTH: "user:pass:word" }).zkAuth, "user:pass:word");
  });

  for (const value of ["nocolon", ":password", "user:", "us er:password", "user:pass word"]) {
    Deno.test(`${role} ZK_AUTH refuses "${value}"`, () => {
      assertRefused(role, { ZK_AUTH: value }, refusal(role, "ZK_AUTH", ZK_AUTH_RULE, value));
    });
  }

  Deno.test(`${role} LOG_FORMAT accepts "text" and "json"`, () => {
    assert.equal(parse({ LOG_FORMAT: "text" }).logFormat, "text");
    assert.equal(parse({ LOG_FORMAT: "json" }).logFormat, "json");
  });

  for (const value of ["xml", "JSON", "Text"]) {
    Deno.test(`${role} LOG_FORMAT refuses "${value}"`, () => {
      assertRefused(
        role,
        { LOG_FORMAT: value },
        refusal(role, "LOG_FORMAT", LOG_FORMAT_RULE, value),
      );
    });
  }
}

// --- Worker settings ----------------------------------------------------------------------------

Deno.test("parseWorkerConfig WORKER_HOST accepts names, IPv4 and bracketed IPv6 addresses", () => {
  assert.equal(worker({ WORKER_HOST: "worker.lab" }).host, "worker.lab");
  assert.equal(worker({ WORKER_HOST: "10.0.0.7" }).host, "10.0.0.7");
  assert.equal(worker({ WORKER_HOST: "[::]" }).host, "[::]");
  assert.equal(worker({ WORKER_HOST: "[::1]" }).host, "[::1]");
});

for (const value of ["bad host", "host/x", "host;rm", "::1"]) {
  Deno.test(`parseWorkerConfig WORKER_HOST refuses "${value}"`, () => {
    assertRefused(
      "worker",
      { WORKER_HOST: value },
      refusal("worker", "WORKER_HOST", HOST_RULE, value),
    );
  });
}

Deno.test("parseWorkerConfig WORKER_PORT accepts 0 and 65535", () => {
  assert.equal(worker({ WORKER_PORT: "0" }).port, 0);
  assert.equal(worker({ WORKER_PORT: "65535" }).port, 65535);
});

for (const value of ["65536", "-1", "abc", "70.5"]) {
  Deno.test(`parseWorkerConfig WORKER_PORT refuses "${value}"`, () => {
    assertRefused(
      "worker",
      { WORKER_PORT: value },
      refusal("worker", "WORKER_PORT", PORT_RULE, value),
    );
  });
}

// --- Master settings ----------------------------------------------------------------------------

Deno.test("parseMasterConfig MASTER_NAME accepts letters, digits, '.', '_' and '-'", () => {
  assert.equal(master({ MASTER_NAME: "Master_1.lab-a" }).name, "Master_1.lab-a");
});

Deno.test("parseMasterConfig MASTER_NAME accepts 64 characters", () => {
  const name = "m".repeat(64);
  assert.equal(master({ MASTER_NAME: name }).name, name);
});

for (const value of ["m".repeat(65), "master 1", "master/1", "master:1", "mäster"]) {
  Deno.test(`parseMasterConfig MASTER_NAME refuses "${value}"`, () => {
    assertRefused(
      "master",
      { MASTER_NAME: value },
      refusal("master", "MASTER_NAME", MASTER_NAME_RULE, value),
    );
  });
}

Deno.test({
  name: "parseMasterConfig MASTER_NAME refusal names the hostname it defaulted to",
  fn() {
    assert.throws(() => parseMasterConfig({}, { hostname: "bad host" }), {
      name: "ConfigError",
      message: refusal("master", "MASTER_NAME", MASTER_NAME_RULE, "bad host"),
    });
  },
});

for (const name of ["MASTER_HOST", "MASTER_ADVERTISE_HOST"]) {
  for (const value of ["bad host", "host/x"]) {
    Deno.test(`parseMasterConfig ${name} refuses "${value}"`, () => {
      assertRefused("master", { [name]: value }, refusal("master", name, HOST_RULE, value));
    });
  }
}

Deno.test("parseMasterConfig MASTER_PORT accepts 0 and 65535", () => {
  assert.equal(master({ MASTER_PORT: "0" }).port, 0);
  assert.equal(master({ MASTER_PORT: "65535" }).port, 65535);
});

for (const value of ["65536", "-1", "abc"]) {
  Deno.test(`parseMasterConfig MASTER_PORT refuses "${value}"`, () => {
    assertRefused(
      "master",
      { MASTER_PORT: value },
      refusal("master", "MASTER_PORT", PORT_RULE, value),
    );
  });
}

Deno.test("parseMasterConfig WORKER_ADDR accepts a host name, an IPv4 and a bracketed IPv6 address", () => {
  assert.equal(master({ WORKER_ADDR: "worker:7070" }).workerAddress, "worker:7070");
  assert.equal(master({ WORKER_ADDR: "10.0.0.7:1" }).workerAddress, "10.0.0.7:1");
  assert.equal(master({ WORKER_ADDR: "[::1]:65535" }).workerAddress, "[::1]:65535");
});

for (const value of ["worker", "worker:0", "worker:65536", "::1:7070", "a:1,b:2", "worker:"]) {
  Deno.test(`parseMasterConfig WORKER_ADDR refuses "${value}"`, () => {
    assertRefused(
      "master",
      { WORKER_ADDR: value },
      refusal("master", "WORKER_ADDR", WORKER_ADDR_RULE, value),
    );
  });
}

Deno.test("parseMasterConfig STATUS_INTERVAL_MS accepts 10 and 3600000", () => {
  assert.equal(master({ STATUS_INTERVAL_MS: "10" }).statusIntervalMs, 10);
  assert.equal(master({ STATUS_INTERVAL_MS: "3600000" }).statusIntervalMs, 3600000);
});

for (const value of ["9", "3600001", "abc", "-10"]) {
  Deno.test(`parseMasterConfig STATUS_INTERVAL_MS refuses "${value}"`, () => {
    assertRefused(
      "master",
      { STATUS_INTERVAL_MS: value },
      refusal("master", "STATUS_INTERVAL_MS", STATUS_INTERVAL_RULE, value),
    );
  });
}

Deno.test("parseMasterConfig WORKER_TIMEOUT_MS accepts 10 and 600000", () => {
  assert.equal(master({ WORKER_TIMEOUT_MS: "10" }).workerTimeoutMs, 10);
  assert.equal(master({ WORKER_TIMEOUT_MS: "600000" }).workerTimeoutMs, 600000);
});

for (const value of ["9", "600001", "abc", "2s"]) {
  Deno.test(`parseMasterConfig WORKER_TIMEOUT_MS refuses "${value}"`, () => {
    assertRefused(
      "master",
      { WORKER_TIMEOUT_MS: value },
      refusal("master", "WORKER_TIMEOUT_MS", WORKER_TIMEOUT_RULE, value),
    );
  });
}
