/**
 * A leader that the worker refuses (here: the worker follows another ELECTION_PATH) backs off
 * instead of re-leading and re-announcing in a hot loop, logs the refusal once with the worker's
 * reason, names both election paths, and reports NOT_SERVING.
 */
import assert from "node:assert/strict";
import { checkHealth } from "../../lib/grpc/grpc.ts";
import { delay } from "../../lib/common/backoff.ts";
import { eventsOf, waitForEvent } from "../harness/events.ts";
import { startLab } from "../harness/lab.ts";

Deno.test("a leader the worker refuses backs off, logs the refusal once naming both election paths, and reports NOT_SERVING", async () => {
  await using lab = await startLab({ masters: 0, worker: false });
  const workerPath = `${lab.electionPath}-worker`;
  await lab.startWorker({ ELECTION_PATH: workerPath });
  const leader = await lab.startMaster();
  const refused = await waitForEvent(leader, "The worker refused our epoch; trying again", {
    timeoutMs: 15_000,
  });
  assert.match(String(refused.record.reason), new RegExp(`election path ${workerPath}\\)$`));
  const mismatch = await waitForEvent(
    leader,
    "The worker follows another election path than this master",
  );
  assert.equal(mismatch.record.masterElectionPath, lab.electionPath);
  assert.equal(mismatch.record.workerElectionPath, workerPath);

  const address = String(eventsOf(leader, "Master serving")[0].record.address);
  assert.equal(await checkHealth(address, { timeoutMs: 2000 }), "NOT_SERVING");

  // Watch it keep trying for a while: a few announcements with growing pauses, not a hot loop.
  const workerMark = lab.worker!.lines.length;
  await delay(4000);
  const attempts = eventsOf(lab.worker!, "Refused a task from a stale leader", workerMark).length;
  assert.ok(attempts >= 1, "it keeps trying");
  assert.ok(attempts <= 12, `${attempts} announcements in 4 s is a hot loop`);
  assert.equal(eventsOf(leader, "The worker refused our epoch; trying again").length, 1);
  // It did not give up and take leadership again in a loop either (a loaded machine may cost a
  // lease now and then, so a couple of terms are fine; the old hot loop made hundreds).
  const terms = eventsOf(leader, "I am the leader").filter((e) => e.record.epoch).length;
  assert.ok(terms <= 3, `${terms} terms`);
  assert.equal(await checkHealth(address, { timeoutMs: 2000 }), "NOT_SERVING");
});
