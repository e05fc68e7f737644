/*
 * lethe/lm.h - training data and the training loop of the decoder language
 * model (models layer, on top of lethe/llama.h, lethe/tokenizer.h and
 * lethe/tofu.h).
 *
 * Data. An lt_lm_data holds tokenized examples; example i is
 * tokens[offset[i] .. offset[i+1]) and its first n_prompt[i] tokens are
 * context only (never scored). Two sources:
 *   - QA records (TOFU): BOS (if the tokenizer has one) + the prompt
 *     "Question: {q}\nAnswer:" + " {a}" + EOS, the prompt and the answer
 *     encoded separately, so the boundary is exact; the loss covers the
 *     answer tokens and the EOS only (question masked, as TOFU does).
 *   - Plain text: documents separated by lines holding only "%" (the
 *     fortune format; no such line: one document), each followed by EOS,
 *     concatenated and cut into windows of T tokens (the last may be
 *     shorter); every token after the first of a window is scored.
 * Batches are right-padded (to the longest example of the batch, or to a
 * fixed T) with pad positions masked; labels follow lethe/llama.h (label
 * t = token t, scored from the logits at t-1; LT_LLAMA_IGNORE elsewhere).
 *
 * Training (lt_lm_train): AdamW (betas 0.9/0.95 by default, eps 1e-8,
 * decoupled weight decay on every weight), linear warm-up then cosine decay
 * to min_lr, gradient accumulation over `accum` micro-batches of `batch`
 * examples per optimizer step, gradient-norm clipping. The loss of a step
 * is the mean over every scored token of all its micro-batches (each
 * micro-batch's summed NLL is divided by the step's scored-token count
 * before backward), so accumulation reproduces one big batch exactly.
 * Example order is a seeded permutation per epoch (optionally grouped by
 * length, see lt_lm_epoch_order); the last step of an epoch may hold fewer
 * examples. Progress goes to a callback; the library
 * never prints. A non-finite loss or gradient stops training with
 * LT_ERR_NAN and a message naming the step.
 */
#ifndef LETHE_LM_H
#define LETHE_LM_H

#include "lethe/dist.h"
#include "lethe/fileset.h"
#include "lethe/llama.h"
#include "lethe/optim.h"
#include "lethe/tofu.h"
#include "lethe/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- data ---------------------------------------------------------------- */

typedef struct {
    int32_t *tokens;    /* all examples, back to back */
    int64_t n_tokens, cap_tokens;
    int64_t *offset;    /* n + 1 entries */
    int32_t *n_prompt;  /* leading tokens of each example not scored */
    int64_t n, cap;
    int64_t max_len;    /* longest example */
    int64_t n_truncated;/* QA examples cut to max_len */
} lt_lm_data;

LT_API void lt_lm_data_free(lt_lm_data *d);
/* Length of example i. */
LT_API int64_t lt_lm_example_len(const lt_lm_data *d, int64_t i);
/* Scored positions of example i: every token at t >= max(n_prompt, 1). */
LT_API int64_t lt_lm_example_scored(const lt_lm_data *d, int64_t i);

/* The QA prompt "Question: {question}\nAnswer:" (malloc'd) and its ids:
 * BOS (when the tokenizer has one) + the encoded prompt (malloc'd). */
LT_API char *lt_lm_prompt_text(const char *question);
LT_API lt_status lt_lm_prompt_ids(const lt_tokenizer *tok, const char *question,
                                  int32_t **ids, size_t *n);
/* Append one QA example (see above). max_len > 0 cuts longer examples
 * (counted in n_truncated); LT_ERR_ARG if the prompt alone fills max_len
 * or the tokenizer has no EOS token. */
LT_API lt_status lt_lm_data_add_qa(lt_lm_data *d, const lt_tokenizer *tok,
                                   const char *question, const char *answer,
                                   int64_t max_len);
/* Every record of a TOFU set (out is zeroed first). */
LT_API lt_status lt_lm_data_qa(const lt_tokenizer *tok, const lt_tofu_set *set,
                               int64_t max_len, lt_lm_data *out);
/* Plain text of len bytes in windows of T >= 2 tokens (out zeroed first).
 * what names the source in errors. */
LT_API lt_status lt_lm_data_text(const lt_tokenizer *tok, const char *text,
                                 size_t len, int64_t T, const char *what,
                                 lt_lm_data *out);
LT_API lt_status lt_lm_data_text_file(const lt_tokenizer *tok, const char *path,
                                      int64_t T, lt_lm_data *out);

/* One example per document instead (documents as above): BOS (if the
 * tokenizer has one) + the document's tokens + EOS, cut to max_len tokens
 * (counted in n_truncated), every token after the first scored. Each text
 * then starts from BOS as it does when it is prompted for evaluation
 * (MUSE's VerbMem, the MIAs). */
LT_API lt_status lt_lm_data_docs(const lt_tokenizer *tok, const char *text,
                                 size_t len, int64_t max_len, const char *what,
                                 lt_lm_data *out);
LT_API lt_status lt_lm_data_docs_file(const lt_tokenizer *tok, const char *path,
                                      int64_t max_len, lt_lm_data *out);
/* Train a byte-level BPE tokenizer on the texts the model will see for
 * the records of set ("Question: {q}\nAnswer: {a}"). */
LT_API lt_status lt_lm_tokenizer_for_qa(const lt_tofu_set *set,
                                        const lt_tokenizer_train_opts *o,
                                        lt_tokenizer **out);
/* Train one on a corpus of n files (src/models/lm_corpus.c): a .json or
 * .jsonl file is read as TOFU QA records (lt_tofu_load) and gives the
 * texts above; any other file is one plain text, byte for byte. Errors
 * name the file ("corpus: ..." when it cannot be read). */
LT_API lt_status lt_lm_tokenizer_for_files(const char *const *paths, int n,
                                           const lt_tokenizer_train_opts *o,
                                           lt_tokenizer **out);

/* Build the padded batch of examples idx[0..B): ids, labels (int32 B*T)
 * and mask (uint8 B*T; NULL allowed) with T = t_fixed when > 0 (longer
 * examples are an error) or the longest example of the batch. Pad
 * positions get pad_id, label LT_LLAMA_IGNORE and mask 0; prompt tokens
 * label LT_LLAMA_IGNORE and mask 0; position 0 of a row is never scored
 * (label kept, mask 0). *T_out gets T, *n_scored the scored positions and
 * *n_real the non-pad tokens (both may be NULL). The buffers hold
 * B * max(t_fixed, d->max_len) entries. */
LT_API lt_status lt_lm_batch(const lt_lm_data *d, const int64_t *idx, int64_t B,
                             int64_t t_fixed, int32_t pad_id, int32_t *ids,
                             int32_t *labels, uint8_t *mask, int64_t *T_out,
                             int64_t *n_scored, int64_t *n_real);

/* ---- training ------------------------------------------------------------- */

typedef struct {
    int epoch, epochs;
    int64_t step, steps;     /* optimizer steps: done so far, in all */
    double loss;             /* mean token loss of this step */
    double lr;               /* learning rate used by this step */
    double grad_norm;        /* before clipping */
    double tokens_per_s;     /* non-pad tokens per second so far */
} lt_lm_event;

typedef struct {
    lt_optim_config optim;   /* lr, weight_decay, betas used (AdamW) */
    int epochs;
    int batch;               /* examples per micro-batch */
    int accum;               /* micro-batches per optimizer step (>= 1) */
    int64_t warmup;          /* linear warm-up steps */
    float min_lr;            /* cosine floor */
    float clip;              /* max gradient norm; 0: off */
    int64_t t_fixed;         /* pad every batch to this length; 0: longest */
    int64_t max_steps;       /* stop after this many steps; 0: all */
    uint64_t seed;           /* example order */
    int group;               /* > 1: length grouping (see below); 0/1 off */
    int32_t pad_id;          /* token written in pad positions (masked) */
    size_t arena_bytes;      /* 0: lt_llama_arena_bytes of one micro-batch */
    /* Data parallel over MPI ranks (docs/mpi.md): the examples of a step
     * are cut into `shards` (0: one per rank; a multiple of the ranks),
     * each run in micro-batches of `batch` on its rank, and the gradients
     * summed before the step; one process with shards > 1 runs them in
     * turn. */
    lt_dist_mode dist;
    int shards;
    lt_precision precision; /* of the run's matrix products (core.h): 0,
                               LT_PRECISION_DEFAULT, the process default */
    void (*progress)(void *ud, const lt_lm_event *ev);
    void *ud;
} lt_lm_train_cfg;

typedef struct {
    double first_loss;       /* loss of step 1 */
    double last_loss;        /* loss of the last step */
    double epoch_loss;       /* mean step loss of the last epoch */
    int64_t steps, tokens;   /* optimizer steps, non-pad tokens seen */
    double seconds, tokens_per_s;
    size_t arena_peak;
} lt_lm_report;

/* AdamW with betas 0.9/0.95, lr 3e-4, weight decay 0.01, 1 epoch, batch 8,
 * accum 1, warm-up 0, min_lr 0, clip 1, seed 1, pad 0. */
LT_API lt_lm_train_cfg lt_lm_train_defaults(void);
/* Optimizer steps per epoch for n examples. */
LT_API int64_t lt_lm_steps_per_epoch(const lt_lm_train_cfg *cfg, int64_t n);
/* The schedule lt_lm_train uses: warm-up + cosine over total steps. */
LT_API lt_schedule lt_lm_schedule(const lt_lm_train_cfg *cfg, int64_t total);

/* The example order of an epoch (1-based): a seeded permutation; with
 * group > 1, each run of group * batch examples of it is sorted by length,
 * cut into micro-batches and those are shuffled (seeded), so batches hold
 * examples of similar length and padding shrinks. perm gets d->n ids.
 * On TOFU-shaped data length follows the question template, so grouped
 * batches hold one kind of question and memorising was clearly slower in
 * our runs (50 authors, 20 epochs); it is off by default. */
LT_API lt_status lt_lm_epoch_order(const lt_lm_data *d,
                                   const lt_lm_train_cfg *cfg, int epoch,
                                   int64_t *perm);

/* Train m on d; rep (may be NULL) gets the summary. */
LT_API lt_status lt_lm_train(lt_llama *m, const lt_lm_data *d,
                             const lt_lm_train_cfg *cfg, lt_lm_report *rep);

/* ---- scoring -------------------------------------------------------------- */

/* For each example: the summed NLL of its scored tokens (nll, may be NULL)
 * and their number (count, may be NULL), from batched forward passes
 * without a tape (batch examples at a time). */
LT_API lt_status lt_lm_score(lt_llama *m, const lt_lm_data *d, int batch,
                             int32_t pad_id, double *nll, int32_t *count);

/* Greedy (or sampled, per o) answer to a question: the decoded new tokens
 * up to EOS, leading whitespace removed (malloc'd, caller frees). */
LT_API lt_status lt_lm_answer(lt_llama *m, const lt_tokenizer *tok,
                              const char *question, const lt_llama_gen_opts *o,
                              char **answer);
/* Continue a raw prompt (no QA template): BOS (when the tokenizer has
 * one) + the encoded prompt, then up to o->max_new_tokens new tokens; the
 * decoded new tokens without a final EOS (malloc'd, caller frees). */
LT_API lt_status lt_lm_continue(lt_llama *m, const lt_tokenizer *tok,
                                const char *prompt, const lt_llama_gen_opts *o,
                                char **text);

/* ---- a model with its tokenizer (lm_open.c) ------------------------------ */

/* The tokenizer saved beside a model: the stem of M.safetensors +
 * ".tokenizer.json", or M/tokenizer.json for a Hugging Face folder. */
LT_API void lt_lm_tokenizer_path(const char *model, char *buf, size_t n);
/* Load a model and its tokenizer (tok NULL: the one beside the model) and
 * check their vocabularies agree; for the tokenizer beside the model, also
 * that it is the file the model was saved with (lt_lm_check_pair); on
 * error both are NULL. */
LT_API lt_status lt_lm_open(const char *model, const char *tok, lt_llama **m,
                     lt_tokenizer **t);
/* LT_OK when m records no tokenizer hash (a checkpoint older than the
 * field, or not from lt_lm_save) or when the SHA-256 of the file tok equals
 * it; else LT_ERR_FORMAT naming both files (the pair is torn: one was
 * replaced without the other). */
LT_API lt_status lt_lm_check_pair(const lt_llama *m, const char *model,
                                  const char *tok);
/* A language model in a file set (lethe/fileset.h), read (out false) or
 * written: the .safetensors file, or a Hugging Face folder and its files,
 * and its tokenizer: tok (named by tok_what) or, when tok is NULL, the
 * one beside the model. */
LT_API void lt_lm_fileset_add(lt_fileset *s, bool out, const char *what,
                              const char *model, const char *tok_what,
                              const char *tok);
/* The padding id: the tokenizer's PAD token, else its EOS. */
LT_API int32_t lt_lm_pad_id(const lt_tokenizer *t);
/* Save m to out (lt_llama_save: a .safetensors file or a Hugging Face
 * folder) and t beside it (lt_lm_tokenizer_path; tok_path, when not NULL,
 * gets that path, n bytes at most). For a file the tokenizer is written
 * first: when it fails no model is written, and when the model then fails
 * a tokenizer file this call created is removed, so a new model is never
 * left without its tokenizer nor a new tokenizer without its model. The
 * model's metadata records the tokenizer file's SHA-256
 * (lethe.tokenizer_sha256), which lt_lm_open checks. Inside a commit set
 * (lethe/io.h) both files are renamed together at its end. */
LT_API lt_status lt_lm_save(const lt_llama *m, const lt_tokenizer *t,
                            const char *out, char *tok_path, size_t n);
/* The model config spec names for tokenizer t: a preset (lt_llama_preset,
 * sized to t's vocabulary) or a Hugging Face config.json (a path ending in
 * ".json") whose vocab_size must equal t's (else LT_ERR_ARG); BOS and EOS
 * ids are t's. */
LT_API lt_status lt_lm_config(const char *spec, const lt_tokenizer *t,
                              lt_llama_config *out);

#ifdef __cplusplus
}
#endif
#endif
