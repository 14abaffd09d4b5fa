// An independent client (Node's `ws`) driving our server through a scripted
// session; prints one JSON line per observation for the pytest side to assert.
//   node tests/interop/ws_client.mjs <url> <scenario>
import WebSocket from "ws";

const [url, scenario] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const parse = (data, isBinary) => {
  const text = isBinary ? Buffer.from(data).toString("utf8") : data.toString();
  const m = /^(WSE|S|U)?(\{.*)$/s.exec(text);
  return m ? JSON.parse(m[2]) : text;
};

const ws = new WebSocket(url, { headers: scenario === "bearer" ? { Authorization: `Bearer ${process.env.WSE_TOKEN}` } : {} });
let step = 0;
ws.on("message", (data, isBinary) => {
  const msg = parse(data, isBinary);
  out({ step, msg });
  if (scenario === "session") {
    if (step === 0) ws.send('WSE{"t":"ping","p":{"timestamp":1}}');
    else if (step === 1) ws.send(JSON.stringify({ t: "client_hello", p: { client_version: "node" } }));
    else if (step === 2) ws.send(JSON.stringify({ t: "echo", p: { n: 42 } }));
    else if (step === 3) ws.close(1000, "done");
  } else if (step === 0) {
    ws.close(1000, "done");
  }
  step += 1;
});
ws.on("ping", () => out({ ping: true }));
ws.on("close", (code, reason) => { out({ close: code, reason: reason.toString() }); process.exit(0); });
ws.on("error", (err) => { out({ error: String(err.message) }); });
setTimeout(() => { out({ timeout: true }); process.exit(2); }, 10000);
