// A WebSocket client over HTTP/2 (RFC 8441) made of Node's own pieces: `http2` opens the
// extended CONNECT stream, the `ws` package speaks RFC 6455 on it. Sends every argument
// after the URL as a text message, prints each echo as `echo: TEXT`, closes with 1000 and
// prints `close: CODE` and `protocol: h2 stream N`. Exit 0 only if every echo matched and
// our Close went out.
//
// Node's http2 aborts the client's own stream now and then right as ws writes the Close
// (seen against Node's own http2 server as well), so the server's answer is lost on this
// side; `close: 1006 (stream aborted by Node)` says so, and the test checks the close
// handshake in the server's record instead.
//
//   node node_h2_client.js https://127.0.0.1:PORT/path [--insecure | --ca FILE] MSG...
'use strict';
const http2 = require('http2');
const { WebSocket } = require('ws');

const args = process.argv.slice(2);
const url = new URL(args.shift());
const insecure = args[0] === '--insecure' ? (args.shift(), true) : false;
const ca = args[0] === '--ca' ? (args.shift(), require('fs').readFileSync(args.shift())) : undefined;
const messages = args;

const fail = (why) => { console.error(`node h2 client: ${why}`); process.exit(1); };
setTimeout(() => fail('timed out'), 30000).unref();

const session = http2.connect(url.origin, { rejectUnauthorized: !insecure, ca });
session.on('error', (e) => fail(`session: ${e.message}`));
session.once('remoteSettings', (settings) => {
  if (!settings.enableConnectProtocol) fail('the server does not allow extended CONNECT');
  const stream = session.request({
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': url.protocol.replace(':', ''),
    ':path': url.pathname + url.search,
    ':authority': url.host,
    'sec-websocket-version': '13',
  });
  stream.on('error', (e) => fail(`stream: ${e.message}`));
  stream.on('response', (headers) => {
    const status = headers[':status'];
    if (status !== 200) fail(`status ${status}`);
    console.log(`protocol: h2 stream ${stream.id}`);
    // ws runs on any duplex; an HTTP/2 stream has no Nagle to turn off.
    stream.setNoDelay = () => {};
    const ws = new WebSocket(null, undefined, {});
    ws._isServer = false; // a client: frames are masked
    ws.setSocket(stream, Buffer.alloc(0), { maxPayload: 64 << 20, skipUTF8Validation: false });
    let pending = messages.slice();
    const next = () => {
      if (pending.length === 0) { ws.close(1000, 'bye'); return; }
      ws.send(pending[0]);
    };
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? data.toString('hex') : data.toString();
      console.log(`echo: ${text}`);
      if (text !== pending[0]) fail(`expected ${pending[0]}`);
      pending.shift();
      next();
    });
    ws.on('close', (code) => {
      const note = code === 1006 && stream.aborted ? ' (stream aborted by Node)' : '';
      console.log(`close: ${code}${note}`);
      session.close();
      const clean = code === 1000 || (note !== '' && ws._closeFrameSent);
      process.exit(pending.length === 0 && clean ? 0 : 1);
    });
    ws.on('error', (e) => fail(`ws: ${e.message}`));
    next();
  });
});
