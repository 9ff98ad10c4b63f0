// The whole vein-to-vein path in the browser, as the staff of each step do it:
// autologous adipose cells for low back pain (Dubai clinic, Mumbai lab) and
// donor cord blood for a blood disorder (London bank, Delhi centre).
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

async function as(username, steps) {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await signIn(page, demo.base, username);
    return await steps(page);
  } finally {
    await context.close();
  }
}

async function fill(page, fields) {
  for (const [label, value] of Object.entries(fields)) {
    const field = page.getByLabel(label, { exact: true });
    const tag = await field.evaluate((el) => el.tagName);
    if (tag === "SELECT") await field.selectOption(value);
    else await field.fill(value);
  }
}

async function press(page, button, { refused = false } = {}) {
  await page.getByRole("button", { name: button }).click();
  await page.waitForLoadState("load");
  const alert = await page.locator("[role=alert]").count();
  if (refused) assert.ok(alert, `${button}: expected a refusal`);
  else if (alert) assert.fail(`${button}: ${await page.textContent("[role=alert]")}`);
}

async function switchSite(page, site) {
  // Choosing a site submits the switch form; wait until the new page has loaded.
  const navigated = page.waitForEvent("framenavigated");
  await page.getByLabel("Site").selectOption(site);
  await navigated;
  await page.waitForLoadState("load");
  assert.equal(await page.getByLabel("Site").inputValue(), site);
}

// Every eligibility criterion is answered on purpose: the form chooses none.
const CRITERIA = ["Age within the protocol's range", "No active cancer", "No active infection", "Not pregnant", "No anticoagulation", "No immunosuppression", "Baseline severity meets the protocol (e.g. NPRS, ODI)", "Imaging confirms the indication"];
async function assessEligible(page, planId, findings) {
  await page.goto(`${demo.base}/plans/${planId}/eligibility`);
  await press(page, "Record the assessment", { refused: true });
  for (const criterion of CRITERIA) await page.getByLabel(criterion, { exact: true }).selectOption(criterion === "Not pregnant" ? "na" : "met");
  await fill(page, { Findings: findings, "Days the assessment stays current": "90" });
  await press(page, "Record the assessment");
}

async function unitId(page) {
  return new URL(page.url()).pathname.split("/").pop();
}

test("autologous adipose cells for low back pain, from registration to administration", async () => {
  const patient = await as("dr.haddad", async (page) => {
    await page.goto(`${demo.base}/patients/new`);
    await fill(page, { "Patient or donor": "patient", "Medical record number": "DXB-300001", "Full name": "يوسف العلي (Yousef Al-Ali)", "Date of birth": "1975-03-14", Sex: "male", "Preferred language": "ar" });
    await press(page, "Register");
    const id = new URL(page.url()).pathname.split("/").pop();
    await page.getByRole("link", { name: "Order a treatment plan" }).click();
    await fill(page, { Indication: "M54.50", "Product type": "autologous-adipose", Route: "intradiscal", Sessions: "1", "Dose per session": "50", "Unit of dose": "million cells", "Cost quoted to the patient": "12000", Currency: "USD" });
    await press(page, "Order the plan");
    assert.match(await page.textContent("main"), /evidence: unproven/);
    assert.match(await page.textContent("main"), /Unproven: no approval/);
    await shot(page, "20-path-plan-blocked-unproven");
    await page.getByRole("button", { name: /signed acknowledgement/ }).click();
    return id;
  });
  const planId = await as("md.alsayed", async (page) => {
    await page.goto(`${demo.base}/patients/${patient}`);
    await page.getByRole("link", { name: /Override the evidence block/ }).click();
    await page.getByLabel("Reason for the override").fill("Patient informed of the evidence in Arabic; asks to proceed.");
    await page.getByLabel("Re-enter your password to sign").fill("celltrace-demo");
    await press(page, "Sign the override");
    assert.match(await page.textContent("main"), /Evidence override signed by md.alsayed/);
    return (await page.textContent("main")).match(/Plan (plan-[0-9a-f]+)/)[1];
  });
  await as("dr.haddad", async (page) => {
    // Unanswered criteria are refused: one click never records a patient eligible.
    await assessEligible(page, planId, "MRI L4-L5 degeneration; NPRS 7");
    await page.goto(`${demo.base}/plans/${planId}/consent`);
    // A witness who does not re-enter their own password does not sign.
    await fill(page, { "Language the patient read": "ar", "Witness username": "nurse.omar", "Witness password": "not-the-password" });
    await press(page, "Record the consent", { refused: true });
    await fill(page, { "Witness username": "nurse.omar", "Witness password": "celltrace-demo" });
    await press(page, "Record the consent");
    assert.match(await page.textContent("main"), /Consent signed/);
  });
  const lipo = await as("nurse.fatima", async (page) => {
    await page.goto(`${demo.base}/plans/${planId}/collection`);
    await fill(page, { "Source tissue": "adipose", "ISBT 128 product code": "S1001100", "Volume collected": "120", "Unit of volume": "mL", "Hours until the starting material expires": "48" });
    await press(page, "Record the collection");
    assert.match(await page.textContent("h1"), /Unit A9991\d{8} · S1001100/);
    await shot(page, "21-path-collected-with-din");
    return unitId(page);
  });
  await as("log.khan", async (page) => {
    await switchSite(page, "dubai-clinic");
    await page.goto(`${demo.base}/units/${lipo}/dispatch`);
    await fill(page, { Destination: "mumbai-lab", "Courier and shipping conditions": "MedCourier Gulf, 2-8 °C" });
    await page.getByLabel("Re-enter your password to sign").fill("celltrace-demo");
    await press(page, "Sign and dispatch");
    await switchSite(page, "mumbai-lab");
    await page.getByRole("link", { name: /dubai-clinic → mumbai-lab: receive/ }).first().click();
    await fill(page, { "Lowest allowed temperature (°C)": "2", "Highest allowed temperature (°C)": "8" });
    // The data logger's export is uploaded as a file.
    const log = "time,temperature_c\n2026-11-23T08:00Z,4.1\n2026-11-23T08:30Z,9.2\n2026-11-23T09:00Z,5.0\n";
    await page.getByLabel("Temperature log file (CSV from the data logger)").setInputFiles({ name: "logger.csv", mimeType: "text/csv", buffer: Buffer.from(log) });
    await page.getByLabel("Re-enter your password to sign").fill("celltrace-demo");
    await press(page, "Sign and receive");
    assert.match(await page.textContent("main"), /TEMPERATURE EXCURSIONS: 2026-11-23T08:30Z to 2026-11-23T08:30Z: reached 9.2 °C/);
    await shot(page, "21b-path-received-with-excursion");
  });
  const msc = await as("tech.rao", async (page) => {
    await page.goto(`${demo.base}/units/${lipo}/process`);
    await fill(page, { Step: "isolation", "Product codes of the units made": "S1002100", "Volume of each new unit": "10", "Unit of volume": "mL", "Days until each new unit expires": "2", Equipment: "BSC-3, centrifuge C-12", "Reagent lots": "COLL-2026-0412" });
    await press(page, "Record the step");
    const svf = await unitId(page);
    await page.goto(`${demo.base}/units/${svf}/process`);
    await fill(page, { Step: "expansion", "Product codes of the units made": "S1003100", "Volume of each new unit": "50", "Unit of volume": "million cells", "Days until each new unit expires": "365", Equipment: "Incubator INC-2" });
    await press(page, "Record the step");
    const expanded = await unitId(page);
    for (const [test, value, spec] of [["viability", "93 %", ">= 70 %"], ["cell count", "52 million", ">= 45 million"]]) {
      await page.goto(`${demo.base}/units/${expanded}/qc`);
      await fill(page, { Test: test, Result: value, Specification: spec, Outcome: "in_specification" });
      await press(page, "Record the result");
    }
    // A sterility culture cannot be read minutes after the expansion: recorded as pending.
    await page.goto(`${demo.base}/units/${expanded}/qc`);
    await fill(page, { Test: "sterility", Result: "no growth", Specification: "no growth", Outcome: "in_specification" });
    await press(page, "Record the result", { refused: true });
    assert.match(await page.textContent("[role=alert]"), /14 days of incubation/);
    await fill(page, { Result: "sample sent for culture", Outcome: "pending" });
    await press(page, "Record the result");
    await shot(page, "22-path-lineage-after-processing");
    return expanded;
  });
  await as("qa.mehta", async (page) => {
    // Pending results block a plain release; an exceptional one needs the physician's own signature.
    await page.goto(`${demo.base}/units/${msc}/release`);
    await page.getByLabel("Re-enter your password to sign").fill("celltrace-demo");
    await press(page, "Sign and release", { refused: true });
    assert.match(await page.textContent("[role=alert]"), /results pending \(sterility\)/);
    await page.goto(`${demo.base}/units/${msc}/exceptional-release`);
    await fill(page, { Justification: "Sterility culture pending; patient's treatment date fixed; result follows.", "Patient informed": "yes", "Physician username": "dr.nair", "Physician password": "celltrace-demo" });
    await page.getByLabel("Re-enter your password to sign").fill("celltrace-demo");
    await press(page, "Sign the exceptional release");
    assert.match(await page.textContent("main"), /qa.mehta signed/);
    assert.match(await page.textContent("main"), /dr.nair signed/);
  });
  await as("log.khan", async (page) => {
    await switchSite(page, "mumbai-lab");
    await page.goto(`${demo.base}/units/${msc}/dispatch`);
    await fill(page, { Destination: "dubai-clinic", "Courier and shipping conditions": "CryoPort dry shipper" });
    await page.getByLabel("Re-enter your password to sign").fill("celltrace-demo");
    await press(page, "Sign and dispatch");
    await switchSite(page, "dubai-clinic");
    await page.getByRole("link", { name: /mumbai-lab → dubai-clinic: receive/ }).first().click();
    // No logger file: refused without a reason, then accepted as a signed exception.
    await page.getByLabel("Re-enter your password to sign").fill("celltrace-demo");
    await press(page, "Sign and receive", { refused: true });
    await page.getByLabel("No temperature record: why").fill("The dry shipper's logger failed; vapour level checked on arrival.");
    await page.getByLabel("Re-enter your password to sign").fill("celltrace-demo");
    await press(page, "Sign and receive");
  });
  await as("nurse.fatima", async (page) => {
    const unitText = await (await page.goto(`${demo.base}/units/${msc}`)).text();
    const din = unitText.match(/Unit (A9991\d{8}) ·/)[1];
    await page.goto(`${demo.base}/bedside`);
    await page.getByLabel("Patient wristband").fill("&#0109DXB300001");
    await page.getByLabel("Unit label (DIN, then product code)").fill(`=${din}00=<S1003100`);
    await press(page, "Check");
    assert.match(await page.textContent("#verdict"), /PASS/);
    await fill(page, { "Anatomical site": "L4-L5 disc", "Witness username": "nurse.omar", "Witness password": "celltrace-demo" });
    await press(page, "Sign and record the administration");
    assert.match(await page.textContent("#recorded"), /Administration recorded/);
    await shot(page, "23-path-administered");
  });
});

test("donor cord blood for a blood disorder, from donation to infusion", async () => {
  const unit = await as("nurse.evans", async (page) => {
    await page.goto(`${demo.base}/patients/new`);
    await fill(page, { "Patient or donor": "donor", "Medical record number": "LCB-60001", "Full name": "Baby of Amira Khan (cord blood donor)", "Date of birth": "2026-11-01", Sex: "female", "Preferred language": "en" });
    await press(page, "Register");
    await page.getByRole("link", { name: "Record a donation" }).click();
    await fill(page, { "Product type": "cord-blood-hpc", "Source tissue": "cord_blood", "ISBT 128 product code": "S3001V00", "Volume collected": "105", "Unit of volume": "mL" });
    await press(page, "Record the donation");
    return unitId(page);
  });
  const hpc = await as("tech.smith", async (page) => {
    await page.goto(`${demo.base}/units/${unit}/process`);
    await fill(page, { Step: "isolation", "Product codes of the units made": "S3002V00", "Volume of each new unit": "25", "Unit of volume": "mL", "Days until each new unit expires": "3650", Equipment: "Sepax 2" });
    await press(page, "Record the step");
    const processed = await unitId(page);
    for (const [test, value, spec] of [["total nucleated cells", "1.7 x10^9", ">= 1.25 x10^9"], ["ABO/RhD", "A RhD positive", "recorded"], ["HLA typing", "A*01:01 B*08:01 DRB1*03:01", "recorded"]]) {
      await page.goto(`${demo.base}/units/${processed}/qc`);
      await fill(page, { Test: test, Result: value, Specification: spec, Outcome: "in_specification" });
      await press(page, "Record the result");
    }
    return processed;
  });
  await as("qa.jones", async (page) => {
    await page.goto(`${demo.base}/units/${hpc}/release`);
    await page.getByLabel("Re-enter your password to sign").fill("celltrace-demo");
    await press(page, "Sign and release");
  });
  await as("log.brown", async (page) => {
    await switchSite(page, "london-bank");
    await page.goto(`${demo.base}/units/${hpc}/dispatch`);
    await fill(page, { Destination: "delhi-centre", "Courier and shipping conditions": "World Courier LN2 dry shipper" });
    await page.getByLabel("Re-enter your password to sign").fill("celltrace-demo");
    await press(page, "Sign and dispatch");
    await switchSite(page, "delhi-centre");
    await page.getByRole("link", { name: /london-bank → delhi-centre: receive/ }).first().click();
    await page.getByLabel("No temperature record: why").fill("LN2 dry shipper without a logger; temperature alarm not triggered.");
    await page.getByLabel("Re-enter your password to sign").fill("celltrace-demo");
    await press(page, "Sign and receive");
  });
  const plan = await as("dr.menon", async (page) => {
    await page.goto(`${demo.base}/patients/new`);
    await fill(page, { "Patient or donor": "patient", "Medical record number": "DEL-300002", "Full name": "कबीर मेहता (Kabir Mehta)", "Date of birth": "2012-07-09", Sex: "male", "Preferred language": "hi" });
    await press(page, "Register");
    await page.getByRole("link", { name: "Order a treatment plan" }).click();
    await fill(page, { Indication: "D61.9", "Product type": "cord-blood-hpc", Route: "intravenous infusion", Sessions: "1", "Dose per session": "25", "Unit of dose": "mL", "Cost quoted to the patient": "3500000", Currency: "INR" });
    await press(page, "Order the plan");
    assert.match(await page.textContent("main"), /evidence: approved/);
    const planId = (await page.textContent("main")).match(/Plan (plan-[0-9a-f]+)/)[1];
    await assessEligible(page, planId, "HLA 7/8; conditioning completed");
    await page.goto(`${demo.base}/plans/${planId}/consent`);
    await fill(page, { "Language the patient read": "hi", "Witness username": "nurse.priya", "Witness password": "celltrace-demo" });
    await press(page, "Record the consent");
    await page.goto(`${demo.base}/units/${hpc}/allocate`);
    await page.getByLabel("Plan").selectOption(planId);
    await press(page, "Allocate");
    assert.match(await page.textContent("main"), new RegExp(`allocated to plan ${planId}`));
    return planId;
  });
  await as("nurse.priya", async (page) => {
    const unitText = await (await page.goto(`${demo.base}/units/${hpc}`)).text();
    const din = unitText.match(/Unit (A9994\d{8}) ·/)[1];
    await page.goto(`${demo.base}/bedside`);
    await page.getByLabel("Patient wristband").fill("&#0109DEL300002");
    await page.getByLabel("Unit label (DIN, then product code)").fill(`=${din}00=<S3002V00`);
    await press(page, "Check");
    assert.match(await page.textContent("#verdict"), /PASS/, `plan ${plan}`);
    await fill(page, { "Anatomical site": "central venous catheter", "Witness username": "nurse.anil", "Witness password": "celltrace-demo" });
    await press(page, "Sign and record the administration");
    assert.match(await page.textContent("#recorded"), /Administration recorded/);
    await shot(page, "24-path-cord-blood-infused");
  });
});
