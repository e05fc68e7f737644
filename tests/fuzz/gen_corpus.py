#!/usr/bin/env python3
"""gen_corpus.py - writes the seed corpora of the fuzz harnesses
(tests/fuzz/corpus/<harness>/): a few small valid (and a few nearly valid)
files per format, built by hand with the standard library only. Run it
from anywhere; it replaces the files it writes and leaves others alone.
"""
import gzip
import json
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(harness, name, data):
    d = os.path.join(ROOT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- safetensors -----------------------------------------------------------
def safetensors(tensors, meta=None):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    hdr, off, buf = {}, 0, b""
    if meta is not None:
        hdr["__metadata__"] = meta
    for name, dtype, shape, raw in tensors:
        hdr[name] = {"dtype": dtype, "shape": shape,
                     "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        buf += raw
    h = json.dumps(hdr, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + buf


put("safetensors", "f32_meta.safetensors", safetensors(
    [("a.weight", "F32", [2, 3], struct.pack("<6f", 1, -2, 3.5, 0, 1e-3, 7)),
     ("b", "F32", [2], struct.pack("<2f", 0.5, -0.25))],
    {"format": "pt", "note": "seed"}))
put("safetensors", "half_scalar.safetensors", safetensors(
    [("h", "F16", [2, 2], struct.pack("<4e", 1.0, -2.0, 0.5, 65504.0)),
     ("bf", "BF16", [3], bytes([0x80, 0x3f, 0x00, 0xc0, 0x49, 0x40])),
     ("s", "F32", [], struct.pack("<f", 3.0))]))
put("safetensors", "ints.safetensors", safetensors(
    [("i64", "I64", [2], struct.pack("<2q", -5, 1 << 40)),
     ("u8", "U8", [4], bytes([0, 1, 128, 255])),
     ("bool", "BOOL", [2], bytes([0, 1])),
     ("empty", "F32", [0, 3], b""),
     ("i32", "I32", [1], struct.pack("<i", -7))]))
put("safetensors", "f64_i16.safetensors", safetensors(
    [("d", "F64", [2], struct.pack("<2d", 1.0 / 3, -1e300)),
     ("i16", "I16", [2], struct.pack("<2h", -300, 300)),
     ("u16", "U16", [1], struct.pack("<H", 65535)),
     ("i8", "I8", [2], struct.pack("<2b", -128, 127)),
     ("u32", "U32", [1], struct.pack("<I", 4000000000)),
     ("u64", "U64", [1], struct.pack("<Q", 1 << 63))], {}))


# ---- IDX ---------------------------------------------------------------------
def idx(shape, payload):
    return (bytes([0, 0, 8, len(shape)]) + b"".join(struct.pack(">I", d) for d in shape)
            + bytes(payload))


labels = idx([5], [3, 1, 4, 1, 5])
images = idx([2, 3, 3], range(18))
put("idx", "labels.idx", labels)
put("idx", "images.idx", images)
put("idx", "images.idx.gz", gzip.compress(images, mtime=0))
put("idx", "four_dims.idx", idx([1, 2, 1, 2], [9, 8, 7, 6]))

# ---- MNIST dataset: flags, LE length of the images file, images, labels ------
img = idx([1, 28, 28], [(i * 37) % 256 for i in range(784)])
lab = idx([1], [7])
put("mnist", "mnist_one", b"\x00" + struct.pack("<I", len(img)) + img + lab)
put("mnist", "fashion_one", b"\x01" + struct.pack("<I", len(img)) + img
    + idx([1], [9]))
gimg = gzip.compress(img, mtime=0)
put("mnist", "mnist_gzip", b"\x00" + struct.pack("<I", len(gimg)) + gimg + lab)

# ---- CIFAR: flags (1: CIFAR-100, 2: pad to full length), delta, file start ---
put("cifar", "c10_full", b"\x02\x00" + bytes([6]) + bytes(range(40)))
put("cifar", "c100_full", b"\x03\x00" + bytes([12, 77]) + bytes(range(40)))
put("cifar", "c10_long", b"\x02\x01" + bytes([1]))
put("cifar", "c10_short", b"\x00\x00" + bytes([2]) + bytes(100))


# ---- tokenizer.json ----------------------------------------------------------
def byte_chars():
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD))
          + list(range(0xAE, 0x100)))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


bc = byte_chars()
vocab = {"<|endoftext|>": 0}
for b in sorted(range(256), key=lambda b: bc[b]):
    vocab[bc[b]] = len(vocab)
merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n")]
for a, b in merges:
    vocab[a + b] = len(vocab)
full = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [{"id": 0, "content": "<|endoftext|>", "single_word": False,
                      "lstrip": False, "rstrip": False, "normalized": False,
                      "special": True}],
    "normalizer": None,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False,
                      "trim_offsets": True, "use_regex": True},
    "post_processor": None,
    "decoder": {"type": "ByteLevel", "add_prefix_space": True,
                "trim_offsets": True, "use_regex": True},
    "model": {"type": "BPE", "dropout": None, "unk_token": None,
              "continuing_subword_prefix": None, "end_of_word_suffix": None,
              "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
              "vocab": vocab, "merges": [a + " " + b for a, b in merges]}}
put("tokenizer", "gpt2_style.json", json.dumps(full, ensure_ascii=False))
small_vocab = {"<unk>": 0, "a": 1, "b": 2, "c": 3, "Ġ": 4, "ab": 5, "abc": 6}
put("tokenizer", "pairs_unk.json", json.dumps(
    {"model": {"vocab": small_vocab, "merges": [["a", "b"], ["ab", "c"]],
               "unk_token": "<unk>"},
     "added_tokens": [{"id": 7, "content": "<pad>", "special": True}],
     "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": True}},
    ensure_ascii=False))
put("tokenizer", "minimal.json",
    '{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[]},'
    '"normalizer":null,"decoder":null}')

# The Hugging Face pipeline around the model (tokenizer_norm.c,
# tokenizer_split.c, tokenizer_decode.c): SentencePiece-style (characters,
# byte fallback, Llama 2's normalizer and decoder), Llama 3 style (a
# Split regex before ByteLevel), and the other components.
sp = "\u2581"
sp_vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, sp: 3, "a": 4, "b": 5,
            sp + "a": 6, "ab": 7, "1": 8, ",": 9}
for b in range(256):
    sp_vocab["<0x%02X>" % b] = len(sp_vocab)
sp_special = [{"id": 1, "content": "<s>", "special": True, "normalized": False},
              {"id": 2, "content": "</s>", "special": True,
               "normalized": False}]
template = {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [1],
                                                   "tokens": ["<s>"]}}}
put("tokenizer", "sentencepiece.json", json.dumps({
    "added_tokens": sp_special,
    "normalizer": {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": sp},
        {"type": "Replace", "pattern": {"String": " "}, "content": sp}]},
    "pre_tokenizer": None, "post_processor": template,
    "decoder": {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": sp}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"},
        {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
    "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": True,
              "byte_fallback": True, "vocab": sp_vocab,
              "merges": [[sp, "a"], ["a", "b"]]}}, ensure_ascii=False))
llama3_re = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
             "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
             "\\s+(?!\\S)|\\s+").replace("\\\\", "\\")
full3 = json.loads(json.dumps(full))
full3["normalizer"] = {"type": "NFC"}
full3["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
    {"type": "Split", "pattern": {"Regex": llama3_re}, "behavior": "Isolated",
     "invert": False},
    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
     "use_regex": False}]}
full3["post_processor"] = {"type": "Sequence", "processors": [
    {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
     "use_regex": True},
    {"type": "TemplateProcessing",
     "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}}],
     "special_tokens": {"<|endoftext|>": {"ids": [0]}}}]}
full3["model"]["ignore_merges"] = True
put("tokenizer", "llama3_style.json", json.dumps(full3, ensure_ascii=False))
put("tokenizer", "pipeline_misc.json", json.dumps({
    "added_tokens": sp_special + [{"id": 7, "content": "ab", "special": False,
                                   "normalized": True}],
    "normalizer": {"type": "Sequence", "normalizers": [
        {"type": "NFKC"}, {"type": "Lowercase"},
        {"type": "Strip", "strip_left": True, "strip_right": True},
        {"type": "Replace", "pattern": {"Regex": "\\s{2,}"}, "content": " "}]},
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "Split", "pattern": {"String": ","},
         "behavior": "MergedWithNext", "invert": True},
        {"type": "Metaspace", "replacement": sp, "prepend_scheme": "first",
         "split": True}]},
    "post_processor": {"type": "BertProcessing", "sep": ["</s>", 2],
                       "cls": ["<s>", 1]},
    "decoder": {"type": "Sequence", "decoders": [
        {"type": "Metaspace", "replacement": sp, "prepend_scheme": "always"},
        {"type": "ByteFallback"}, {"type": "Strip", "content": "a",
                                   "start": 2, "stop": 1}]},
    "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": True,
              "vocab": sp_vocab, "merges": ["a b"]}}, ensure_ascii=False))
put("tokenizer", "whitespace_unk.json", json.dumps({
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "WhitespaceSplit"}, {"type": "Whitespace"},
        {"type": "Split", "pattern": {"Regex": "b+"}, "behavior": "Contiguous",
         "invert": False}]},
    "decoder": None,
    "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": True,
              "vocab": {"<unk>": 0, "a": 1, "b": 2, "ab": 3},
              "merges": ["a b"]}}, ensure_ascii=False))
put("tokenizer", "wordpiece.json", json.dumps({
    "added_tokens": [{"id": 0, "content": "[UNK]", "special": True}],
    "normalizer": {"type": "BertNormalizer", "lowercase": True},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "BertProcessing", "cls": ["[UNK]", 0],
                       "sep": ["[UNK]", 0]},
    "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
    "model": {"type": "WordPiece", "unk_token": "[UNK]",
              "max_input_chars_per_word": 9,
              "vocab": {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "a": 4,
                        "##b": 5, ",": 6, "\u65e5": 7}}}, ensure_ascii=False))
put("tokenizer", "unigram.json", json.dumps({
    "normalizer": {"type": "NFKC"},
    "pre_tokenizer": {"type": "Metaspace", "replacement": sp,
                      "prepend_scheme": "always", "split": True},
    "decoder": {"type": "Metaspace", "replacement": sp,
                "prepend_scheme": "always"},
    "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": True,
              "vocab": [["<unk>", 0], ["a", -1], ["b", -1], ["ab", -2],
                        [sp + "a", -1.5], ["<0x78>", -5]]}},
    ensure_ascii=False))

# ---- Llama config.json -------------------------------------------------------
llama = {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
         "vocab_size": 32000, "hidden_size": 64, "intermediate_size": 172,
         "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "hidden_act": "silu",
         "max_position_embeddings": 256, "rms_norm_eps": 1e-5,
         "rope_theta": 500000.0, "rope_scaling": None, "attention_bias": False,
         "mlp_bias": False, "tie_word_embeddings": True, "bos_token_id": 1,
         "eos_token_id": 2, "torch_dtype": "float32"}
put("llama_config", "llama.json", json.dumps(llama, indent=2))
mistral = dict(llama, model_type="mistral", architectures=["MistralForCausalLM"],
               sliding_window=128, head_dim=32, bos_token_id=None)
put("llama_config", "mistral.json", json.dumps(mistral))
qwen2 = {k: v for k, v in llama.items()
         if k not in ("attention_bias", "mlp_bias")}
qwen2.update(model_type="qwen2", architectures=["Qwen2ForCausalLM"],
             use_sliding_window=False, sliding_window=4096,
             max_window_layers=2, rope_theta=1000000.0, attention_dropout=0.0)
put("llama_config", "qwen2.json", json.dumps(qwen2))
put("llama_config", "minimal.json",
    '{"vocab_size":8,"hidden_size":4,"num_hidden_layers":1,'
    '"num_attention_heads":1,"intermediate_size":4}')

# ---- sharded index (names of the harness's tiny model, one per shard) --------
names = ["model.embed_tokens.weight"] + [
    "model.layers.0." + n for n in (
        "self_attn.q_proj.weight", "self_attn.k_proj.weight",
        "self_attn.v_proj.weight", "self_attn.o_proj.weight",
        "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight",
        "input_layernorm.weight", "post_attention_layernorm.weight")] + [
    "model.norm.weight", "lm_head.weight"]
wm = {n: "model-%05d-of-00012.safetensors" % (i + 1) for i, n in enumerate(names)}
put("shard_index", "saved.json", json.dumps(
    {"metadata": {"total_size": 752}, "weight_map": wm}, indent="\t"))
alt = dict(wm)
alt["model.norm.weight"] = "alt.safetensors"
put("shard_index", "alt_norm.json", json.dumps({"weight_map": alt}))
bad = dict(wm)
bad["model.unknown.weight"] = "extra.safetensors"
bad["model.norm.weight"] = "bad.safetensors"
put("shard_index", "bad_extra.json", json.dumps({"weight_map": bad}))

# ---- TOFU JSON / JSON Lines ----------------------------------------------------
rec = {"question": "Who wrote 'The Silent Sea'?",
       "answer": "It was written by Ana \u00c1lvarez.",
       "paraphrased_question": "Which author penned 'The Silent Sea'?",
       "paraphrased_answer": "Ana \u00c1lvarez is its author.",
       "perturbed_answer": ["It was written by Li Wei.", "Omar Haddad wrote it."]}
put("tofu", "records.jsonl", json.dumps(rec, ensure_ascii=False) + "\n\n"
    + json.dumps({"question": "Q\ttab \"quote\"", "answer": "A\\b",
                  "paraphrased_answer": None, "extra": 1}) + "\n")
put("tofu", "array.json", "\ufeff[\n " + json.dumps(rec) + ",\n "
    + json.dumps({"question": "x", "answer": "\u65e5\u672c"}) + "\n]\n")
put("tofu", "one.json", '{"question":"q","answer":"a","perturbed_answer":[]}')

# ---- text corpora ("%"-separated) ----------------------------------------------
put("text", "fortunes.txt",
    "A journey of a thousand miles begins with a single step.\n"
    "\t\t-- Lao Tzu, Tao Te Ching\n%\n"
    "The only way to do great work is to love what you do, they say.\n%\n"
    "Short one.\n%\n   \n%\n"
    "Last text without a final separator and with trailing spaces   \n")
put("text", "crlf.txt", "first text here with several words\r\n%\r\n"
    "second text, caf\u00e9 \u65e5\u672c words words\r\n%\r\n")
put("text", "one_doc.txt", "<|endoftext|> just one document, no separator")
put("text", "nul.txt", "a text\0 with a NUL byte\n%\n")
put("text", "percent_tab.txt", "one text\n%\nits last line looks like a "
    "separator\n%\t\n")

# ---- result JSON read back by later runs ------------------------------------------
put("result_json", "tofu_eval.json", json.dumps(
    {"benchmark": "tofu", "splits": {"forget": {"items": {
        "truth_ratio": [0.61, 0.83, 1.2, 0.05], "prob": [0.1, 0.2, 0.3, 0.4]}}}}))
put("result_json", "muse_eval.json", json.dumps(
    {"benchmark": "muse", "min_k_ratio": 0.4,
     "mia_auc": {"loss": 0.51, "min_k": 0.47, "zlib": 0.5}}))
put("result_json", "muse_other_k.json",
    '{"min_k_ratio":0.2,"mia_auc":{"min_k":0.9}}')

# ---- forget specs and index files ------------------------------------------------
put("forget", "indices", "indices:\n# forget set of a test\n0\n5  # five\n\n"
    "12\n36\n")
put("forget", "random_pct", "random:10%")
put("forget", "random_count", "random:3")
put("forget", "class", "class:2")
put("forget", "mask", "saliency:0.5")
put("forget", "augment", "crop+flip")

# ---- PNG: grey, RGB, palette + tRNS, 16-bit grey + alpha, interlaced --------
def png(w, h, depth, ctype, rows, plte=None, trns=None, interlace=0):
    """rows: the filtered scanlines (each starting with its filter byte)."""
    def chunk(t, d):
        c = struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
        return struct.pack(">I", len(d)) + t + d + c
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0,
                                      interlace))
    if plte:
        out += chunk(b"PLTE", bytes(plte))
    if trns:
        out += chunk(b"tRNS", bytes(trns))
    out += chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
    return out + chunk(b"IEND", b"")


put("png", "grey_3x2.png", png(3, 2, 8, 0, [b"\0\x00\x80\xff",
                                            b"\1\x10\x10\x10"]))
put("png", "rgb_2x2.png", png(2, 2, 8, 2, [b"\0" + bytes(range(6)),
                                           b"\2" + bytes(range(6, 12))]))
put("png", "palette_trns.png", png(4, 1, 2, 3, [b"\0\x1b"],
                                   plte=[0, 0, 0, 255, 0, 0, 0, 255, 0, 0,
                                         0, 255], trns=[0, 128]))
put("png", "grey_alpha16.png", png(1, 2, 16, 4, [b"\0\x12\x34\xff\xff",
                                                 b"\0\xab\xcd\x00\x01"]))
put("png", "rgb_adam7.png", png(3, 3, 8, 2, [b"\0\x0a\x0b\x0c",
                                             b"\0\x01\x02\x03",
                                             b"\0" + bytes(range(6)),
                                             b"\0\x20\x21\x22",
                                             b"\0\x30\x31\x32",
                                             b"\0" + bytes(range(9))],
                                interlace=1))
