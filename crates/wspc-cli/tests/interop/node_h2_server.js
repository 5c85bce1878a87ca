// A WebSocket echo server over HTTP/2 (RFC 8441) made of Node's own pieces: an `http2`
// server (TLS with the given certificate, or h2c) that advertises extended CONNECT, and
// the `ws` package speaking RFC 6455 on each CONNECT stream. Prints `listening PORT`, then
// `stream N /path` for every WebSocket it accepts.
//
//   node node_h2_server.js CERT.pem KEY.pem   (TLS)     node node_h2_server.js --h2c
'use strict';
const fs = require('fs');
const http2 = require('http2');
const { WebSocket } = require('ws');

const args = process.argv.slice(2);
const settings = { enableConnectProtocol: true };
const server = args[0] === '--h2c'
  ? http2.createServer({ settings })
  : http2.createSecureServer({ cert: fs.readFileSync(args[0]), key: fs.readFileSync(args[1]), settings });

server.on('stream', (stream, headers) => {
  if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== 'websocket') {
    stream.respond({ ':status': 404 });
    stream.end();
    return;
  }
  if (headers['sec-websocket-version'] !== '13') {
    stream.respond({ ':status': 426, 'sec-websocket-version': '13' });
    stream.end();
    return;
  }
  console.log(`stream ${stream.id} ${headers[':path']}`);
  stream.respond({ ':status': 200 });
  stream.setNoDelay = () => {};
  const ws = new WebSocket(null, undefined, {});
  ws.setSocket(stream, Buffer.alloc(0), { maxPayload: 64 << 20, skipUTF8Validation: false });
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
