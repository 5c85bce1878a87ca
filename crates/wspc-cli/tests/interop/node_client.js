// Node `ws` as a client of `wspc serve`: permessage-deflate must be negotiated, and
// text and binary messages (small and large) must come back unchanged.
//   NODE_PATH=.ci/node/node_modules node node_client.js ws://127.0.0.1:9001/
"use strict";
const WebSocket = require("ws");

const url = process.argv[2];
const messages = [
  "hello from node ws",
  '{"id": 1, "tags": ["a", "b"], "ok": true}'.repeat(2000),
  "ünïcödé ✓",
  Buffer.from([0, 1, 2, 98, 105, 110]),
  Buffer.alloc(100000, 7),
  "",
];
const timer = setTimeout(() => fail("timed out"), 30000);
function fail(why) {
  console.error(`node client: FAILED: ${why}`);
  process.exit(1);
}

const ws = new WebSocket(url, { perMessageDeflate: { threshold: 0 } });
let i = 0;
ws.on("open", () => {
  const ext = ws.extensions;
  if (!ext.includes("permessage-deflate")) fail(`permessage-deflate not negotiated: ${JSON.stringify(ext)}`);
  console.log(`negotiated: ${ext}`);
  ws.send(messages[0]);
});
ws.on("message", (data, isBinary) => {
  const want = messages[i];
  const same = typeof want === "string" ? !isBinary && data.toString("utf8") === want : isBinary && Buffer.compare(data, want) === 0;
  if (!same) fail(`echo ${i} differs`);
  i += 1;
  if (i < messages.length) ws.send(messages[i]);
  else ws.close(1000, "done");
});
ws.on("close", (code) => {
  clearTimeout(timer);
  if (i !== messages.length) fail(`closed after ${i} echoes`);
  if (code !== 1000) fail(`close code ${code}`);
  console.log(`node client: ${messages.length} passed, 0 failed`);
});
ws.on("error", (e) => fail(e.message));
