// Bench peer: Node.js `ws`, the idiomatic way (client.send per subscriber).
// Same conventions as the other peers (bench/README.md); prints "READY <port>".
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const { WebSocketServer } = require('ws');

const args = { port: 0, workload: 'fanout', subs: 100, window: 64, size: 100, rate: 0, jwtSecret: null, stats: null };
for (let i = 2; i + 1 < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  const v = process.argv[i + 1];
  args[k] = ['port', 'subs', 'window', 'size', 'rate', 'maxConnections'].includes(k) ? Number(v) : v;
}

function b64url(s) { return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64'); }
function jwtOk(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  const mac = crypto.createHmac('sha256', args.jwtSecret).update(parts[0] + '.' + parts[1]).digest();
  const sig = b64url(parts[2]);
  if (sig.length !== mac.length || !crypto.timingSafeEqual(sig, mac)) return false;
  try {
    const claims = JSON.parse(b64url(parts[1]).toString());
    if (claims.exp !== undefined && claims.exp < Date.now() / 1000) return false;
    return typeof claims.sub === 'string';
  } catch (e) { return false; }
}

const wss = new WebSocketServer({
  host: '127.0.0.1', port: args.port, perMessageDeflate: false, clientTracking: true,
  verifyClient: args.jwtSecret ? (info) => {
    const h = info.req.headers.authorization || '';
    return h.toLowerCase().startsWith('bearer ') && jwtOk(h.slice(7));
  } : undefined,
});

let acked = -1, seq = 0, count = 0, started = 0, publishing = false;
const pad = 'x'.repeat(Math.max(1, args.size - 57));
const monoNs = () => process.hrtime.bigint();  // CLOCK_MONOTONIC on Linux

wss.on('connection', (ws) => {
  ws.send('{"t":"server_ready"}');
  ws.on('message', (data, isBinary) => {
    if (args.workload === 'echo') { ws.send(data, { binary: isBinary }); return; }
    if (args.workload === 'flood') {
      count++;
      if (count % 4096 === 0) ws.send(`A${count}`);  // credit for the load generator (bench/README.md)
      return;
    }
    if (args.workload === 'fanout' && !isBinary && data[0] === 0x41) {
      const s = Number(data.toString('latin1', 1));
      if (s > acked) acked = s;
      if (!publishing && args.rate <= 0) setImmediate(publish);
    }
  });
  if (args.workload === 'fanout' && wss.clients.size >= args.subs && !publishing) setImmediate(publish);
});

function publish() {
  if (wss.clients.size < args.subs) { publishing = false; return; }
  publishing = true;
  let credit = args.window - (seq - acked - 1);
  if (args.rate > 0) {
    const now = Number(monoNs()) / 1e9;
    if (!started) started = now;
    credit = Math.min(credit, Math.floor((now - started) * args.rate) - seq);
  } else if (credit < Math.floor(args.window / 2) && seq - acked - 1 > 0) {
    credit = 0;  // as the raw peer and bench_common.Pacer: wait for half the window
  }
  if (credit <= 0) {
    if (args.rate > 0) { setTimeout(publish, 1); return; }  // the pacing timer keeps going
    publishing = false;  // an ack restarts publishing
    return;
  }
  const ts = monoNs();  // one reading per burst, as the other peers
  for (let i = 0; i < credit; i++) {
    const msg = `{"t":"bench","seq":${seq},"ts":${ts},"p":"${pad}"}`;
    seq++;
    for (const c of wss.clients) c.send(msg);
  }
  setImmediate(publish);
}

if (args.stats) setInterval(() => fs.appendFileSync(args.stats, `${monoNs()} ${count}\n`), 100);
wss.on('listening', () => console.log(`READY ${wss.address().port}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
