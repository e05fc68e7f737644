/*
 * lethe/tokenizer.h - tokenizers (io layer): train a byte-level BPE one
 * (the kind GPT-2 uses) on a corpus, or load a Hugging Face
 * tokenizer.json (BPE: Llama 3, Qwen 2/3, Llama 2 / Mistral, Gemma, GPT-2
 * and the like; WordPiece: BERT-style; Unigram: SentencePiece-style files
 * without a Precompiled normalizer); encode text to int32 ids, decode ids to text, save
 * tokenizer.json files that the `tokenizers` library loads.
 *
 * Encoding follows Hugging Face's pipeline, and gives the ids and text of
 * its implementation (tests/test_tokenizer_hf.c checks four real files
 * against @huggingface/tokenizers):
 *   1. Added (special) tokens are matched whole in the raw text first
 *      (leftmost, longest match wins); the text between them goes on.
 *   2. The normalizer: NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace
 *      (a string or a regex), Strip, BertNormalizer (clean_text,
 *      handle_chinese_chars, strip_accents, lowercase), Sequence.
 *      Precompiled (SentencePiece's charsmap, used by T5, ALBERT, XLM-R)
 *      is refused by name. Added tokens marked
 *      "normalized" are then matched in the normalized text.
 *   3. The pre-tokenizer splits the text into words: ByteLevel (with or
 *      without GPT-2's regex, written out by hand), Split (a string or a
 *      Unicode regex run by PCRE2: \p{L}, \p{N}, lookahead, (?i:...);
 *      behaviors Removed, Isolated, MergedWithPrevious, MergedWithNext,
 *      Contiguous; invert), Metaspace, Whitespace, WhitespaceSplit,
 *      Digits, BertPreTokenizer, Sequence.
 *   4. The model encodes each word: BPE, WordPiece or Unigram (below).
 *      WordPiece takes the longest vocab entry from the word's start,
 *      then the longest "##"-prefixed one (continuing_subword_prefix)
 *      from there on; a word with a part no entry covers, or longer than
 *      max_input_chars_per_word characters, is the unk token. Unigram
 *      picks the segmentation of highest total score (Viterbi; a
 *      character no one-character piece covers is unknown, scored ten
 *      below the lowest score; consecutive unknowns are one unk token, or
 *      their "<0xXX>" tokens under byte_fallback). BPE: with a ByteLevel
 *      pre-tokenizer a word starts as its bytes (one token per byte:
 *      token strings in the file are GPT-2's printable "byte-level"
 *      characters, space is "Ġ");
 *      otherwise (SentencePiece style) as its characters, a character
 *      without a token becoming its "<0xXX>" tokens (byte_fallback) or the
 *      unk token (consecutive ones fused under fuse_unk). Merges apply by
 *      rank, lowest first; ignore_merges takes a word that is a token
 *      whole.
 *   5. lt_tokenizer_encode_special adds the post-processor's special
 *      tokens (TemplateProcessing's single template, BertProcessing,
 *      RobertaProcessing; ByteLevel and Sequence too); lt_tokenizer_encode
 *      never does (callers add BOS/EOS).
 * Decoding runs the decoder (ByteLevel, Metaspace, ByteFallback, Fuse,
 * Strip, Replace, WordPiece (with its cleanup), Sequence) over the token strings; byte-level tokens
 * decode to their bytes, so decode(encode(x)) == x for every byte string
 * x of a trained tokenizer (Hugging Face would replace invalid UTF-8 by
 * U+FFFD; Lethe keeps the bytes). A file with no decoder joins the token
 * strings with spaces, as `tokenizers` does. decode is the `tokenizers`
 * library's: no clean_up_tokenization_spaces (a transformers option).
 * Anything else (another model type, normalizer, pre-tokenizer,
 * post-processor or decoder, a pattern PCRE2 rejects) is LT_ERR_FORMAT
 * with a message naming the file and the unsupported thing.
 *
 * Where the Rust `tokenizers` library and its JavaScript port differ,
 * Lethe follows Rust: Digits splits at every Unicode number, Whitespace
 * uses Unicode \w, Metaspace honours "split", Prepend leaves empty text
 * empty. Added tokens honour lstrip and rstrip (the token takes the white
 * space beside it) and single_word (not matched next to a letter, number
 * or "_"). Other differences from `tokenizers`: an added token decodes to
 * its content; Lowercase is
 * Unicode's simple mapping (plus final sigma and U+0130), NFC etc. come
 * from utf8proc's Unicode tables; PCRE2's \s is Unicode's space
 * separators plus \t\n\v\f\r (Oniguruma's also holds U+0085). The
 * JavaScript port ignores Unigram's byte_fallback (unknowns stay unk)
 * and scores the unk piece itself as an unknown character; Lethe follows
 * Rust there too.
 *
 * Training (lt_tokenizer_train): ids 0..k-1 are the k special tokens, then
 * the 256 byte tokens (ordered by their byte-level character, as GPT-2 and
 * `tokenizers` do), then one token per merge. Each step merges the adjacent
 * pair with the highest count (words weighted by frequency); ties go to the
 * pair with the smallest (left id, right id). Training stops at vocab_size
 * tokens or when the best pair occurs fewer than min_frequency times.
 * Saving writes a loaded tokenizer's pipeline back as it was read, and a
 * trained one's as ByteLevel components.
 *
 * Errors follow the library's conventions: a status is returned and
 * lt_last_error() holds a message naming the file or argument.
 */
#ifndef LETHE_TOKENIZER_H
#define LETHE_TOKENIZER_H

#include "lethe/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lt_tokenizer lt_tokenizer;

/* Roles of special tokens. Inferred from the names of the added tokens on
 * load and after training ("<|endoftext|>" is BOS and EOS; "<s>", "<bos>",
 * "<|begin_of_text|>", "<|startoftext|>" are BOS; "</s>", "<eos>",
 * "<|end_of_text|>" are EOS; "<pad>", "[PAD]", "<|pad|>", "<|padding|>"
 * are PAD; model.unk_token, "<unk>", "[UNK]" are UNK); change with
 * lt_tokenizer_set_special_id. */
typedef enum {
    LT_TOK_BOS = 0,
    LT_TOK_EOS,
    LT_TOK_PAD,
    LT_TOK_UNK,
    LT_TOK_N_ROLES
} lt_tok_role;

typedef struct {
    int32_t vocab_size;     /* total, incl. special and 256 byte tokens */
    int64_t min_frequency;  /* merge only pairs seen >= this often (>= 1) */
    const char *const *special_tokens; /* n_special NUL-terminated strings */
    int n_special;
} lt_tokenizer_train_opts;

/* Train on n_texts texts (text i is lens[i] bytes; lens may be NULL for
 * NUL-terminated texts). Special tokens found in the texts are cut out and
 * not counted. On success *out is a new tokenizer (free with
 * lt_tokenizer_free); on error *out is NULL. LT_ERR_ARG: vocab_size below
 * n_special + 256, min_frequency < 1, an empty or duplicate special token. */
LT_API lt_status lt_tokenizer_train(const char *const *texts,
                                    const size_t *lens, size_t n_texts,
                                    const lt_tokenizer_train_opts *o,
                                    lt_tokenizer **out);
/* Train on the whole content of a file (one text). */
LT_API lt_status lt_tokenizer_train_file(const char *path,
                                         const lt_tokenizer_train_opts *o,
                                         lt_tokenizer **out);

/* Load a tokenizer.json file. LT_ERR_IO: cannot be read; LT_ERR_FORMAT:
 * malformed JSON (message gives the line), unsupported model type or
 * component, bad vocab/merges (e.g. a merge naming a token not in vocab). */
LT_API lt_status lt_tokenizer_load(const char *path, lt_tokenizer **out);
/* The same from a buffer of len bytes; name is used in messages. */
LT_API lt_status lt_tokenizer_load_json(const char *json, size_t len,
                                        const char *name, lt_tokenizer **out);
/* Write tokenizer.json to path atomically (lt_write_file_atomic of io.h). */
LT_API lt_status lt_tokenizer_save(const lt_tokenizer *t, const char *path);
/* The tokenizer.json text (malloc'd, NUL-terminated; free with free()),
 * or NULL with LT_ERR_NOMEM. */
LT_API char *lt_tokenizer_to_json(const lt_tokenizer *t);
LT_API void lt_tokenizer_free(lt_tokenizer *t);

/* Encode len bytes of text. On success *ids is a malloc'd array of *n_ids
 * ids (free with free(); NULL when *n_ids is 0). LT_ERR_ARG when a byte
 * (or character) has no token in the vocab, nor byte-fallback tokens, and
 * the tokenizer has no unk token. */
LT_API lt_status lt_tokenizer_encode(const lt_tokenizer *t, const char *text,
                                     size_t len, int32_t **ids, size_t *n_ids);
/* Encode as lt_tokenizer_encode, with the special tokens the file's
 * post_processor puts around a text (TemplateProcessing's "single"
 * template, BertProcessing, RobertaProcessing): what Hugging Face's
 * encode(text, add_special_tokens=True) gives. The same ids as
 * lt_tokenizer_encode when there is no such post-processor. */
LT_API lt_status lt_tokenizer_encode_special(const lt_tokenizer *t,
                                             const char *text, size_t len,
                                             int32_t **ids, size_t *n_ids);
/* Decode n ids. On success *text is malloc'd (free with free()), holds
 * *len bytes and a terminating NUL. LT_ERR_ARG for an id out of range. */
LT_API lt_status lt_tokenizer_decode(const lt_tokenizer *t, const int32_t *ids,
                                     size_t n, char **text, size_t *len);

/* Number of ids (largest id + 1). */
LT_API int32_t lt_tokenizer_vocab_size(const lt_tokenizer *t);
/* The bytes an id decodes to (*len set; not NUL-terminated in general),
 * or NULL with LT_ERR_ARG if id is out of range or unused. */
LT_API const char *lt_tokenizer_token(const lt_tokenizer *t, int32_t id,
                                      size_t *len);
/* The id of a token given by its bytes (or an added token by its content),
 * or -1 (no error set) if there is none. */
LT_API int32_t lt_tokenizer_token_id(const lt_tokenizer *t, const char *bytes,
                                     size_t len);
/* True for added tokens marked special. */
LT_API bool lt_tokenizer_is_special(const lt_tokenizer *t, int32_t id);
/* Merges in rank order: merge i joins left and right into result. */
LT_API int32_t lt_tokenizer_n_merges(const lt_tokenizer *t);
LT_API lt_status lt_tokenizer_merge(const lt_tokenizer *t, int32_t rank,
                                    int32_t *left, int32_t *right,
                                    int32_t *result);
/* The id playing a role, or -1 if none. */
LT_API int32_t lt_tokenizer_special_id(const lt_tokenizer *t, lt_tok_role role);
/* The id put before a text as its first context: BOS, else EOS, else -1
 * (what the MIAs and MUSE's prompts start from). */
LT_API int32_t lt_tokenizer_start_id(const lt_tokenizer *t);
/* Set (id >= 0) or clear (id == -1) a role. LT_ERR_ARG if out of range. */
LT_API lt_status lt_tokenizer_set_special_id(lt_tokenizer *t, lt_tok_role role,
                                             int32_t id);

#ifdef __cplusplus
}
#endif
#endif
