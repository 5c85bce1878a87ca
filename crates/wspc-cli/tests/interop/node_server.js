// Node `ws` as an echo server for `wspc connect`: serves ONE connection, echoes every
// message, and exits 0 only if permessage-deflate was negotiated and the client closed
// with 1000.
//   NODE_PATH=.ci/node/node_modules node node_server.js PORT   (prints "listening")
"use strict";
const { WebSocketServer } = require("ws");

const port = Number(process.argv[2]);
const timer = setTimeout(() => {
  console.error("node server: timed out");
  process.exit(1);
}, 30000);
const wss = new WebSocketServer({ host: "127.0.0.1", port, perMessageDeflate: { threshold: 0 } });
wss.on("listening", () => console.log("listening"));
wss.on("connection", (ws) => {
  const ext = ws.extensions;
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on("close", (code) => {
    clearTimeout(timer);
    console.log(`negotiated: ${JSON.stringify(ext)}, close code ${code}`);
    wss.close();
    if (!ext.includes("permessage-deflate")) {
      console.error("permessage-deflate was not negotiated");
      process.exit(1);
    }
    process.exit(code === 1000 ? 0 : 1);
  });
});
