// Finds every code point on which Hugging Face's NFC (the Rust crate
// unicode-normalization-alignments inside `tokenizers`, with Unicode tables
// older than Debian's libutf8proc) differs from utf8proc's, writes them as
// src/tokenizer/nfc_hf_tables.cpp, and writes tests/tokenizer/nfc_golden.jsonl
// (strings and HF's NFC of them) for tests/unit/test_nfc_hf.cpp. Usage:
//   npm install --prefix /tmp/hf tokenizers@0.23.2
//   NODE_PATH=/tmp/hf/node_modules node tests/tokenizer/probe_nfc.js [--check] [--list] [--fuzz N OUT.jsonl]
// --check writes nothing and fails if either file would change (tests can run
// it where npm is there); --list prints each code point and why it differs;
// --fuzz also writes N random strings, then every string of Unicode's
// NormalizationTest.txt (Debian's unicode-data, where installed), with HF's
// NFC of them to OUT.jsonl: a larger check than the committed golden, which
// the unit test reads instead when NTKS_NFC_GOLDEN names it. Needs a C
// compiler and libutf8proc-dev: utf8proc's side comes from a small C program
// built here.
//
// How HF's properties are read through its public API only (normalizers
// nfcNormalizer/nfdNormalizer, normalizeString):
//   decomposition: NFD of the char alone;
//   ccc != 0:      NFD(c U+0334) puts U+0334 (ccc 1) first iff ccc(c) > 1, and
//                  NFD(U+0301 c) puts c first iff 0 < ccc(c) < 230;
//   ccc value:     c has class v iff a mark m of class v (one HF knows) is
//                  reordered with c in neither order;
//   composition:   NFC of each char alone and of utf8proc's NFD of it.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const hf = require('tokenizers');

const root = path.resolve(__dirname, '..', '..');
const tablePath = path.join(root, 'src', 'tokenizer', 'nfc_hf_tables.cpp');
const goldenPath = path.join(__dirname, 'nfc_golden.jsonl');
const hfVersion = require('tokenizers/package.json').version;
const nfcHf = hf.nfcNormalizer();
const nfdHf = hf.nfdNormalizer();
const NFC = (s) => nfcHf.normalizeString(s);
const NFD = (s) => nfdHf.normalizeString(s);
const chr = (cp) => String.fromCodePoint(cp);
const cps = (s) => Array.from(s, (c) => c.codePointAt(0));
const hex = (cp) => cp.toString(16).toUpperCase().padStart(4, '0');
const isSurrogate = (cp) => cp >= 0xd800 && cp <= 0xdfff;

// utf8proc's view: for every char with ccc != 0, a canonical decomposition or
// NFC != itself, "CP CCC NFD... ; NFC...", plus its Unicode version first.
const dumper = `
#include <stdio.h>
#include <stdlib.h>
#include <utf8proc.h>
static void put(const utf8proc_int32_t* b, utf8proc_ssize_t n) {
  for (utf8proc_ssize_t i = 0; i < n; ++i) printf(" %X", (unsigned)b[i]);
}
int main(void) {
  printf("%s\\n", utf8proc_unicode_version());
  utf8proc_int32_t d[64], c[64];
  for (utf8proc_int32_t cp = 1; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    utf8proc_uint8_t u[4];
    const utf8proc_ssize_t nu = utf8proc_encode_char(cp, u);
    /* string-level: decomposes and puts marks in canonical order */
    const utf8proc_ssize_t nd = utf8proc_decompose(u, nu, d, 64, UTF8PROC_DECOMPOSE | UTF8PROC_STABLE);
    for (utf8proc_ssize_t i = 0; i < nd; ++i) c[i] = d[i];
    const utf8proc_ssize_t nc = utf8proc_normalize_utf32(c, nd, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
    if (nd < 0 || nc < 0) return 1;
    const int ccc = utf8proc_get_property(cp)->combining_class;
    if (ccc == 0 && nd == 1 && d[0] == cp && nc == 1 && c[0] == cp) continue;
    printf("%X %d", (unsigned)cp, ccc); put(d, nd); printf(" ;"); put(c, nc); printf("\\n");
  }
  return 0;
}`;

function utf8procData() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe_nfc_'));
  try {
    fs.writeFileSync(path.join(dir, 'dump.c'), dumper);
    execFileSync('cc', ['-O2', '-o', path.join(dir, 'dump'), path.join(dir, 'dump.c'), '-lutf8proc']);
    const lines = execFileSync(path.join(dir, 'dump'), { maxBuffer: 1 << 26 }).toString().trim().split('\n');
    const version = lines.shift();
    const data = new Map();
    const hexes = (t) => t.trim().split(' ').map((x) => parseInt(x, 16));
    for (const line of lines) {
      const [left, right] = line.split(';');
      const [cp, ccc, ...nfd] = left.trim().split(' ');
      data.set(parseInt(cp, 16), { ccc: parseInt(ccc, 10), nfd: hexes(nfd.join(' ')), nfc: hexes(right) });
    }
    return { version, data };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const U = utf8procData();
const uCcc = (cp) => (U.data.has(cp) ? U.data.get(cp).ccc : 0);
const uNfd = (cp) => (U.data.has(cp) ? U.data.get(cp).nfd : [cp]);
const uNfc = (cp) => (U.data.has(cp) ? U.data.get(cp).nfc : [cp]);
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// HF's properties of every code point.
const hfDecomp = new Map();  // cp -> NFD where it is not the char itself
const hfNonzero = new Set();
for (let cp = 1; cp < 0x110000; ++cp) {
  if (isSurrogate(cp)) continue;
  const c = chr(cp);
  const d = NFD(c);
  if (d !== c) { hfDecomp.set(cp, cps(d)); continue; }
  if (NFD(c + '\u0334') !== c + '\u0334' || NFD('\u0301' + c) !== '\u0301' + c) hfNonzero.add(cp);
}
// A reference mark per class: the lowest char of that class (in utf8proc) HF
// also gives a nonzero class.
const refMark = new Map();
for (const [cp, u] of [...U.data.entries()].sort((a, b) => a[0] - b[0]))
  if (u.ccc !== 0 && hfNonzero.has(cp) && !refMark.has(u.ccc)) refMark.set(u.ccc, cp);
const hfCcc = new Map();
for (const cp of hfNonzero) {
  const c = chr(cp);
  const fits = [...refMark].filter(([, m]) => NFD(chr(m) + c) === chr(m) + c && NFD(c + chr(m)) === c + chr(m));
  if (fits.length !== 1) throw new Error(`U+${hex(cp)}: ${fits.length} classes fit`);
  hfCcc.set(cp, fits[0][0]);
}
const hfCccOf = (cp) => hfCcc.get(cp) || 0;

// Where the two differ, and how.
const diffs = new Map();  // cp -> reasons
const note = (cp, why) => { if (!diffs.has(cp)) diffs.set(cp, []); diffs.get(cp).push(why); };
const considered = new Set([...U.data.keys(), ...hfDecomp.keys(), ...hfNonzero]);
for (const cp of considered) {
  const hfD = hfDecomp.get(cp) || [cp];
  if (!same(hfD, uNfd(cp))) note(cp, 'decomposition');
  if (same(uNfd(cp), [cp]) && hfCccOf(cp) !== uCcc(cp)) note(cp, `ccc ${hfCccOf(cp)} vs ${uCcc(cp)}`);
  if (!same(cps(NFC(chr(cp))), uNfc(cp))) note(cp, 'nfc');
  if (!same(cps(NFC(String.fromCodePoint(...uNfd(cp)))), uNfc(cp))) note(cp, 'composition');
}
const inHfDecomp = new Set();
for (const d of hfDecomp.values()) for (const x of d) inHfDecomp.add(x);
// A composite HF lacks (U+11938 = U+11935 U+11930) still composes in
// utf8proc: its parts, of class 0 and undecomposed in both, differ only there.
for (const cp of [...diffs.keys()]) {
  if (same(uNfd(cp), [cp])) continue;
  const parts = uNfd(cp).filter((x) => !inHfDecomp.has(x));
  if (parts.length === 0) throw new Error(`U+${hex(cp)}: HF does not compose it, yet knows all its parts`);
  for (const x of parts) { note(x, `part of U+${hex(cp)}`); considered.add(x); }
}
// The table is only right if every such char is, to HF, a char it does not
// know: class 0, no decomposition, NFC itself, and in no decomposition HF has
// (so it composes with nothing). Then HF's NFC cuts the text around it.
for (const cp of diffs.keys()) {
  if (hfCccOf(cp) !== 0 || hfDecomp.has(cp) || NFC(chr(cp)) !== chr(cp) || inHfDecomp.has(cp))
    throw new Error(`U+${hex(cp)} differs (${diffs.get(cp)}) but HF knows it`);
}
const unknown = [...diffs.keys()].sort((a, b) => a - b);

// Unicode versions (DerivedAge.txt of Debian's unicode-data, where present):
// the newest version of the chars that matter to NFC that HF knows, and the
// oldest of those it does not.
let versionLine = 'unknown (no /usr/share/unicode/DerivedAge.txt)';
const agePath = '/usr/share/unicode/DerivedAge.txt';
if (fs.existsSync(agePath)) {
  const age = new Map();
  for (const line of fs.readFileSync(agePath, 'utf8').split('\n')) {
    const m = /^([0-9A-F]+)(?:\.\.([0-9A-F]+))?\s*;\s*([0-9.]+)/.exec(line);
    if (!m) continue;
    const lo = parseInt(m[1], 16), hi = parseInt(m[2] || m[1], 16);
    for (let cp = lo; cp <= hi; ++cp) age.set(cp, m[3]);
  }
  const vkey = (v) => v.split('.').map(Number).reduce((a, x) => a * 100 + x, 0);
  const unknownSet = new Set(unknown);
  let newestKnown = '0.0', oldestUnknown = '99.0';
  for (const cp of considered) {
    const v = age.get(cp);
    if (!v) continue;
    if (unknownSet.has(cp)) { if (vkey(v) < vkey(oldestUnknown)) oldestUnknown = v; }
    else if (vkey(v) > vkey(newestKnown)) newestKnown = v;
  }
  versionLine = `newest NFC-relevant char HF knows is from Unicode ${newestKnown}, ` +
                `oldest it does not know from ${oldestUnknown}`;
}

function ranges(list) {
  const out = [];
  for (const cp of list) {
    if (out.length && out[out.length - 1][1] === cp - 1) out[out.length - 1][1] = cp;
    else out.push([cp, cp]);
  }
  return out;
}

function tableSource() {
  const r = ranges(unknown);
  const body = r.map(([lo, hi]) => `    {0x${hex(lo)}, 0x${hex(hi)}},`).join('\n');
  // One bit per 16 code points below U+20000: whether any of them is unknown.
  if (unknown[unknown.length - 1] >= 0x20000) throw new Error('unknown chars past U+1FFFF: widen kNfcHfUnknownChunks');
  const words = Array.from({ length: 128 }, () => 0n);
  for (const cp of unknown) words[cp >> 10] |= 1n << BigInt((cp >> 4) & 63);
  const chunks = [];
  for (let i = 0; i < words.length; i += 4)
    chunks.push('    ' + words.slice(i, i + 4).map((w) => `0x${w.toString(16).toUpperCase().padStart(16, '0')}`)
      .join(', ') + ',');
  return `// Generated by tests/tokenizer/probe_nfc.js from the npm package tokenizers@${hfVersion}
// (Hugging Face's Rust tokenizers) and libutf8proc (Unicode ${U.version}); do not edit.
// ${versionLine}.
//
// The ${unknown.length} code points (${r.length} ranges) on which HF's NFC differs from utf8proc's: chars
// HF's tables do not have, so to HF they are of class 0, without decomposition, and
// compose with nothing, where utf8proc reorders, decomposes or composes them.

#include "tokenizer/nfc_hf.h"

namespace ntks::tokenizer::detail {

const NfcHfRange kNfcHfUnknown[] = {
${body}
};
const size_t kNfcHfUnknownCount = sizeof(kNfcHfUnknown) / sizeof(kNfcHfUnknown[0]);

const char kNfcHfUtf8procUnicode[] = "${U.version}";

const uint64_t kNfcHfUnknownChunks[128] = {
${chunks.join('\n')}
};

}  // namespace ntks::tokenizer::detail
`;
}

// Golden strings: each unknown char between a base and marks of both sides of
// its utf8proc class, with its utf8proc decomposition, and ordinary cases.
function goldenTexts() {
  const t = [];
  const add = (s) => t.push(s);
  for (const cp of unknown) {
    const c = chr(cp);
    add(c);
    add('a' + c + '\u0334');
    add('a\u0301' + c + '\u0334\u0301');
    add('e' + '\u0334' + c + '\u0323');
    if (!same(uNfd(cp), [cp])) add(String.fromCodePoint(...uNfd(cp)));
    add('\u0915' + c + '\u093C' + c);
    add('a' + c + '\u0301');
    add('a' + c + '\u0316\u0301');
  }
  for (const s of [
    '', 'hello world', 'caf\u00E9', 'cafe\u0301', 'e\u0301\u0323', 'e\u0323\u0301', 'a\u0308\u0301\u0327',
    '\u00C5ngstr\u00F6m \u212B \u2126 \u00C5', 'A\u030A', '\u1E0B\u0323', 'd\u0307\u0323', 'q\u0307\u0323',
    '\u1100\u1161\u11A8', '\uAC00\u11A8', '\u1100\u1161 \u1102\u1165\u11AB', '\uD55C\uAD6D\uC5B4',
    '\u304B\u3099 \u30AB\u3099 \u306F\u309A', '\u0958 \u0915\u093C \u09DC \u0F43', '\u0344 \u0F73 \u0F75 \u0F81',
    '\u2ADC \u2ADD\u0338', '\u0374 \u037E \u0387 \u1FEE \u1FFD', '\uF900 \uFA10 \uF9FF \u2F800',
    '\u0B47\u0B3E \u0B47\u0B57 \u0BC6\u0BBE \u0DD9\u0DCF', '\u0627\u0653 \u0627\u0654 \u0648\u0654',
    '\u05D0\u05B7 \u05E9\u05C1\u05BC \uFB2C', '\u1E63\u0307 s\u0323\u0307 s\u0307\u0323',
    'x\u0334\u0301\u0316\u0334\u031B', '\u0301 leading mark', '\u0041\u030A\u0301\u0327', '\u{1D15E} \u{1D160}',
    '\u{11099}\u{110BA} \u{1112E} \u{11131}\u{11127}', '\u{1F600}\u200D\u{1F4BB} \uFE0F',
    'Vi\u00EA\u0323t Nam Vie\u0302\u0323t', 'Z\u0351\u036B\u0343\u036A\u0302\u036B\u033D\u034F\u0334\u0319',
  ]) add(s);
  return t;
}

// Random mixes of unknown chars with bases, marks of many classes, Hangul
// jamo, composites and singletons (--fuzz).
function fuzzTexts(n) {
  let seed = 12345;
  const rnd = (k) => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % k; };
  const pool = ['a', 'e', 'o', 'A', ' ', '\u00E9', '\u0915', '\u1100', '\u1161', '\u11A8', '\uAC00', '\u304B', '\u3099',
    '\u212B', '\u0958', '\u0B47', '\u0B3E', '\u0627', '\u0653', '\u05D0', '\u1E0B', '\u0344', '\u0F73',
    ...[...refMark.values()].map(chr),
    ...unknown.map(chr)];
  const out = [];
  for (let i = 0; i < n; ++i) {
    let s = '';
    for (let len = 1 + rnd(10); len > 0; --len) s += pool[rnd(pool.length)];
    out.push(s);
  }
  return out;
}

// JSON lines with every char past ASCII escaped, so the combining marks can be
// read in a diff.
const jsonl = (texts) => texts.map((text) => JSON.stringify({ text, nfc: NFC(text) })
  .replace(/[\u007f-\uffff]/g, (c) => '\\u' + hex(c.charCodeAt(0)))).join('\n') + '\n';
const golden = jsonl(goldenTexts());
const table = tableSource();
console.log(`tokenizers@${hfVersion} vs utf8proc (Unicode ${U.version}): ${unknown.length} code points differ ` +
            `(${ranges(unknown).length} ranges); ${versionLine}`);
const kinds = new Map();
for (const why of diffs.values()) for (const w of why) kinds.set(w, (kinds.get(w) || 0) + 1);
console.log('differences by kind:', JSON.stringify(Object.fromEntries(kinds)));
if (process.argv.includes('--list'))
  for (const cp of unknown) console.log(`U+${hex(cp)} ccc ${uCcc(cp)} ${diffs.get(cp).join(', ')}`);
const argv = process.argv.slice(2);
if (argv.includes('--check')) {
  const stale = [[tablePath, table], [goldenPath, golden]]
    .filter(([p, s]) => !fs.existsSync(p) || fs.readFileSync(p, 'utf8') !== s);
  for (const [p] of stale) console.error(`${path.relative(root, p)} differs from what probe_nfc.js makes now`);
  if (stale.length) process.exit(1);
} else {
  fs.writeFileSync(tablePath, table);
  fs.writeFileSync(goldenPath, golden);
  console.log(`wrote ${path.relative(root, tablePath)} and ${path.relative(root, goldenPath)}`);
}
const fi = argv.indexOf('--fuzz');
if (fi >= 0) {
  const texts = fuzzTexts(parseInt(argv[fi + 1], 10));
  // and every string of Unicode's NormalizationTest.txt (Debian's unicode-data)
  const nt = '/usr/share/unicode/NormalizationTest.txt.bz2';
  if (fs.existsSync(nt)) {
    for (const line of execFileSync('bzip2', ['-dc', nt], { maxBuffer: 1 << 27 }).toString().split('\n')) {
      if (/^[0-9A-F]/.test(line))
        for (const col of line.split(';').slice(0, 5))
          texts.push(String.fromCodePoint(...col.trim().split(' ').map((x) => parseInt(x, 16))));
    }
  }
  fs.writeFileSync(argv[fi + 2], jsonl(texts));
  console.log(`wrote ${texts.length} fuzz strings to ${argv[fi + 2]}`);
}
