// Headless Chromium (Debian's, through playwright-core) opens the console page of a
// `wspc serve` that speaks TLS, whose HTTP/2 connection the page's WebSocket then reuses
// (RFC 8441): checks the page came over h2, the socket opens with permessage-deflate, a
// message comes back, and the close with 4000 is clean. The server's log says which
// stream of which connection carried the WebSocket.
//
//   NODE_PATH=.ci/node/node_modules node crates/wspc-cli/tests/browser/http2.js https://127.0.0.1:PORT/
"use strict";
const { chromium } = require("playwright-core");

const url = process.argv[2];
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
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
    // The certificate comes from a CA made by the test.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    page.setDefaultTimeout(20000);
    await page.goto(url);
    const protocol = await page.evaluate(() => performance.getEntriesByType("navigation")[0].nextHopProtocol);
    check("the page came over HTTP/2", protocol === "h2", protocol);
    await page.waitForFunction(() => document.getElementById("status").textContent === "open");
    const ext = await page.textContent("#extensions");
    check("the WebSocket opens with permessage-deflate", ext.includes("permessage-deflate"), ext);
    const message = "over one HTTP/2 stream ✓";
    await page.fill("#input", message);
    await page.click("#send");
    await page.waitForFunction(
      (m) => [...document.querySelectorAll("#log .recv")].some((d) => d.textContent.endsWith("< " + m)),
      message,
    );
    check("the message comes back", true);
    await page.fill("#code", "4000");
    await page.fill("#reason", "h2 done");
    await page.click("#close");
    await page.waitForFunction(() => document.getElementById("status").textContent === "closed");
    const info = await page.textContent("#closeinfo");
    check("the close is clean with 4000", /^4000\b/.test(info) && !info.includes("not clean"), info);
  } finally {
    await browser.close();
  }
  console.log(`browser h2: ${passed} passed, 0 failed`);
})().catch((e) => {
  console.error(`browser h2: FAILED: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
