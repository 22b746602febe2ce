// verify_note.mjs - an independent verifier of Gatehouse checkpoints for the
// tests: parses the C2SP signed note and the verifier key itself and checks
// the Ed25519 signature with node:crypto (no code shared with Gatehouse).
// usage: node verify_note.mjs NOTE_FILE VKEY
// prints {"ok":true,"origin","size","root"} and exits 0, or {"ok":false,"why"}
// and exits 1.
import { createHash, createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function fail(why) {
  console.log(JSON.stringify({ ok: false, why }));
  process.exit(1);
}

function b64(text, what) {
  if (!text || text.length % 4 !== 0 || !B64.test(text)) fail(what + " is not base64");
  const buf = Buffer.from(text, "base64");
  if (buf.toString("base64") !== text) fail(what + " is not canonical base64");
  return buf;
}

function keyId(name, pub) {
  return createHash("sha256")
    .update(Buffer.concat([Buffer.from(name + "\n", "utf8"), Buffer.from([1]), pub]))
    .digest()
    .subarray(0, 4);
}

const [file, vkeyText] = process.argv.slice(2);
if (!file || !vkeyText) fail("usage: verify_note.mjs NOTE_FILE VKEY");
const note = readFileSync(file);

// verifier key: name+hex(key id)+base64(0x01 || public key)
// (the base64 key may itself contain '+': only the first two separate)
const m = /^([^+\s]+)\+([0-9a-f]{8})\+(\S+)$/.exec(vkeyText.trim());
if (!m) fail("malformed verifier key");
const [, name, idHex, keyB64] = m;
const raw = b64(keyB64, "verifier key");
if (raw.length !== 33 || raw[0] !== 1) fail("verifier key is not an Ed25519 key");
const pub = raw.subarray(1);
if (keyId(name, pub).toString("hex") !== idHex) fail("verifier key id does not match");
const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), pub]);
const key = createPublicKey({ key: spki, format: "der", type: "spki" });

// the note: text (signed, up to and including the newline before the last
// blank line), then signature lines
const split = note.lastIndexOf(Buffer.from("\n\n"));
if (split < 0) fail("no blank line");
const text = note.subarray(0, split + 1);
const sigs = note.subarray(split + 2);
if (sigs.length === 0 || sigs[sigs.length - 1] !== 0x0a) fail("signatures do not end with a newline");
for (const b of text) if ((b < 0x20 && b !== 0x0a) || b === 0x7f) fail("control character in text");
const lines = sigs.toString("utf8").slice(0, -1).split("\n");
let mine = 0;
for (const line of lines) {
  if (!line.startsWith("\u2014 ")) fail("signature line does not start with an em dash");
  const rest = line.slice(2);
  const sp = rest.indexOf(" ");
  if (sp <= 0) fail("signature line without a name");
  const sigName = rest.slice(0, sp);
  const sig = b64(rest.slice(sp + 1), "signature");
  if (sig.length < 5) fail("signature too short");
  if (sigName !== name || sig.subarray(0, 4).toString("hex") !== idHex) continue;
  if (sig.length !== 68 || !verify(null, text, key, sig.subarray(4))) fail("signature does not verify");
  mine++;
}
if (!mine) fail("no signature by " + name);

// tlog-checkpoint body
const body = text.toString("utf8").slice(0, -1).split("\n");
if (body.length < 3) fail("body has fewer than 3 lines");
const [origin, sizeText, rootText] = body;
if (origin !== name) fail("origin is not the key name");
if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) fail("size is not decimal");
const root = b64(rootText, "root");
if (root.length !== 32) fail("root is not 32 bytes");
console.log(JSON.stringify({ ok: true, origin, size: Number(sizeText), root: rootText }));
