/*
 * abi.c - the sizes of the public structs, for bindings that lay them out
 * themselves (the Python module python/lethe/_ffi.py, through ctypes).
 * A binding mirrors a struct field by field and compares its own size
 * with lt_abi_sizeof() when it loads the library, so a header that gained
 * or lost a field is caught at import instead of corrupting memory.
 */
#include "lethe/lethe.h"

#include <string.h>

#define LT_ABI_TYPE(t) {#t, sizeof(t)}

static const struct {
    const char *name;
    size_t size;
} lt_abi_types[] = {
    LT_ABI_TYPE(lt_tensor),
    LT_ABI_TYPE(lt_optim_config),
    LT_ABI_TYPE(lt_schedule),
    LT_ABI_TYPE(lt_augment),
    LT_ABI_TYPE(lt_param),
    LT_ABI_TYPE(lt_params),
    LT_ABI_TYPE(lt_input_spec),
    LT_ABI_TYPE(lt_model),
    LT_ABI_TYPE(lt_dataset),
    LT_ABI_TYPE(lt_train_event),
    LT_ABI_TYPE(lt_train_cfg),
    LT_ABI_TYPE(lt_train_report),
    LT_ABI_TYPE(lt_forget_set),
    LT_ABI_TYPE(lt_mask_spec),
    LT_ABI_TYPE(lt_unlearn_event),
    LT_ABI_TYPE(lt_unlearn_cfg),
    LT_ABI_TYPE(lt_unlearn_report),
    LT_ABI_TYPE(lt_unlearn_metrics),
    LT_ABI_TYPE(lt_bench_event),
    LT_ABI_TYPE(lt_bench_classify_cfg),
    LT_ABI_TYPE(lt_bench_tofu_cfg),
    LT_ABI_TYPE(lt_bench_muse_cfg),
    LT_ABI_TYPE(lt_report),
    LT_ABI_TYPE(lt_dm_sample_config),
    LT_ABI_TYPE(lt_bench_dm_cfg),
    LT_ABI_TYPE(lt_bench_dm_text_cfg),
};

size_t lt_abi_sizeof(const char *type)
{
    if (type)
        for (size_t i = 0; i < sizeof lt_abi_types / sizeof *lt_abi_types; i++)
            if (!strcmp(lt_abi_types[i].name, type))
                return lt_abi_types[i].size;
    lt_set_error(LT_ERR_ARG, "lt_abi_sizeof: unknown type '%s'",
                 type ? type : "(null)");
    return 0;
}
