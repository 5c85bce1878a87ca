// Drives the wspc console page in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core): load the page from `wspc serve`, see the socket open with
// permessage-deflate, send a message and see its echo, measure a round trip, close with
// 4000 and a reason and see the close reported.
//
//   NODE_PATH=.ci/node/node_modules node crates/wspc-cli/tests/browser/console.js http://127.0.0.1:9001/
//
// CHROMIUM overrides the browser path. Exits 0 when every check passed.
"use strict";
const { chromium } = require("playwright-core");

const url = process.argv[2];
if (!url) {
  console.error("usage: console.js URL");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const TIMEOUT = 20000;

let passed = 0;
function check(name, ok, detail) {
  if (!ok) throw new Error(`${name}: ${detail}`);
  passed += 1;
  console.log(`ok - ${name}`);
}

(async () => {
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(TIMEOUT);
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));

    await page.goto(url);
    await page.waitForFunction(() => document.getElementById("status").textContent === "open");
    check("the page connects back over WebSocket", true);
    const ext = await page.textContent("#extensions");
    check("permessage-deflate is negotiated with the browser", ext.includes("permessage-deflate"), ext);

    const message = "hello from chromium, ünïcödé ✓";
    await page.fill("#input", message);
    await page.click("#send");
    await page.waitForFunction(
      (m) => [...document.querySelectorAll("#log .recv")].some((d) => d.textContent.endsWith("< " + m)),
      message,
    );
    check("the message comes back", true);

    await page.click("#rtt");
    await page.waitForFunction(() =>
      [...document.querySelectorAll("#log .recv")].some((d) => /round trip [0-9.]+ ms/.test(d.textContent)),
    );
    check("the round-trip button measures an echo", true);

    await page.fill("#code", "4000");
    await page.fill("#reason", "done testing");
    await page.click("#close");
    await page.waitForFunction(() => document.getElementById("status").textContent === "closed");
    const info = await page.textContent("#closeinfo");
    // The server answers with the same code and reason (issue 16).
    check("the close code and reason that came back are shown", /^4000 done testing\b/.test(info), info);
    check("the close was clean", !info.includes("not clean"), info);
    const log = await page.textContent("#log");
    check("the close sent is logged", log.includes("closing with 4000 done testing"), log);
    check("no page errors", errors.length === 0, errors.join("; "));
  } finally {
    await browser.close();
  }
  console.log(`browser: ${passed} passed, 0 failed`);
})().catch((e) => {
  console.error(`browser: FAILED: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
