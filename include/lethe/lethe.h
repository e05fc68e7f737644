/*
 * lethe/lethe.h - umbrella header: include this to use the library.
 */
#ifndef LETHE_H
#define LETHE_H

#include "lethe/core.h"
#include "lethe/ops.h"
#include "lethe/io.h"
#include "lethe/fileset.h"
#include "lethe/safetensors.h"
#include "lethe/npy.h"
#include "lethe/png.h"
#include "lethe/optim.h"
#include "lethe/nn.h"
#include "lethe/models.h"
#include "lethe/llama.h"
#include "lethe/clip.h"
#include "lethe/tokenizer.h"
#include "lethe/data.h"
#include "lethe/tofu.h"
#include "lethe/train.h"
#include "lethe/metrics.h"
#include "lethe/image_metrics.h"
#include "lethe/canvas_metrics.h"
#include "lethe/rouge.h"
#include "lethe/unlearn.h"
#include "lethe/methods.h"
#include "lethe/select.h"
#include "lethe/lm.h"
#include "lethe/stats.h"
#include "lethe/tofu_eval.h"
#include "lethe/lm_score.h"
#include "lethe/llm_unlearn.h"
#include "lethe/fortunes.h"
#include "lethe/canvas.h"
#include "lethe/mesh.h"
#include "lethe/lm_mia.h"
#include "lethe/muse.h"
#include "lethe/diffusion.h"
#include "lethe/dm_unlearn.h"
#include "lethe/dm_text_unlearn.h"
#include "lethe/dm_canvas.h"
#include "lethe/bench.h"
#include "lethe/bench_dm.h"

#define LETHE_VERSION "0.1.0"

#endif
