/* src/run/precision_note.c — what a run says and records about its arithmetic: the precision in
 * run.json (next to config.ini's nn.precision), and for bf16 whether this CPU runs the products
 * on AVX512_BF16 or emulates them, on the console once per session and in run.json. */
#include "prism/nn.h"

#include "trainer_internal.h"

void run_note_precision(prism_archive *a, const prism_config *cfg) {
    const bool bf16 = cfg->agent_cfg.precision == PRISM_NN_BF16;
    prism_archive_set_string(a, "precision", bf16 ? "bf16" : "fp32");
    if (!bf16) return;
    const bool hw = prism_nn_bf16_hardware();
    prism_archive_set_string(a, "bf16_products", hw ? "avx512_bf16" : "emulated");
    if (hw)
        prism_archive_printf(a, "precision bf16: the dense products run on AVX512_BF16\n");
    else
        prism_archive_printf(a,
                             "precision bf16: this CPU lacks AVX512_BF16, so the bf16 arithmetic "
                             "is emulated (the same results as the hardware, slower than "
                             "fp32)\n");
}
