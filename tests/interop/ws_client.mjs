// An independent client library (Node's `ws`) driven by pytest, one JSON command
// per stdin line; prints one JSON line per observation on stdout.
//   node tests/interop/ws_client.mjs
// Commands (`id` names a connection):
//   {"op":"open","id":"a","url":"ws://...","headers":{...}}
//   {"op":"send","id":"a","text":"..."}            a text frame
//   {"op":"send_hex","id":"a","hex":"ff00","binary":false}  raw payload bytes, unchecked
//   {"op":"send_big","id":"a","bytes":N}          a text frame of N 'x'
//   {"op":"pause","id":"a"} / {"op":"resume","id":"a"}  stop / restart reading the socket
//   {"op":"close","id":"a","code":1000}
//   {"op":"many","url":"ws://...","count":N}      N connections at once; reports when all
//                                                  got server_ready, then closes them
//   {"op":"exit"}
// Observations: {"id","open"}, {"id","msg","enc"} (enc: text | C | M | binary),
// {"id","close","reason"}, {"id","error"}, {"many_ready","many_failed"}, {"many_closed"}.
import { createInterface } from "node:readline";
import { inflateSync } from "node:zlib";
import { decode } from "@msgpack/msgpack";
import WebSocket from "ws";

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const conns = new Map();

// A server frame as the application sees it: category prefix stripped, C: inflated, M: decoded.
function decodeFrame(data, isBinary) {
  const buf = Buffer.from(data);
  if (isBinary && buf.length >= 2 && buf[0] === 0x43 && buf[1] === 0x3a) {
    return { enc: "C", msg: parseText(inflateSync(buf.subarray(2)).toString("utf8")) };
  }
  if (isBinary && buf.length >= 2 && buf[0] === 0x4d && buf[1] === 0x3a) {
    return { enc: "M", msg: decode(buf.subarray(2)) };
  }
  if (isBinary) return { enc: "binary", msg: buf.toString("hex") };
  return { enc: "text", msg: parseText(buf.toString("utf8")) };
}

function parseText(text) {
  const m = /^(WSE|S|U)?(\{.*)$/s.exec(text);
  if (!m) return text;
  try {
    return JSON.parse(m[2]);
  } catch {
    return text;
  }
}

function open(id, url, headers) {
  const ws = new WebSocket(url, { headers: headers || {}, maxPayload: 64 * 1024 * 1024 });
  conns.set(id, ws);
  ws.on("open", () => out({ id, open: true }));
  ws.on("message", (data, isBinary) => out({ id, ...decodeFrame(data, isBinary) }));
  ws.on("close", (code, reason) => out({ id, close: code, reason: reason.toString() }));
  ws.on("error", (err) => out({ id, error: String(err.message) }));
  ws.on("unexpected-response", (_req, res) => out({ id, http_status: res.statusCode }));
}

function many(url, count) {
  let ready = 0;
  let failed = 0;
  let closed = 0;
  const all = [];
  const settle = () => {
    if (ready + failed !== count) return;
    out({ many_ready: ready, many_failed: failed });
    for (const ws of all) ws.close(1000);
  };
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(url);
    all.push(ws);
    let counted = false;
    ws.once("message", (data) => {
      if (!counted && parseText(data.toString()).t === "server_ready") {
        counted = true;
        ready += 1;
        settle();
      }
    });
    ws.on("error", () => {
      if (!counted) {
        counted = true;
        failed += 1;
        settle();
      }
    });
    ws.on("close", () => {
      closed += 1;
      if (closed === count) out({ many_closed: closed });
    });
  }
}

const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  const c = JSON.parse(line);
  const ws = conns.get(c.id);
  switch (c.op) {
    case "open":
      open(c.id, c.url, c.headers);
      break;
    case "send":
      ws.send(c.text);
      break;
    case "send_hex":
      ws.send(Buffer.from(c.hex, "hex"), { binary: Boolean(c.binary) });
      break;
    case "send_big":
      ws.send("x".repeat(c.bytes));
      break;
    case "pause":
      ws._socket.pause();
      break;
    case "resume":
      ws._socket.resume();
      break;
    case "close":
      ws.close(c.code ?? 1000);
      break;
    case "many":
      many(c.url, c.count);
      break;
    case "exit":
      process.exit(0);
  }
});
commands.on("close", () => process.exit(0));
