/**
 * Unit tests of `lib/nodes/deno_version.ts`: which Deno versions the lab refuses, and what it says.
 */
import assert from "node:assert/strict";
import {
  denoVersionProblem,
  OVERRIDE_VARIABLE,
  PINNED_DENO_VERSION,
} from "../../lib/nodes/deno_version.ts";

Deno.test("PINNED_DENO_VERSION is 2.9.3 and ALLOW_UNSAFE_DENO is the override", () => {
  assert.equal(PINNED_DENO_VERSION, "2.9.3");
  assert.equal(OVERRIDE_VARIABLE, "ALLOW_UNSAFE_DENO");
});

for (const version of ["2.9.3", "2.8.3", "2.7.14", "2.7.0"]) {
  Deno.test(`denoVersionProblem accepts ${version}`, () => {
    assert.equal(denoVersionProblem(version), undefined);
  });
}

Deno.test("denoVersionProblem explains the refusal of 2.9.4 exactly", () => {
  assert.equal(
    denoVersionProblem("2.9.4"),
    "Refusing to run on Deno 2.9.4: Deno 2.9.4 and later abort the process when an HTTP/2 " +
      "connection that carried more than ~100 gRPC calls receives a GOAWAY (on every clean stop " +
      "of a peer), see denoland/deno#36788. Use Deno 2.9.3 (npm install -g deno@2.9.3), or set " +
      "ALLOW_UNSAFE_DENO=1 to run anyway",
  );
});

for (const version of ["2.9.4", "2.9.6", "2.10.0", "3.0.0"]) {
  Deno.test(`denoVersionProblem refuses ${version}, naming the issue, the pinned version and the override`, () => {
    const problem = denoVersionProblem(version);
    assert.ok(problem !== undefined);
    assert.ok(problem.startsWith(`Refusing to run on Deno ${version}: `), problem);
    assert.ok(problem.includes("denoland/deno#36788"), problem);
    assert.ok(problem.includes("Use Deno 2.9.3"), problem);
    assert.ok(problem.includes("ALLOW_UNSAFE_DENO=1"), problem);
  });
}

Deno.test("denoVersionProblem refuses 2.6.8 because gRPC calls fail before 2.7", () => {
  assert.equal(
    denoVersionProblem("2.6.8"),
    "Refusing to run on Deno 2.6.8: gRPC calls fail on Deno before 2.7 " +
      "(ERR_HTTP2_SOCKET_UNBOUND). Use Deno 2.9.3, or set ALLOW_UNSAFE_DENO=1 to run anyway",
  );
});

Deno.test("denoVersionProblem refuses 1.46.3", () => {
  assert.ok(denoVersionProblem("1.46.3")?.startsWith("Refusing to run on Deno 1.46.3: "));
});

for (const version of ["", "banana", "2.9", "v2.9.3", "2.x.3"]) {
  Deno.test(`denoVersionProblem refuses the unreadable version "${version}"`, () => {
    assert.equal(denoVersionProblem(version), `Cannot tell which Deno this is ("${version}")`);
  });
}
