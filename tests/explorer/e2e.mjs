// The explorer end to end, in Debian's Chromium driven by playwright-core (tests/explorer.rs
// starts `crisis-sim serve` and checks what this writes against `crisis-sim run`).
//
//   node tests/explorer/e2e.mjs URL OUT_DIR SCREENSHOT_DIR
//
// Writes into OUT_DIR: figures.json (every key-figure cell the page shows, exact values),
// scenario.toml (downloaded with the page's own link), refusal.txt (the inline message for a
// bad value), timings.json (slider change to first figures and to the last) and the
// screenshots explorer-desktop.png and explorer-mobile.png into SCREENSHOT_DIR.
import { chromium } from "playwright-core";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const [url, out, shots] = process.argv.slice(2);
const CARE_TEAMS = "12";
const TIMEOUT = 120_000;

function fail(message) {
  console.error("e2e: " + message);
  process.exit(1);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page.setDefaultTimeout(TIMEOUT);
  page.on("pageerror", (e) => fail("script error in the page: " + e.message));
  // A refused value is answered 422 on purpose (the browser logs that); nothing else may fail.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().includes("status of 422")) fail("console error in the page: " + m.text());
  });
  await page.goto(url);
  const done = async () => {
    await page.waitForFunction(() => {
      const s = document.getElementById("status");
      return s && s.dataset.state === "done";
    }, null, { timeout: TIMEOUT });
  };
  // The scenario as given runs at once.
  await done();
  const firstRun = await page.getAttribute("#results", "data-run");

  // Move the care-team slider and time the answer.
  const slider = page.locator('[id="slider-care.count"]');
  const moved = Date.now();
  await slider.fill(CARE_TEAMS);
  await page.waitForFunction((old) => {
    const r = document.getElementById("results");
    return r.dataset.run && r.dataset.run !== old;
  }, firstRun, { timeout: TIMEOUT });
  const firstFigures = Date.now() - moved;
  await done();
  const lastFigures = Date.now() - moved;
  const shownValue = await page.inputValue('[id="input-care.count"]');
  if (shownValue !== CARE_TEAMS) fail(`the slider moved the number to ${shownValue}, not ${CARE_TEAMS}`);

  // Every figure cell, exactly as the page holds it.
  const figures = await page.$$eval("#figures tbody tr, #budget tbody tr", (rows) => rows.map((row) => ({
    key: row.dataset.key,
    text: row.innerText,
    cells: [...row.querySelectorAll("td[data-policy]")].map((td) => ({
      policy: Number(td.dataset.policy),
      kind: td.dataset.kind,
      mean: td.dataset.mean === undefined ? null : Number(td.dataset.mean),
      low: td.dataset.low === undefined ? null : Number(td.dataset.low),
      high: td.dataset.high === undefined ? null : Number(td.dataset.high),
      text: td.innerText,
    })),
  })));
  if (figures.length < 5) fail(`only ${figures.length} figure rows shown`);
  const headline = await page.textContent("#headline");
  const replications = await page.getAttribute("#results", "data-replications");
  const charts = await page.locator("#charts svg").count();
  writeFileSync(join(out, "figures.json"), JSON.stringify({ figures, headline, replications: Number(replications), charts }, null, 1));

  // Take the scenario away with the page's own link.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#dl-toml")]);
  await download.saveAs(join(out, "scenario.toml"));

  // Pin this variant, try another, pin it: side by side.
  await page.click("#pin");
  await page.waitForSelector("#compare:not([hidden]) #compare-table tbody tr");
  const pinnedRun = await page.getAttribute("#results", "data-run");
  await slider.fill("4");
  await page.waitForFunction((old) => document.getElementById("results").dataset.run !== old, pinnedRun, { timeout: TIMEOUT });
  await done();
  await page.click("#pin");
  await page.waitForFunction(() => document.querySelectorAll("#compare-table thead th").length >= 5, null, { timeout: TIMEOUT });
  const compareColumns = await page.locator("#compare-table thead th").count();
  const compareChart = await page.locator("#compare-chart svg").count();

  // Back to the pinned value, for the screenshots.
  const comparedRun = await page.getAttribute("#results", "data-run");
  await slider.fill(CARE_TEAMS);
  await page.waitForFunction((old) => document.getElementById("results").dataset.run !== old, comparedRun, { timeout: TIMEOUT });
  await done();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(shots, "explorer-desktop.png"), fullPage: false });

  // A refused value: the checker's message beside the field, and no run. (A cost field is
  // folded away: it opens.)
  await page.click("#group-costs > summary");
  await page.locator('[id="input-costs.jail_bed_day"]').waitFor({ state: "visible" });
  const careInput = page.locator('[id="input-care.count"]');
  await careInput.fill("0");
  await careInput.press("Tab");
  const error = page.locator('[id="error-care.count"]');
  await page.waitForFunction(() => document.getElementById("error-care.count").textContent.length > 0, null, { timeout: TIMEOUT });
  const refusal = await error.textContent();
  writeFileSync(join(out, "refusal.txt"), refusal);

  // A phone's width.
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  phone.setDefaultTimeout(TIMEOUT);
  await phone.goto(url);
  await phone.waitForFunction(() => document.getElementById("status").dataset.state === "done", null, { timeout: TIMEOUT });
  const phoneWidth = await phone.evaluate(() => document.documentElement.scrollWidth);
  // The answer as a phone shows it (the form comes first on a narrow screen).
  await phone.evaluate(() => document.getElementById("results").scrollIntoView());
  await phone.screenshot({ path: join(shots, "explorer-mobile.png"), fullPage: false });

  writeFileSync(join(out, "timings.json"), JSON.stringify({
    slider_to_first_figures_ms: firstFigures,
    slider_to_last_figures_ms: lastFigures,
    compare_columns: compareColumns,
    compare_charts: compareChart,
    phone_scroll_width: phoneWidth,
  }, null, 1));
  console.log(`e2e: ok (first figures ${firstFigures} ms, all ${lastFigures} ms after the slider moved)`);
} finally {
  await browser.close();
}
