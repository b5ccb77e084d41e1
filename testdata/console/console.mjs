// Drives the fhirfacade migration console in Debian's Chromium
// (playwright-core, pinned in package-lock.json), the way a migration
// engineer would: sign in at the local issuer, see the guard refuse a
// move, run sync and parity from the page, move Patient to shadow then
// fhir, watch the journal and the live overview, roll back, and meet a
// page made stale by a move through the admin API. Each step prints one
// JSON line {step, ok, detail}; screenshots go to SHOTS.
//
// usage: node console.mjs <facade origin> <screenshot dir> <test FHIR server base>
// env:   CONSOLE_API_TOKEN  an admin bearer token for /admin/routes (the
//                           "other client" that makes a page stale)
//        CONSOLE_READ_TOKEN a clinical read token (shadow reads)
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";

const [origin, shots, fhirBase] = process.argv.slice(2);
const base = origin + "/admin/console";
mkdirSync(shots, { recursive: true });

function report(step, ok, detail = "") {
  console.log(JSON.stringify({ step, ok, detail: String(detail).slice(0, 500) }));
}

async function step(name, fn) {
  try {
    await fn();
    report(name, true);
  } catch (e) {
    report(name, false, e && e.message ? e.message : e);
    throw e;
  }
}

function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, name + ".png"), fullPage: true });
}

// moves Patient through the admin API as another client would
async function apiMove(to, version, reason) {
  const res = await fetch(origin + "/admin/routes/Patient", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Bearer " + process.env.CONSOLE_API_TOKEN },
    body: JSON.stringify({ state: to, reason, version }),
  });
  expect(res.status === 200, "API move to " + to + ": HTTP " + res.status + " " + (await res.text()));
}

async function routeOf(page) {
  const row = page.locator('tr[data-type="Patient"]');
  return { state: await row.getAttribute("data-state"), version: Number(await row.getAttribute("data-version")) };
}

// makes a move through the move page: verdict first, then the button
async function move(page, to, reason) {
  await page.goto(base + "/move/Patient?to=" + to);
  await page.locator("#verdict").waitFor();
  const button = page.locator("#move-button");
  expect(await button.isDisabled(), "the move button is enabled before a reason is given");
  await page.fill("#reason", reason);
  expect(await button.isEnabled(), "the move button stays disabled with a reason");
  await button.click();
  await page.waitForURL(/\/journal\?type=Patient/);
}

async function runJob(page, button, timeout) {
  await page.goto(base + "/parity/Patient");
  await page.click(button);
  await page.waitForURL(/\/jobs\/\d+$/);
  await page.waitForFunction(() => document.getElementById("job-state").textContent !== "running", null, { timeout });
  return await page.locator("#job-text").textContent();
}

// a fresh profile (--user-data-dir, which playwright passes itself) each run
const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "console-chromium-")), {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync"],
});
let failed = false;
let tampered; // the FHIR server's Patient before the edit
try {
  const page = await ctx.newPage();
  page.setDefaultTimeout(20000);

  await step("sign in at the issuer", async () => {
    await page.goto(base);
    await page.waitForURL(base); // issuer, callback, signed-in page, overview
    await page.locator("#rows tr").first().waitFor();
    expect((await page.locator("#user").textContent()) === "console-admin", "signed in as " + (await page.locator("#user").textContent()));
    await shot(page, "01-overview");
  });

  await step("move Patient to shadow", async () => {
    await move(page, "shadow", "start comparing Patient reads");
    expect(await page.locator("#journal").getByText("legacy → shadow").count() > 0, "the journal does not show the move");
    await shot(page, "02-journal");
  });

  await step("the guard refuses shadow to fhir without parity", async () => {
    await page.goto(base + "/move/Patient?to=fhir");
    const refusal = await page.locator("#refusal").textContent();
    expect(/parity report/.test(refusal), "refusal: " + refusal);
    expect(await page.locator("#move-button").isDisabled(), "the button is enabled on a refusal");
    await page.fill("#reason", "try");
    expect(await page.locator("#move-button").isDisabled(), "the force button is enabled before the override is ticked");
    await shot(page, "03-guard-refused");
  });

  await step("sync Patient from the page", async () => {
    const text = await runJob(page, "#run-sync", 90000);
    expect((await page.locator("#job-state").textContent()) === "done", "sync: " + text);
    await shot(page, "04-sync-job");
  });

  await step("parity check of Patient from the page", async () => {
    const text = await runJob(page, "#run-parity", 90000);
    expect((await page.locator("#job-state").textContent()) === "done" && /PASS/.test(text), "parity: " + text);
    await page.click("#job-report a");
    await page.waitForURL(/\/report\/\d+$/);
    expect((await page.locator("#report-verdict").textContent()) === "PASS", "report verdict");
  });

  await step("a difference on the FHIR side fails parity, highlighted", async () => {
    // someone edits one Patient on the FHIR server behind the facade's back
    const bundle = await (await fetch(fhirBase + "/Patient?_count=1")).json();
    const p = bundle.entry[0].resource;
    tampered = JSON.parse(JSON.stringify(p));
    p.name[0].family = "Tampered";
    const put = await fetch(fhirBase + "/Patient/" + p.id, { method: "PUT", headers: { "Content-Type": "application/fhir+json" }, body: JSON.stringify(p) });
    expect(put.ok, "PUT to the FHIR server: HTTP " + put.status);
    const text = await runJob(page, "#run-parity", 90000);
    expect(/FAIL/.test(text), "parity after the edit: " + text);
    await page.click("#job-report a");
    await page.waitForURL(/\/report\/\d+$/);
    expect((await page.locator("#report-verdict").textContent()) === "FAIL", "report verdict");
    const marked = await page.locator("pre.json span.diff").allTextContents();
    expect(marked.some((t) => t.includes("Tampered")), "the differing element is not highlighted: " + JSON.stringify(marked.slice(0, 6)));
    await shot(page, "05-parity-report-fail");
    await page.emulateMedia({ media: "print" });
    await shot(page, "05b-parity-report-print");
    await page.emulateMedia({ media: "screen" });
  });

  await step("the edit undone, parity passes again", async () => {
    // put the resource back as sync wrote it (cheaper here than a second sync)
    const put = await fetch(fhirBase + "/Patient/" + tampered.id, { method: "PUT", headers: { "Content-Type": "application/fhir+json" }, body: JSON.stringify(tampered) });
    expect(put.ok, "PUT back: HTTP " + put.status);
    const text = await runJob(page, "#run-parity", 90000);
    expect(/PASS/.test(text), "parity: " + text);
    await page.goto(base + "/parity/Patient");
    expect((await page.locator("svg.trend circle").count()) === 3, "the trend chart does not show 3 reports");
    await shot(page, "06-parity-type");
  });

  await step("shadow reads are compared and counted on the overview", async () => {
    // a client reads Patients while the type is on shadow (the facade runs
    // with FHIRFACADE_SHADOW_SAMPLE=1: every read is compared)
    for (let id = 1; id <= 12; id++) {
      const res = await fetch(origin + "/fhir/Patient/" + id, { headers: { Authorization: "Bearer " + process.env.CONSOLE_READ_TOKEN } });
      expect(res.ok, "read Patient/" + id + ": HTTP " + res.status);
    }
    await page.goto(base);
    await page.waitForFunction(() => /12 match/.test(document.querySelector('tr[data-type="Patient"]').textContent), null, { timeout: 10000 });
  });

  await step("move Patient to fhir; the open overview updates live", async () => {
    const watcher = await ctx.newPage();
    await watcher.goto(base);
    expect((await routeOf(watcher)).state === "shadow", "overview before: " + JSON.stringify(await routeOf(watcher)));
    await move(page, "fhir", "parity passes");
    expect(await page.locator("#journal").getByText("shadow → fhir").count() > 0, "the journal does not show the move");
    await watcher.waitForFunction(() => document.querySelector('tr[data-type="Patient"]').dataset.state === "fhir", null, { timeout: 6000 });
    await shot(watcher, "07-overview-on-fhir");
    await watcher.close();
  });

  await step("roll back Patient to shadow", async () => {
    await move(page, "shadow", "roll back after the walk");
    expect(await page.locator("#journal").getByText("fhir → shadow").count() > 0, "the journal does not show the rollback");
  });

  await step("a page made stale by another client shows the conflict", async () => {
    await page.goto(base + "/move/Patient?to=legacy");
    const version = Number(await page.locator("#current-version").textContent());
    await apiMove("legacy", version, "rolled back through the API");
    await page.fill("#reason", "stale page");
    await page.click("#move-button");
    await page.locator("#conflict").waitFor();
    expect(/moved by someone else/i.test(await page.locator("#conflict").textContent()), "conflict text");
    expect((await page.locator("#current-state").textContent()) === "legacy", "the page does not show the current state");
    await shot(page, "08-stale-conflict");
  });

  await step("sync and mirror, audit pages", async () => {
    await page.goto(base + "/mirror");
    await shot(page, "09-mirror");
    await page.goto(base + "/audit");
    await page.click("#verify");
    await page.waitForURL(base + "/audit");
    expect(/chain whole/.test(await page.locator("#verifies").textContent()), "verify result");
    await shot(page, "10-audit");
    await page.goto(base + "/journal?type=Patient");
    await shot(page, "11-journal-filtered");
  });

  await step("narrow window", async () => {
    await page.setViewportSize({ width: 420, height: 800 });
    await page.goto(base);
    await shot(page, "12-overview-narrow");
  });
} catch (e) {
  failed = true;
} finally {
  await ctx.close();
}
process.exit(failed ? 1 : 0);
