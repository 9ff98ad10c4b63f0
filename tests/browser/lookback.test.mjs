// Lookback and recall in the browser: from the ledger page to a recall of a
// culture medium lot printed on processing steps, the tree up and down and
// the patients who received a unit; a site's QA sees their site's records
// and is told what other sites hold.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launch, signIn, shot } from "./harness.mjs";

let demo, browser;
before(async () => {
  demo = await startServer({ demo: true });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  demo?.stop();
});

test("an auditor recalls a reagent lot and sees the whole tree and every recipient", async () => {
  const page = await browser.newPage();
  await signIn(page, demo.base, "auditor");
  await page.getByRole("link", { name: "Ledger" }).click();
  await page.getByRole("link", { name: "Lookback and recall" }).click();
  await page.getByLabel("Start from").selectOption("lot");
  await page.getByLabel(/^Value/).fill("MEM-2026-0088");
  await page.getByRole("button", { name: "Trace" }).click();
  await page.waitForURL(/\/lookback\?by=lot&q=MEM-2026-0088/);
  const main = await page.textContent("main");
  assert.match(main, /network-wide/);
  assert.match(main, /Where it came from/);
  assert.match(main, /Affected units and everything made from them/);
  assert.match(main, /Layla Al-Hassan\) \(MRN DXB-100231\)/);
  assert.match(main, /plan-layla/);
  assert.doesNotMatch(main, /Not shown/);
  await shot(page, "13-lookback-auditor");
  // A named patient opens from the recall.
  await page.getByRole("link", { name: /Layla Al-Hassan/ }).first().click();
  await page.waitForURL(`${demo.base}/patients/p-layla`);
  await page.close();
});

test("a site's QA sees their site's records and what other sites hold", async () => {
  const page = await browser.newPage();
  await signIn(page, demo.base, "qa.dubai");
  await page.goto(`${demo.base}/lookback?by=lot&q=mem-2026-0088`);
  const main = await page.textContent("main");
  assert.match(main, /Layla Al-Hassan/);
  assert.match(main, /Not shown.*held at other sites \(.*mumbai-lab.*\)/s);
  await shot(page, "14-lookback-site-qa");
  await page.close();
});
