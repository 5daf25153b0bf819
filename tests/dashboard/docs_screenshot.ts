/**
 * Makes the README's screenshot (docs/dashboard.png) from a real local lab: the leader stopped from
 * the page, the handover drawn, the old leader started again as a follower.
 *
 *   deno run -A tests/dashboard/docs_screenshot.ts docs/dashboard.png
 */
import { DashboardLab } from "./dashboard_lab.ts";

if (import.meta.main) {
  const target = Deno.args[0] ?? "docs/dashboard.png";
  await using lab = new DashboardLab();
  const page = await lab.start();
  await page.setViewport({ width: 1180, height: 1020 });
  await page.waitForSelector('[data-service="master1"][data-role="leader"]', { timeout: 10_000 });
  await (await page.waitForSelector('button[aria-label="Stop master1"]:not([disabled])'))!.click();
  await page.waitForSelector('#timeline g[data-step="accepted"]', { timeout: 10_000 });
  await (await page.waitForSelector('button[aria-label="Start master1"]:not([disabled])', {
    timeout: 10_000,
  }))!.click();
  await page.waitForSelector('[data-service="master1"][data-role="follower"]', { timeout: 20_000 });
  await new Promise((resolve) => setTimeout(resolve, 1500)); // the next probe round fills the cards
  // The top of the page (services, election, timeline, history) keeps the file small.
  await page.screenshot({
    path: target as `${string}.png`,
    clip: { x: 0, y: 0, width: 1180, height: 790 },
  });
  console.log(`Saved ${target}`);
}
