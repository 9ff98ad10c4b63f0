import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
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

test("first start asks for the first administrator", async () => {
  const fresh = await startServer({ demo: false });
  const page = await browser.newPage();
  try {
    await page.goto(`${fresh.base}/`);
    await page.waitForURL(`${fresh.base}/setup`);
    await page.getByLabel("Site name").fill("Harbour Regenerative Clinic");
    await page.getByLabel("Country (ISO code, e.g. AE, IN, GB)").fill("AE");
    await page.getByLabel("ISBT 128 facility identification number (FIN)").fill("A9990");
    await page.getByLabel("Full name").fill("Mona Saleh");
    await page.getByLabel("Username").fill("mona");
    await page.getByLabel("Password (at least 12 characters)").fill("a long enough passphrase");
    await shot(page, "01-first-start");
    await page.getByRole("button", { name: "Create the site and administrator" }).click();
    await page.waitForURL(`${fresh.base}/login`);
    await signIn(page, fresh.base, "mona", "a long enough passphrase");
    assert.match(await page.textContent("main"), /Work queues · Harbour Regenerative Clinic/);
  } finally {
    await page.close();
    fresh.stop();
  }
});

test("sign in and sign out", async () => {
  const page = await browser.newPage();
  await page.goto(`${demo.base}/login`);
  assert.match(await page.textContent("main"), /Demo accounts/);
  await shot(page, "02-login-demo-accounts");
  await page.getByLabel("Username").fill("nurse.fatima");
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Sign in" }).click();
  assert.match(await page.textContent("[role=alert]"), /not right/);
  assert.equal(await page.getByLabel("Username").inputValue(), "nurse.fatima", "the form keeps what was typed");
  await signIn(page, demo.base, "nurse.fatima");
  assert.match(await page.textContent("header"), /Fatima Noor/);
  await shot(page, "03-dashboard-nurse");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${demo.base}/login`);
  await page.goto(`${demo.base}/patients`);
  await page.waitForURL(`${demo.base}/login`);
  await page.close();
});

test("a role is refused a page it may not see", async () => {
  const page = await browser.newPage();
  await signIn(page, demo.base, "log.khan");
  const response = await page.goto(`${demo.base}/patients`);
  assert.equal(response.status(), 403);
  assert.match(await page.textContent("main"), /do not let you see patient records/);
  await shot(page, "04-forbidden-logistics-patients");
  await page.close();
});

test("a patient's record shows the plan, evidence status and timeline in any script", async () => {
  const page = await browser.newPage();
  await signIn(page, demo.base, "dr.haddad");
  await page.getByRole("link", { name: "Patients" }).click();
  await page.getByRole("link", { name: /Layla Al-Hassan/ }).click();
  const main = await page.textContent("main");
  assert.match(main, /ليلى الحسن/);
  assert.match(main, /evidence: unproven/);
  assert.match(main, /Evidence override signed by md.alsayed/);
  assert.match(main, /Administered 50 million cells/);
  await shot(page, "05-patient-record-arabic-name");
  await page.getByRole("link", { name: /A999126000101 S1003100/ }).click();
  assert.match(await page.textContent("main"), /Lineage/);
  const label = page.getByRole("img", { name: /ISBT 128 label/ });
  await label.waitFor();
  await page.waitForFunction(() => {
    const img = document.querySelector('img[alt^="ISBT 128 label"]');
    return img && img.complete && img.naturalWidth > 500;
  }, null, { timeout: 20_000 });
  await shot(page, "06-unit-lineage-and-label");
  await page.close();
});

async function bedside(page, wristband, unit) {
  await page.goto(`${demo.base}/bedside`);
  // A USB scanner types into the focused field and presses Enter; the
  // wristband field has the focus when the page opens.
  const wristbandField = page.getByLabel("Patient wristband");
  await wristbandField.focus();
  assert.ok(await wristbandField.evaluate((el) => el === document.activeElement));
  await page.keyboard.type(wristband);
  await page.keyboard.press("Enter");
  await page.getByLabel("Unit label (DIN, then product code)").focus();
  await page.keyboard.type(unit);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#verdict");
  return page.textContent("main");
}

test("bedside verification stops the wrong patient, an expired unit, an unreleased unit and withdrawn consent", async () => {
  const page = await browser.newPage();
  await signIn(page, demo.base, "nurse.fatima");
  let text = await bedside(page, "&#0109DXB100231", "=A99912600010300=<S5002100");
  assert.match(text, /STOP — do not administer/);
  assert.match(text, /autologous material of another patient/);
  await shot(page, "07-bedside-wrong-patient");
  text = await bedside(page, "&#0109DXB100235", "=A99912600010500=<S5002100");
  // Omar has two plans: the nurse names the one being given, it is never guessed.
  assert.match(text, /has 2 plans at this site: choose the plan/);
  await page.getByLabel("Treatment plan being given").selectOption("plan-omar-2");
  await page.getByRole("button", { name: "Check" }).click();
  await page.waitForSelector("#verdict");
  text = await page.textContent("main");
  assert.match(text, /unit A999126000105 expired/);
  assert.doesNotMatch(text, /autologous material of another patient/);
  await shot(page, "07b-bedside-expired");
  text = await bedside(page, "&#0109DXB100233", "=A99912600010400=<S1003100");
  assert.match(text, /in quarantine \(not released\)/);
  await shot(page, "08-bedside-unreleased");
  text = await bedside(page, "&#0109DXB100232", "=A99912600010200=<S1001100");
  assert.match(text, /withdrew consent/);
  await shot(page, "09-bedside-consent-withdrawn");
  await page.close();
});

test("QA releases a unit with an e-signature", async () => {
  const page = await browser.newPage();
  await signIn(page, demo.base, "qa.mehta");
  await page.goto(`${demo.base}/units/u-fatima-msc`);
  await page.getByRole("link", { name: "Release with e-signature" }).click();
  assert.match(await page.textContent("main"), /I confirm that this unit meets its specification/);
  await page.getByLabel("Re-enter your password to sign").fill("not my password");
  await page.getByRole("button", { name: "Sign and release" }).click();
  assert.match(await page.textContent("[role=alert]"), /nothing was signed/);
  await page.getByLabel("Re-enter your password to sign").fill("celltrace-demo");
  await shot(page, "10-release-e-signature");
  await page.getByRole("button", { name: "Sign and release" }).click();
  await page.waitForURL(`${demo.base}/units/u-fatima-msc`);
  assert.match(await page.textContent("main"), /qa.mehta signed "I confirm that this unit meets its specification/);
  await page.close();
});

test("a physician enters an adverse event", async () => {
  const page = await browser.newPage();
  await signIn(page, demo.base, "dr.sharma");
  await page.goto(`${demo.base}/patients/p-sunita`);
  await page.getByRole("link", { name: "Report an adverse event" }).click();
  await page.getByLabel("Treatment plan").selectOption("plan-sunita");
  await page.getByLabel("CTCAE term").fill("Arthralgia");
  await page.getByLabel("CTCAE grade").selectOption("2");
  await page.getByLabel("Onset date").fill("2026-11-20");
  await page.getByLabel("Relation to the product").selectOption("possible");
  await page.getByLabel("Action taken").fill("Paracetamol");
  await page.getByLabel("Outcome").fill("Recovering");
  await page.getByLabel("What happened").fill("Knee pain for three days after the injection.");
  await shot(page, "11-adverse-event-form");
  await page.getByLabel("Required or prolonged hospitalisation").check();
  await page.getByRole("button", { name: "Report the adverse event" }).click();
  await page.waitForURL(`${demo.base}/patients/p-sunita`);
  assert.match(await page.textContent("main"), /Adverse event: Arthralgia grade 2/);
  await page.close();

  // A serious event alerts the medical director's queue until reviewed.
  const director = await browser.newPage();
  await signIn(director, demo.base, "md.iyer");
  const alert = director.locator("section[role=alert]");
  assert.match(await alert.textContent(), /Serious adverse events awaiting the medical director's review \(1\)/);
  assert.match(await alert.textContent(), /Arthralgia grade 2/);
  await shot(director, "13-serious-adverse-event-alert");
  await alert.getByRole("link").first().click();
  assert.match(await director.textContent("h1"), /SERIOUS/);
  await director.getByLabel("Assessment, causality and whether it must be reported to the regulator").fill("Hospitalised one night for pain control; possibly related; report to the regulator within 15 days.");
  await director.getByRole("button", { name: "Record the review" }).click();
  assert.match(await director.textContent("main"), /md.iyer on .*Hospitalised one night/);
  await director.goto(`${demo.base}/`);
  assert.equal(await director.locator("section[role=alert]").count(), 0, "reviewed: no longer an alert");
  await director.close();
});

test("the registry shows outcomes with confidence intervals and loss to follow-up", async () => {
  const page = await browser.newPage();
  await signIn(page, demo.base, "dr.sharma");
  await page.getByRole("link", { name: "Registry" }).click();
  const main = await page.textContent("main");
  assert.match(main, /KOOS pain \(MCID 11.3 points, 2 patients\)/);
  assert.match(main, /Knee osteoarthritis · autologous-bone-marrow · delhi-centre/);
  assert.match(main, /All patients \(pooled\)/);
  // Each analysed score has its three plots, drawn (not broken images), with PNG and CSV downloads.
  const plots = page.locator("figure img");
  assert.equal(await plots.count(), 6, "change, responders and time to first AE for NPRS and KOOS pain");
  for (const img of await plots.all()) {
    await img.scrollIntoViewIfNeeded();
    await page.waitForFunction((el) => el.complete, await img.elementHandle());
    assert.ok(await img.evaluate((el) => el.naturalWidth > 300), `${await img.getAttribute("src")} is drawn`);
  }
  const png = await page.request.get(`${demo.base}/registry/plots/nprs/change.png`);
  assert.equal(png.headers()["content-type"], "image/png");
  assert.equal((await png.body()).subarray(1, 4).toString(), "PNG");
  const csv = await (await page.request.get(`${demo.base}/registry/plots/koos-pain/responders.csv`)).text();
  assert.match(csv.split("\n")[0], /time_point/);
  await shot(page, "12-registry");
  await page.close();
});

test("an administrator uploads newer evidence data, checked before it is recorded", async () => {
  const page = await browser.newPage();
  await signIn(page, demo.base, "admin");
  await page.getByRole("link", { name: "Evidence data" }).click();
  assert.equal(await page.textContent("#evidence-version"), "2026.01.1");
  const data = join(import.meta.dirname, "../../data/evidence");
  const file = (name, edit = (t) => t) => ({ name, mimeType: "text/plain", buffer: Buffer.from(edit(readFileSync(join(data, name), "utf8").replaceAll("2026.01.1", "2026.12.1"))) });
  await page.setInputFiles("#indications", file("indications.toml"));
  await page.setInputFiles("#status", file("status.toml", (t) => t.replace('status = "unproven"', 'status = "miraculous"')));
  await page.setInputFiles("#approved_products", file("approved_products.toml"));
  await page.getByRole("button", { name: "Check and load" }).click();
  assert.match(await page.textContent("[role=alert]"), /nothing changed.*status\.toml.*line/s);
  assert.equal(await page.textContent("#evidence-version"), "2026.01.1", "a broken file changes nothing");
  await page.setInputFiles("#indications", file("indications.toml"));
  await page.setInputFiles("#status", file("status.toml"));
  await page.setInputFiles("#approved_products", file("approved_products.toml"));
  await page.getByRole("button", { name: "Check and load" }).click();
  assert.match(await page.textContent("[role=status]"), /2026\.12\.1 is now in force/);
  assert.equal(await page.textContent("#evidence-version"), "2026.12.1");
  await shot(page, "14-evidence-data-admin");
  await page.close();
});
