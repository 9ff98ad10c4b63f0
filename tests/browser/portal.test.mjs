// The patient portal in Chromium: a clinic hands over a one-time code, the
// patient sets a password and reads their plan, the evidence for it, their
// consent and the story of their cells, in Arabic, English and Hindi, and
// can withdraw consent.
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

async function portalSignIn(page, patient, password = "celltrace-demo") {
  await page.goto(`${demo.base}/portal/login`);
  await page.locator("#patient_number").fill(patient);
  await page.locator("#password").fill(password);
  await page.locator("form.card button[type=submit]").click();
  await page.waitForURL(`${demo.base}/portal`);
}

/// Every field a patient can type into or tick on a page.
async function editableFields(page) {
  return page.$$eval("main input:not([type=hidden]), main textarea, main select", (els) => els.map((e) => `${e.tagName.toLowerCase()}:${e.name}`));
}

test("a nurse hands over a code; the patient sets a password and reads the portal in Arabic, then withdraws consent", async () => {
  const staff = await browser.newPage();
  await signIn(staff, demo.base, "nurse.fatima");
  await staff.goto(`${demo.base}/patients/p-fatima`);
  await staff.getByRole("button", { name: "Give portal access (one-time code)" }).click();
  const code = (await staff.textContent("#portal-code")).trim();
  const number = (await staff.textContent("#patient-number")).trim();
  assert.match(code, /^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{2}$/);
  assert.equal(number, "p-fatima");
  await shot(staff, "20-portal-code-slip");

  const context = await browser.newContext({ locale: "en-GB" });
  const page = await context.newPage();
  await page.goto(`${demo.base}/portal/activate`);
  await page.getByLabel("Patient number").fill(number);
  await page.getByLabel("One-time code").fill("WRONG-CODE-00");
  await page.getByLabel("New password").fill("my own long password");
  await page.getByLabel("Repeat the password").fill("my own long password");
  await page.getByRole("button", { name: "Set password and sign in" }).click();
  assert.match(await page.textContent("[role=alert]"), /not right, was already used, or has expired/);

  await page.getByLabel("One-time code").fill(code.toLowerCase().replaceAll("-", " "));
  await page.getByLabel("New password").fill("my own long password");
  await page.getByLabel("Repeat the password").fill("my own long password");
  await page.getByRole("button", { name: "Set password and sign in" }).click();
  await page.waitForURL(`${demo.base}/portal`);

  // The record says she reads Arabic: the portal is Arabic and right to left.
  assert.equal(await page.getAttribute("html", "dir"), "rtl");
  assert.equal(await page.getAttribute("html", "lang"), "ar");
  const main = await page.textContent("main");
  assert.match(main, /مرحبًا، /);
  assert.match(main, /فاطمة الزهراء/);
  assert.match(await page.textContent("[data-evidence]"), /غير مثبت/, "evidence status: unproven");
  assert.match(main, /لا يوجد دليل موثوق على أن هذا العلاج يفيد/, "what unproven means, in Arabic");
  assert.match(main, /قصص المشاهير والإعلانات ليست دليلًا/, "the plain-language warning");
  assert.ok((await page.locator(".sources a[href^='https://']").count()) >= 1, "sources are listed as links");
  assert.match(main, /جُمعت في/, "the story of her cells starts with the collection");
  // Nothing about the plan can be edited: the only fields are the withdrawal form's.
  assert.deepEqual((await editableFields(page)).sort(), ["input:confirm", "textarea:reason"]);
  // The layout is mirrored: the heading starts at the right edge.
  const box = await page.locator("main h1").boundingBox();
  const width = page.viewportSize().width;
  assert.ok(box.x + box.width > width / 2, "an Arabic heading sits on the right");
  await shot(page, "21-portal-arabic-home");

  await page.getByText("سحب موافقتك").first().click();
  await page.getByRole("button", { name: "سحب الموافقة" }).click();
  assert.match(await page.textContent("[role=alert]"), /ضع علامة في المربع/, "withdrawal needs the box ticked");
  await page.getByText("سحب موافقتك").first().click();
  await page.getByLabel("السبب (اختياري)").fill("غيرت رأيي");
  await page.getByLabel("أريد سحب موافقتي على هذه الخطة.").check();
  await page.getByRole("button", { name: "سحب الموافقة" }).click();
  await page.waitForURL(`${demo.base}/portal?done=withdrawn`);
  assert.match(await page.textContent("[role=status]"), /سُحبت موافقتك/);
  assert.match(await page.textContent("[data-consent=withdrawn]"), /سحبت موافقتك في/);
  assert.equal(await page.getByRole("button", { name: "سحب الموافقة" }).count(), 0, "nothing left to withdraw");
  await shot(page, "22-portal-arabic-withdrawn");

  // The clinic sees it at once, and the bedside check now refuses this plan.
  await staff.goto(`${demo.base}/patients/p-fatima`);
  assert.match(await staff.textContent("main"), /Consent withdrawn on .*غيرت رأيي/);
  assert.match(await staff.textContent("main"), /patient:p-fatima/, "the timeline names the patient as the actor");
  await context.close();
  await staff.close();
});

test("an English-speaking patient reads the evidence and prints the consent document as PDF", async () => {
  const page = await browser.newPage();
  await portalSignIn(page, "p-james");
  assert.equal(await page.getAttribute("html", "dir"), "ltr");
  assert.match(await page.textContent("main"), /Welcome, James Carter/);
  assert.match(await page.textContent("[data-evidence]"), /Unproven/);
  assert.match(await page.textContent("main"), /You withdrew your consent on/);
  assert.deepEqual(await editableFields(page), [], "no form to fill: the plan's consent is already withdrawn");
  await page.getByRole("link", { name: "Read your consent document" }).click();
  const doc = await page.textContent("article");
  for (const heading of ["1. The treatment offered", "2. What is known about it", "3. Risks", "4. Cost", "5. Alternatives", "6. Your right to withdraw", "7. Signatures"]) {
    assert.ok(doc.includes(heading), `the consent document has "${heading}"`);
  }
  assert.match(doc, /Collecting fat \(liposuction\)/, "risks specific to adipose collection");
  assert.match(doc, /USD 12,000/);
  assert.match(doc, /version 2026\.1/);
  await shot(page, "23-portal-consent-english");
  const pdf = await page.pdf({ format: "A4" });
  assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
  assert.ok(pdf.length > 20_000, `a real document (${pdf.length} bytes)`);

  // Another patient's plan is not there for him.
  const other = await page.goto(`${demo.base}/portal/plans/plan-layla/consent`);
  assert.equal(other.status(), 404);

  const download = await page.request.get(`${demo.base}/portal/my-data.json`);
  assert.equal(download.status(), 200);
  const data = await download.json();
  assert.equal(data.person.id, "p-james");
  assert.ok(data.plans.length >= 1 && data.audit_trail.length >= 1);
  await page.close();
});

test("a Hindi-speaking patient reads Devanagari, switches to English, and the choice is remembered", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await portalSignIn(page, "p-rajesh");
  assert.equal(await page.getAttribute("html", "lang"), "hi");
  assert.equal(await page.getAttribute("html", "dir"), "ltr");
  const main = await page.textContent("main");
  assert.match(main, /नमस्ते, /);
  assert.match(main, /इस इलाज के बारे में क्या पता है/);
  assert.match(main, /आपकी अपनी अस्थि मज्जा की कोशिकाएँ/, "the product, in Hindi");
  await shot(page, "24-portal-hindi-home");

  await page.selectOption("#lang", "en");
  await page.getByRole("button", { name: "भाषा बदलें" }).click();
  await page.waitForURL(`${demo.base}/portal`);
  assert.equal(await page.getAttribute("html", "lang"), "en");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${demo.base}/portal/login`);
  await context.clearCookies();
  await portalSignIn(page, "p-rajesh");
  assert.equal(await page.getAttribute("html", "lang"), "en", "the language is kept with the account, not the browser");
  await page.selectOption("#lang", "hi");
  await page.getByRole("button", { name: "Change language" }).click();
  await page.waitForURL(`${demo.base}/portal`);
  assert.equal(await page.getAttribute("html", "lang"), "hi");
  await context.close();
});

test("an Arabic-speaking patient answers her six-month pain questionnaire, and the clinic sees it", async () => {
  const page = await browser.newPage();
  await portalSignIn(page, "p-layla");
  assert.equal(await page.getAttribute("html", "dir"), "rtl");
  const link = page.locator("a[href='/portal/plans/plan-layla/questionnaires/6m/nprs']");
  assert.match(await link.textContent(), /أجب الآن/);
  await link.click();
  await page.waitForURL(`${demo.base}/portal/plans/plan-layla/questionnaires/6m/nprs`);
  assert.match(await page.textContent("main"), /اختر الرقم الذي يصف ألمك/, "the question is in Arabic");
  assert.match(await page.textContent("main"), /٠ \(لا ألم\)/, "answer labels with Arabic-Indic digits");
  await page.getByRole("button", { name: "إرسال إجاباتي" }).click();
  assert.match(await page.textContent("[role=alert]"), /يرجى الإجابة عن كل الأسئلة/, "an empty questionnaire is refused");
  await page.locator("input[name='item:pain'][value='3']").check();
  await shot(page, "25-portal-arabic-questionnaire");
  await page.getByRole("button", { name: "إرسال إجاباتي" }).click();
  await page.waitForURL(`${demo.base}/portal?done=answered`);
  assert.match(await page.textContent("[role=status]"), /حُفظت إجاباتك/);
  assert.equal(await link.count(), 0, "answered: no longer offered");
  // Answering twice is refused.
  const again = await page.goto(`${demo.base}/portal/plans/plan-layla/questionnaires/6m/nprs`);
  assert.equal(again.status(), 409);
  await page.close();

  const staff = await browser.newPage();
  await signIn(staff, demo.base, "dr.haddad");
  await staff.goto(`${demo.base}/patients/p-layla`);
  assert.match(await staff.textContent("main"), /6m nprs answered by the patient in the portal \(Ar\): NPRS 3/);
  await staff.close();
});
