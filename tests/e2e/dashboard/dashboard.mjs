// Drive wxguard-server's dashboard in headless Chromium (Debian's /usr/bin/chromium) with
// playwright-core. Usage: node dashboard.mjs URL ADMIN_TOKEN SCREENSHOT.png
// Prints "N passed, N failed" last; exit status 1 on any failure.
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const [url, token, shot] = process.argv.slice(2);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "wxg-chromium-"));
let passed = 0, failed = 0;
const check = (name, ok, detail = "") => {
  if (ok) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name} ${detail}`); }
};

const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  ignoreHTTPSErrors: true,   // the server's CA is generated per test run
  viewport: { width: 1280, height: 1000 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  const external = [];
  const errors = [];
  page.on("request", (r) => { if (!r.url().startsWith(new URL(url).origin)) external.push(r.url()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });

  // Without a token: the login form.
  await page.goto(url, { waitUntil: "load" });
  check("login form shown without a token", await page.isVisible("#loginform"));

  await page.goto(url + "#token=" + encodeURIComponent(token), { waitUntil: "load" });
  await page.waitForSelector("body[data-ready='1']", { state: "attached", timeout: 15000 })
    .catch(async (e) => { throw new Error(e.message + " / status: " + await page.textContent("#updated")); });
  const card = async (k) => Number(await page.textContent(`.card.${k} .n`));
  const total = (await card("compliant")) + (await card("noncompliant")) + (await card("stale")) +
    (await card("never_reported")) + (await card("pending")) + (await card("revoked"));
  const rows = await page.$$eval("#devices tr.dev", (t) => t.length);
  check("fleet summary counts every device", total === rows && rows >= 5, `cards=${total} rows=${rows}`);
  check("summary shows compliant and noncompliant devices", (await card("compliant")) >= 1 && (await card("noncompliant")) >= 1);
  check("summary shows never-reported devices", (await card("never_reported")) >= 1);
  check("compliance chart drawn (inline SVG)", (await page.$$eval("#compliance-chart rect", (r) => r.length)) >= 1);
  check("failures per check listed", (await page.$$eval(".check-row", (r) => r.length)) >= 3);
  check("failing check has a non-zero bar",
    (await page.$$eval(".check-row", (r) => r.filter((x) => Number(x.querySelector(".v").textContent) > 0).length)) >= 1);
  check("recent violations listed", (await page.$$eval("#viol .viol", (r) => r.length)) >= 1);
  check("not-enforcing card counts the degraded enforce-mode device", (await card("not_enforcing")) === 1);
  const wcells = await page.$$eval("#devices tr.dev td:nth-child(3)", (t) => t.map((x) => x.textContent));
  check("device table shows each watcher's state", wcells.some((t) => t === "degraded not enforcing") &&
    wcells.some((t) => t === "running"), wcells.join(","));
  check("recent violations list the not_enforcing alert",
    (await page.$$eval("#viol .viol", (v) => v.map((x) => x.textContent))).some((t) => t.includes("not_enforcing")));

  await page.fill("#q", "dash-bad");
  const filtered = await page.$$eval("#devices tr.dev", (t) => t.length);
  check("device table filters by text", filtered >= 1 && filtered < rows, `filtered=${filtered}`);
  await page.fill("#q", "");
  await page.selectOption("#state", "noncompliant");
  const nc = await page.$$eval("#devices tr.dev td:nth-child(2)", (t) => t.map((x) => x.textContent));
  check("device table filters by state", nc.length >= 1 && nc.every((s) => s === "noncompliant"), nc.join(","));
  await page.selectOption("#state", "");

  await page.click("#devices tr.dev >> text=dash-bad-1");
  await page.waitForSelector("#history tbody tr", { timeout: 5000 });
  const hist = await page.$$eval("#history tbody tr", (t) => t.length);
  check("device detail shows check history", hist >= 2, `rows=${hist}`);
  check("check history shows the failing check", (await page.$$eval("#history .pill.fail", (p) => p.length)) >= 1);
  const evs = await page.$$eval("#dbody .viol.ev", (v) => v.map((x) => x.textContent));
  check("events show rule / reason", evs.some((t) => t.includes("client.denied / denied_name")), evs.join(" | "));
  check("events show the agent's message in English and Chinese",
    evs.some((t) => t.includes("Blocked unapproved client electronic-wechat") && t.includes("已阻止未经批准的客户端")));
  check("events without a message show what was seen",
    evs.some((t) => t.includes("client.plugins / library") && t.includes("/tmp/libhook.so")) &&
    evs.some((t) => t.includes("lost 17 (total 42)")));
  check("old-style events show their type", evs.some((t) => t.includes("client.blocked")));
  const watcher = await page.textContent("#watcher");
  check("device detail shows the watcher's summary and decisions",
    watcher.includes("kernel 5.10 has no BTF: enforcing with fanotify") && watcher.includes("injection") &&
    (await page.$$eval("#watcher .decisions tbody tr", (t) => t.length)) === 4, watcher);
  check("events are not raw JSON", evs.length >= 4 && evs.every((t) => !t.includes('{"')), evs.join(" | "));

  check("no external requests", external.length === 0, external.join(" "));
  check("no script errors", errors.length === 0, errors.join(" | "));
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: shot, fullPage: true });
  check("screenshot written", fs.statSync(shot).size > 10000);
} catch (e) {
  check("dashboard run", false, String(e));
} finally {
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
