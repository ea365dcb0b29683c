/* prism/nn.h — the neural-network engine: Q-networks (MLP or conv), their heads, losses,
 * optimizers, noise, checkpoints and a finite-difference gradient check.
 *
 * It is a small fixed-architecture engine, not a general autograd: a network is described by
 * a plain config (input -> [conv3x3 + ReLU] -> dense+ReLU x n_hidden -> head) and owns
 * every buffer it needs, allocated once at init for a maximum batch size, so forward,
 * backward, losses and optimizer steps never allocate. It knows nothing of RL beyond the
 * shapes of a Q head (the C51 projection is here only because it is pure tensor math).
 *
 *     prism_nn_config cfg = prism_nn_config_mlp(4, 2, 512, 512);   // 4-512-512-2, ReLU
 *     prism_nn online, target;
 *     prism_nn_init(&online, &cfg, 128, seed);          // check the prism_status in real code
 *     prism_nn_init(&target, &cfg, 128, seed);
 *     prism_nn_copy_params(&target, &online);           // target sync: one memcpy
 *     prism_optim opt;
 *     prism_optim_config oc = prism_optim_config_adam(1e-3f, 3.125e-4f);
 *     prism_optim_init(&opt, &oc, online.n_params);
 *     ...
 *     const float *qn = prism_nn_forward(&target, next_obs, B);   // (B, A)
 *     ...build targets (B)...
 *     const float *q = prism_nn_forward(&online, obs, B);         // (B, A), saves activations
 *     prism_nn_zero_grad(&online);
 *     double loss = prism_nn_loss_huber(q, actions, targets, weights, B, A, per_sample, dq);
 *     prism_nn_backward(&online, dq, B);
 *     prism_optim_step(&opt, online.params, online.grads);
 *     int a = prism_nn_act(&online, obs1);                         // batch-1 argmax Q
 *
 * Dimension letters used in shape comments: B batch, D input features (H*W*C for images),
 * H, W, C image height, width, channels (input), F conv filters, Ho, Wo conv output size,
 * K hidden width, A actions, N atoms, P number of parameters.
 *
 * Tensor layouts (all float32, row-major):
 *   - input: vectors (B, D); images (B, H, W, C), channel fastest — the env's own layout.
 *   - dense weight (out, in), y = x W^T + b (PyTorch's layout); bias (out).
 *   - conv weight (F, 3, 3, C) i.e. (F, kh, kw, c), bias (F); output (B, Ho, Wo, F);
 *     flatten keeps (Ho, Wo, F) order (as Flax/Dopamine flatten NHWC).
 *   - head outputs: (B, A) Q-values when N == 1, (B, A, N) logits when N > 1.
 * docs/nn.md describes the parameter order, initialisers, optimizer forms and file format.
 *
 * Threads: the engine is single-threaded and OpenBLAS is forced to one thread on every
 * prism_nn_init (openblas_set_num_threads(1)), whatever OPENBLAS_NUM_THREADS says, so results
 * never depend on the thread count and the engine never competes with parallel environments
 * or runs for cores. (Multi-threaded OpenBLAS does not give the same bits as one thread with
 * every kernel it may pick: that is why prism guarantees one thread, not thread independence.)
 * In a `make GEMM=prism` build, prism_nn_set_threads(N) splits each large dense product's
 * outputs over N threads (docs/nn.md): every output is computed by one thread in the same
 * order, so the bits are the same for any N.
 */
#ifndef PRISM_NN_H
#define PRISM_NN_H

#include "prism/core.h"
#include "prism/rng.h"

#include <stdint.h>
#include <stdio.h>

#define PRISM_NN_MAX_HIDDEN  8
#define PRISM_NN_MAX_THREADS 64

/* Padding of the 3x3 stride-1 conv: SAME keeps H x W (zero padding of 1), VALID gives
 * (H-2) x (W-2). */
typedef enum prism_nn_padding { PRISM_NN_PAD_SAME = 0, PRISM_NN_PAD_VALID = 1 } prism_nn_padding;

/* Weight initialisers. Fan-in/fan-out of a conv weight count the receptive field
 * (fan_in = 9*C, fan_out = 9*F), as Keras/Flax do.
 *   TORCH_DEFAULT:  PyTorch's nn.Linear/nn.Conv2d default: W and b ~ U(-1/sqrt(fan_in), +).
 *   GLOROT_UNIFORM: W ~ U(-l, l), l = sqrt(6 / (fan_in + fan_out)); b = 0 (Keras/Flax).
 *   VS_FAN_IN:      variance scaling, uniform: l = sqrt(3 * init_scale / fan_in); b = 0.
 *                   Dopamine's JAX networks use init_scale = 1/sqrt(3).
 *   VS_FAN_AVG:     l = sqrt(3 * init_scale / ((fan_in + fan_out) / 2)); b = 0.
 *                   (init_scale 1 is Glorot uniform.)
 *   ORTHOGONAL:     W = init_scale * Q (Saxe et al. 2014), Q orthogonal rows or columns from
 *                   the QR decomposition of a standard normal (O, In) matrix (transposed when
 *                   O < In), columns signed by diag(R) as torch.nn.init.orthogonal_; b = 0
 *                   (CleanRL's layer_init; init_scale = gain, sqrt(2) there). A conv weight is
 *                   the (F, 9C) matrix.
 * Noisy layers ignore this and use Fortunato et al.'s factorised init (see noisy below). */
typedef enum prism_nn_init_kind {
    PRISM_NN_INIT_TORCH_DEFAULT = 0,
    PRISM_NN_INIT_GLOROT_UNIFORM = 1,
    PRISM_NN_INIT_VS_FAN_IN = 2,
    PRISM_NN_INIT_VS_FAN_AVG = 3,
    PRISM_NN_INIT_ORTHOGONAL = 4,
} prism_nn_init_kind;

/* A Q-network, described by plain data. Zero-initialise, then fill in; or start from one of
 * the prism_nn_config_* helpers below. */
typedef struct prism_nn_config {
    /* Input: either a vector (in_dim = D > 0, in_h = in_w = in_c = 0) or an image
     * (in_dim = 0, in_h, in_w, in_c > 0) in (H, W, C) layout. */
    int in_dim;
    int in_h, in_w, in_c;
    /* Optional conv2d 3x3 stride 1 + ReLU on image input: conv_filters = F (0: none). */
    int conv_filters;
    prism_nn_padding conv_padding;
    /* Dense hidden layers, each followed by ReLU: widths hidden[0..n_hidden-1] (may be 0). */
    int n_hidden;
    int hidden[PRISM_NN_MAX_HIDDEN];
    /* Head. n_atoms = 1: scalar Q per action, outputs (B, A). n_atoms = N > 1: C51 logits
     * per action and atom, outputs (B, A, N), with support z_i = v_min + i * dz,
     * dz = (v_max - v_min) / (N - 1) (used by prism_nn_q / prism_nn_act). */
    int n_actions;
    int n_atoms;
    float v_min, v_max;
    /* Dueling (Wang et al. 2016), as Dopamine's JAX Rainbow: two linear layers from the last
     * feature layer, advantages (A*N) and value (N); out[a][i] = V[i] + Adv[a][i] -
     * mean_a Adv[a][i] (per atom when N > 1, on the logits). */
    int dueling;
    /* Noisy nets (Fortunato et al. 2018, factorised Gaussian): when on, EVERY dense layer
     * (hidden layers and the head, both dueling streams) is noisy; the conv layer is not.
     * This is what Revisiting Rainbow / Dopamine's full_rainbow network does (its dense
     * layers all go through the same noisy-or-dense feature_layer). Init: mu ~ U(-1/sqrt(in),
     * 1/sqrt(in)), sigma = noisy_sigma0 / sqrt(in) (weights and biases); noise
     * f(e) = sgn(e) sqrt(|e|), eps_w = f(e_out) f(e_in)^T, eps_b = f(e_out), one noise
     * sample shared by the whole batch. Revisiting Rainbow uses noisy_sigma0 = 0.1. */
    int noisy;
    float noisy_sigma0;
    prism_nn_init_kind init;
    float init_scale; /* for VS_FAN_IN / VS_FAN_AVG, the gain of ORTHOGONAL; else ignored */
    /* LayerNorm (Ba et al. 2016) before every ReLU: after the conv (over the F channels of each
     * output pixel, as flax's nn.LayerNorm on NHWC) and after every hidden dense layer;
     * y = (x - mean) / sqrt(var + layer_norm_eps) * g + b with the biased variance, learnable
     * g (init 1) and b (init 0) per layer: PQN's network (Gallici et al. 2025). Not with noisy. */
    int layer_norm;
    float layer_norm_eps; /* PyTorch's default 1e-5; flax's 1e-6 */
    /* The implicit quantile embedding (IQN, Dabney et al. 2018), E = quantile_embedding_dim > 0:
     * each sample's features x (K: the last hidden layer's output, the flattened conv output
     * without hidden layers) meet T fractions tau_t (prism_nn_set_taus) through
     *   phi(tau)_k = ReLU(sum_{i=1..E} cos(pi i tau) W_ki + b_k),  h_t = x * phi(tau_t),
     * and the head maps each of the B*T rows h_t to A outputs (n_atoms must be 1): outputs
     * (B, T, A), one quantile of each action's return per row. i runs from 1 as in Dopamine and
     * Revisiting Rainbow (the paper's i = 0 term is a constant, which the bias already gives).
     * The embedding layer is dense, never noisy ("tau_embed.w" (K, E), "tau_embed.b" (K)). Not
     * with layer_norm. 0: no embedding. */
    int quantile_embedding_dim;
    /* Arithmetic of the dense layers' matrix products (forward, both gradients, acting):
     * PRISM_NN_FP32, or PRISM_NN_BF16: operands rounded to bfloat16, products accumulated in
     * fp32 as AVX512_BF16's vdpbf16ps does (emulated bit for bit on other CPUs). Parameters,
     * gradients, optimizer state, conv, LayerNorm and losses stay fp32 (docs/nn.md). */
    int precision;
} prism_nn_config;

enum { PRISM_NN_FP32 = 0, PRISM_NN_BF16 = 1 };
/* 1 when this CPU runs bf16 products on AVX512_BF16; 0: they are emulated (same bits, slower
 * than fp32). */
int prism_nn_bf16_hardware(void);

/* A 4-`in`..-`out` ReLU MLP with two hidden layers (h1, h2; a width of 0 drops that layer),
 * scalar Q head, PyTorch default init. */
prism_nn_config prism_nn_config_mlp(int in_dim, int n_actions, int h1, int h2);
/* The MinAtar network: (H, W, C) input, conv 3x3 F filters SAME + ReLU, flatten, linear head
 * to A (no hidden dense layer), PyTorch default init. */
prism_nn_config prism_nn_config_minatar(int h, int w, int c, int filters, int n_actions);

/* Check a config: PRISM_OK, or PRISM_ERR_INVALID with a message naming the bad field. */
prism_status prism_nn_config_check(const prism_nn_config *cfg);
/* Number of inputs per sample (D or H*W*C) and outputs per sample (A or A*N). */
int prism_nn_config_in_size(const prism_nn_config *cfg);
int prism_nn_config_out_size(const prism_nn_config *cfg);

/* The multiply-adds of a network's matrix products at B rows, 2 FLOPs each (a multiply and an
 * add): the conv as its im2col product (B*Ho*Wo rows, F outputs, 9*C inner), each dense layer,
 * the head (A*N outputs) and with dueling the value stream (N outputs). Not counted: biases,
 * ReLU, the dueling combination, softmax, losses, the optimizer, and the noisy layers' weight
 * construction (mu + sigma * eps, 2 FLOPs per weight per forward: elementwise and bound by
 * memory, not by arithmetic); a noisy layer counts as the dense product it computes. */
typedef struct prism_nn_flops {
    double forward;  /* one forward of B rows */
    double backward; /* B rows: every weight gradient (as much as its forward) and the input
                        gradient of every layer that does not read the network's input */
    int largest_m, largest_n, largest_k; /* the largest forward product: rows, outputs, inner */
} prism_nn_flops;
prism_nn_flops prism_nn_count_flops(const prism_nn_config *cfg, int B);
/* The same for a network with the quantile embedding at T fractions per sample: the layers
 * below the embedding at B rows, the embedding and the head at B*T rows. */
prism_nn_flops prism_nn_count_flops_taus(const prism_nn_config *cfg, int B, int T);

/* One named parameter tensor of a network: a slice [offset, offset+len) of the parameter
 * block (and of the gradient and optimizer arrays, which are parallel). */
typedef struct prism_nn_tensor {
    char name[32]; /* "dense0.w", "conv.b", "head.adv.w_sigma", ... */
    size_t offset; /* in floats */
    size_t len;    /* in floats */
    int rank;      /* 1, 2 or 4 */
    int shape[4];  /* e.g. dense w: (out, in); conv w: (F, 3, 3, C) */
} prism_nn_tensor;

typedef struct prism_nn_impl prism_nn_impl; /* layer table and activation buffers (private) */

/* A network. Public fields are read-only except through the functions below, except that
 * params may be written (a target sync, a checkpoint load, a test) between calls. */
typedef struct prism_nn {
    prism_nn_config cfg;
    int max_batch; /* B may be 1..max_batch in every call */
    int in_size;   /* D (or H*W*C) */
    int out_size;  /* A or A*N */
    size_t n_params;
    float *params; /* (P) all parameters, one contiguous block, 64-byte aligned */
    float *grads;  /* (P) parallel to params; backward accumulates here */
    int n_tensors;
    prism_nn_tensor *tensors; /* (n_tensors) the named slices of params */
    prism_rng noise_rng;      /* the noisy layers' own stream (PRISM_STREAM_NOISY) */
    int eval_mode;            /* 1: noisy layers use mean weights only */
    int naive;                /* 1: use the naive reference kernels (tests) */
    int max_taus;             /* T may be 1..max_taus (1 without the quantile embedding) */
    prism_nn_impl *impl;
} prism_nn;

/* Create a network for batches up to max_batch. Parameters are initialised from
 * prism_rng(seed, PRISM_STREAM_NET_INIT); the noise stream is seeded from
 * (seed, PRISM_STREAM_NOISY) and a first noise sample is drawn. Every buffer is allocated
 * here (one block for params+grads, one for activations). Returns PRISM_ERR_INVALID for a
 * bad config or batch size, PRISM_ERR_NOMEM on allocation failure; on failure `net` holds
 * nothing and needs no free. */
prism_status prism_nn_init(prism_nn *net, const prism_nn_config *cfg, int max_batch, uint64_t seed);
/* The same for a network with the quantile embedding, for up to max_taus fractions per sample
 * (its embedding and head buffers hold max_batch * max_taus rows). prism_nn_init is this with
 * max_taus 1. */
prism_status prism_nn_init_taus(prism_nn *net, const prism_nn_config *cfg, int max_batch,
                                int max_taus, uint64_t seed);
/* The fractions the next forwards use: taus (B, T) for every B the caller will pass (the net
 * keeps the pointer; the caller keeps the array alive and unchanged until backward), 1 <= T <=
 * max_taus (asserted). Only for a net with the quantile embedding (asserted). Forward then
 * returns (B*T, A) outputs, row b*T + t for sample b and fraction t; backward takes dout of the
 * same shape; prism_nn_q and prism_nn_act average each action over the T rows of a sample. */
void prism_nn_set_taus(prism_nn *net, const float *taus, int T);
/* Output rows of B samples: B * T with the quantile embedding, else B. */
int prism_nn_rows(const prism_nn *net, int B);
/* Release everything init allocated; safe on a zeroed struct; leaves it zeroed. */
void prism_nn_free(prism_nn *net);

/* Threads for the dense kernels of every network in the process (1 to PRISM_NN_MAX_THREADS;
 * the default 1 runs no worker threads; setting 1 again joins them). The split is a fixed
 * partition of each product's outputs, used only for products large enough to pay: results
 * are bit-identical for any count. PRISM_ERR_INVALID with what to do for a count out of range,
 * or above 1 in the default build (OpenBLAS: its results depend on its thread count); nothing
 * changes then. Not thread-safe: call it between training steps, from the training thread. */
prism_status prism_nn_set_threads(int threads);
int prism_nn_threads(void);

/* Copy all parameters of src into dst: the target-network sync (not the noise: each net
 * keeps its own noise stream and sample, as the online and target nets of Dopamine do).
 * Both must have been created from equal configs (asserted). */
void prism_nn_copy_params(prism_nn *dst, const prism_nn *src);

/* Forward pass of B samples, x (B, in_size). Returns the outputs, (B, A) Q-values or
 * (B, A, N) logits, in a buffer owned by the net and valid until its next forward. Always
 * saves what backward needs (it costs nothing extra: activations live in the preallocated
 * buffers), so a target net simply never calls backward. 1 <= B <= max_batch (asserted). */
const float *prism_nn_forward(prism_nn *net, const float *x, int B);

/* Backward pass for the last forward: dout (B, out_size) is d(loss)/d(outputs).
 * ACCUMULATES into net->grads (zero them with prism_nn_zero_grad). B may be smaller than the
 * last forward's batch (1 <= B <= it, asserted): the backward is then that of the first B
 * rows alone (rows are independent), so one forward can serve a loss on some rows and
 * inference on the rest (the agent's double-Q step). */
void prism_nn_backward(prism_nn *net, const float *dout, int B);
void prism_nn_zero_grad(prism_nn *net);
/* prism_nn_zero_grad then prism_nn_backward, the same bits, without the separate pass that
 * clears every gradient: each gradient tensor is written by its layer's backward (the weight
 * gradients' first chunk stored instead of added to zero). */
void prism_nn_backward_into(prism_nn *net, const float *dout, int B);

/* Q-values of B samples into q (B, A): a forward, then for N > 1 the expectation of
 * softmax(logits) over the config's support. Like prism_nn_act, it is a forward: it replaces
 * the activations saved for backward (act with the online net between forward and backward
 * only if you mean to). */
void prism_nn_q(prism_nn *net, const float *x, int B, float *q);
/* Batch-1 action selection fast path: argmax_a Q(x, a) for x (in_size), first index on
 * ties (as numpy's argmax). Uses the current noise unless eval_mode. */
int prism_nn_act(prism_nn *net, const float *x);

/* Noisy nets: draw a new noise sample for every noisy layer from net->noise_rng (no-op when
 * cfg.noisy is 0). Eval mode 1 uses mean weights only (mu), 0 uses mu + sigma * eps. */
void prism_nn_noise_resample(prism_nn *net);
void prism_nn_set_eval(prism_nn *net, int eval_mode);

/* The noise sample is every noisy layer's f(e_in) (In) then f(e_out) (O), in layer order
 * (hidden layers, then the head or the advantage and value streams): prism_nn_noise_size
 * floats, 0 when cfg.noisy is 0. A sample stays until one of the calls below replaces it.
 *   draw:           as prism_nn_noise_resample, from `rng` instead of net->noise_rng.
 *   draw_by_length: every vector of length n is f of the first n normals of
 *                   prism_rng(key, n), so layers of one shape share their noise, and a
 *                   layer's input and output vectors are equal when In == O (what
 *                   jax.random.normal(PRNGKey(0), shape) in every layer gives).
 *   get / set:      copy the sample out of or into eps (noise_size floats), e.g. to keep it in
 *                   a checkpoint; copy: dst takes src's sample (equal configs, asserted). */
size_t prism_nn_noise_size(const prism_nn *net);
void prism_nn_noise_draw(prism_nn *net, prism_rng *rng);
void prism_nn_noise_draw_by_length(prism_nn *net, uint64_t key);
void prism_nn_noise_get(const prism_nn *net, float *eps);
void prism_nn_noise_set(prism_nn *net, const float *eps);
void prism_nn_noise_copy(prism_nn *dst, const prism_nn *src);

/* c (M, N) = a (M, K) b^T (N, K) with the matrix product the dense layers use in this build
 * (OpenBLAS sgemm, or prism's kernel in a GEMM=prism build, which allocates its packing scratch
 * for the call). For benchmarks (prism bench nn); returns nonzero when out of memory. */
int prism_nn_matmul(float *c, const float *a, const float *b, int M, int N, int K);

/* Use the naive reference kernels (1) or the fast ones (0, the default). Both compute the
 * same function; tests compare them. */
void prism_nn_set_naive(prism_nn *net, int naive);

/* ---- distributional helpers (pure functions) --------------------------------------------- */

/* Row-wise softmax: p (rows, N) from logits (rows, N); p may alias logits. Max-subtracted,
 * sums in double. */
void prism_nn_softmax(float *p, const float *logits, int rows, int N);
/* The C51 expected value, the one definition every Q-value of a distributional head uses
 * (acting, target action selection, the logged Q statistics):
 * q (B, A) = sum_i softmax(logits[b][a])_i * z_i with z_i = v_min + i (v_max-v_min)/(N-1),
 * exponentials in float after subtracting the row's maximum, sums and support in double. */
void prism_nn_q_from_logits(float *q, const float *logits, int B, int A, int N, float v_min,
                            float v_max);
/* The expected value sum_i p_i z_i of one distribution p (N) on the same support, in double
 * (the mean of a projected target distribution). */
double prism_nn_c51_mean(const float *p, int N, float v_min, float v_max);
/* The categorical projection (Bellemare et al. 2017, Alg. 1) of the distributions
 * probs (B, N) on the support z, shifted to r_b + discount_b * z_j, onto z: out (B, N).
 * discount_b = gamma^k for a k-step transition, 0 for a terminal one (all mass lands on
 * clip(r_b)). Targets are clipped to [v_min, v_max]; mass is split between the two
 * neighbouring atoms in proportion to distance (an exact hit puts it all on one atom).
 * out must not alias probs. Computes in double, so the output sums to 1 up to float
 * rounding when each input row does. */
void prism_nn_c51_project(float *out, const float *probs, const float *rewards,
                          const float *discounts, int B, int N, float v_min, float v_max);

/* ---- losses --------------------------------------------------------------------------------
 * All losses act on the output of the taken action only. For sample b with weight w_b
 * (weights NULL: all 1) and unweighted loss l_b:
 *   losses[b] = l_b                       (unweighted; prioritized replay wants these)
 *   return      (1/B) sum_b w_b l_b        (the MEAN over the batch, as Dopamine)
 *   dout        d(return)/d(outputs), (B, out_size); zero except at the taken action.
 * dout is fully overwritten. losses may be NULL. actions[b] in [0, A) (asserted). */

/* Huber, delta 1: l = 0.5 d^2 if |d| <= 1 else |d| - 0.5, d = q[b][a_b] - target[b].
 * q (B, A). */
double prism_nn_loss_huber(const float *q, const int32_t *actions, const float *targets,
                           const float *weights, int B, int A, float *losses, float *dout);
/* Squared error: l = d^2 (no 1/2, as Dopamine's mse_loss and PyTorch's MSELoss). */
double prism_nn_loss_mse(const float *q, const int32_t *actions, const float *targets,
                         const float *weights, int B, int A, float *losses, float *dout);
/* C51 cross-entropy: l = -sum_i target_i log softmax(logits[b][a_b])_i, logits (B, A, N),
 * target_probs (B, N) (typically from prism_nn_c51_project). log-softmax is computed
 * stably; dout[b][a_b] = w_b/B * (softmax - target). */
double prism_nn_loss_c51(const float *logits, const int32_t *actions, const float *target_probs,
                         const float *weights, int B, int A, int N, float *losses, float *dout);

/* Quantile Huber loss (QR-DQN and IQN; Dabney et al. 2018, in Dopamine's form): for sample b,
 * predicted quantiles pred (B, N) at fractions taus (B, N), target samples targets (B, M),
 *   u_ij = targets[b][j] - pred[b][i],
 *   l_b  = sum_i (1/M) sum_j |taus[b][i] - 1{u_ij < 0}| * H_kappa(u_ij),
 *   H_kappa(u) = u^2 / 2 if |u| <= kappa, else kappa (|u| - kappa / 2)  (not divided by kappa).
 * losses[b] = l_b (may be NULL), return (1/B) sum_b w_b l_b, dpred (B, N) = its gradient
 * (may be NULL). The caller gathers pred from the taken action and scatters dpred back. */
double prism_nn_loss_quantile(const float *pred, const float *taus, const float *targets,
                              const float *weights, int B, int N, int M, float kappa, float *losses,
                              float *dpred);

/* ---- optimizers ----------------------------------------------------------------------------
 * Update rules (g = gradient after optional clipping, t = step count after increment):
 *   SGD:           p -= lr * g   (momentum > 0: buf = momentum*buf + g; p -= lr * buf, as PyTorch)
 *   ADAM:          PyTorch / optax form: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *                  p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
 *   RMSPROP_TF:    TensorFlow 1 RMSPropOptimizer, the DQN / Dopamine form. ms starts at
 *                  rms_init (TF1: 1.0; optax: 0.0). ms = rho ms + (1-rho) g^2;
 *                  centered: mg = rho mg + (1-rho) g, den = sqrt(ms - mg^2 + eps), else
 *                  den = sqrt(ms + eps)  (eps INSIDE the sqrt);
 *                  mom = momentum mom + lr g / den; p -= mom.
 *   RMSPROP_TORCH: torch.optim.RMSprop (alpha = rho): v = rho v + (1-rho) g^2, starts at 0;
 *                  centered: ga = rho ga + (1-rho) g, den = sqrt(v - ga^2) + eps, else
 *                  den = sqrt(v) + eps  (eps OUTSIDE the sqrt);
 *                  momentum > 0: buf = momentum buf + g / den, p -= lr buf; else
 *                  p -= lr g / den.
 *   RADAM:         torch.optim.RAdam (Liu et al. 2020): Adam's m and v; m_hat = m / (1-b1^t);
 *                  rho_inf = 2/(1-b2) - 1, rho_t = rho_inf - 2 t b2^t / (1-b2^t); if rho_t > 5:
 *                  r = sqrt((rho_t-4)(rho_t-2) rho_inf / ((rho_inf-4)(rho_inf-2) rho_t)),
 *                  p -= lr * m_hat * (sqrt(1-b2^t) / (sqrt(v) + eps)) * r; else p -= lr * m_hat.
 * Global-norm clipping (clip_norm > 0): n = ||g||_2 over all P; if n > clip_norm, g is
 * scaled by clip_norm / n in place (optax's clip_by_global_norm). */
typedef enum prism_optim_kind {
    PRISM_OPTIM_SGD = 0,
    PRISM_OPTIM_ADAM = 1,
    PRISM_OPTIM_RMSPROP_TF = 2,
    PRISM_OPTIM_RMSPROP_TORCH = 3,
    PRISM_OPTIM_RADAM = 4,
} prism_optim_kind;

typedef struct prism_optim_config {
    prism_optim_kind kind;
    float lr;
    float beta1, beta2; /* Adam */
    float eps;          /* Adam, RMSProp; Dopamine's Adam uses 3.125e-4 (= 0.01 / 32) */
    float rho;          /* RMSProp decay (TF "decay", PyTorch "alpha") */
    float momentum;     /* SGD, RMSProp */
    int centered;       /* RMSProp */
    float rms_init;     /* RMSPROP_TF: initial ms (1.0 in TF1) */
    float clip_norm;    /* > 0: global-norm gradient clipping */
} prism_optim_config;

prism_optim_config prism_optim_config_adam(float lr, float eps); /* b1 0.9, b2 0.999 */
prism_optim_config prism_optim_config_sgd(float lr);
/* PyTorch's RAdam defaults: b1 0.9, b2 0.999, eps 1e-8 (PQN's optimizer). */
prism_optim_config prism_optim_config_radam(float lr);
/* DQN (Mnih et al. 2015) / Dopamine: TF form, rho 0.95, momentum 0, centered, rms_init 1. */
prism_optim_config prism_optim_config_rmsprop_tf(float lr, float eps);
/* PyTorch defaults: rho 0.99, eps 1e-8, momentum 0, not centered. */
prism_optim_config prism_optim_config_rmsprop_torch(float lr);

typedef struct prism_optim {
    prism_optim_config cfg;
    size_t n_params; /* P */
    int64_t step;    /* number of steps taken (Adam's t) */
    /* All moments in one contiguous block of state_len = n_slots * P floats:
     * ADAM, RADAM [m | v]; RMSPROP [ms | mg (centered) | mom (momentum > 0)]; SGD [buf (momentum >
     * 0)]. A checkpoint writes step and state; slot pointers below point into state. */
    size_t state_len;
    float *state;
    float *m, *v;         /* Adam moments, or NULL */
    float *ms, *mg, *mom; /* RMSProp mean square, mean gradient, momentum, or NULL */
} prism_optim;

/* Allocate the moment block for P parameters (zeroed; RMSPROP_TF ms set to rms_init).
 * PRISM_ERR_INVALID for a bad config (lr <= 0, betas outside [0,1), eps < 0, ...),
 * PRISM_ERR_NOMEM on allocation failure (nothing to free then). */
prism_status prism_optim_init(prism_optim *opt, const prism_optim_config *cfg, size_t n_params);
void prism_optim_free(prism_optim *opt);
/* Reset moments and step count to their initial values. */
void prism_optim_reset(prism_optim *opt);
/* One update of params (P) with grads (P) (clipped in place when clip_norm > 0). Returns the
 * global L2 norm of the gradient before clipping (a metric worth logging). Never allocates. */
double prism_optim_step(prism_optim *opt, float *params, float *grads);

/* ---- checkpoints -----------------------------------------------------------------------------
 * File format (little-endian; docs/nn.md): magic "PRISMNN\0", u32 version, u32 header size,
 * the config, P, the params, the noise rng, an optional optimizer section (config, step,
 * state), and a CRC-32C of everything before it. Load checks magic, version, config equality
 * with the net, sizes and the checksum before touching the net: a truncated, corrupt,
 * wrong-version or mismatched file returns PRISM_ERR_CORRUPT / PRISM_ERR_INVALID with a
 * message (naming the path and what differs) and leaves net and opt unchanged. */

/* Write net (and opt if not NULL) to path, atomically (path.tmp then rename). */
prism_status prism_nn_save(const prism_nn *net, const prism_optim *opt, const char *path);
/* Read a file written by prism_nn_save into an existing net of the same config; opt (if not
 * NULL) must have the same kind and P, and the file must contain an optimizer section. */
prism_status prism_nn_load(prism_nn *net, prism_optim *opt, const char *path);
/* The same on an open stream, for embedding a net in a larger checkpoint; `what` names the
 * stream in error messages. */
prism_status prism_nn_write(const prism_nn *net, const prism_optim *opt, FILE *f);
prism_status prism_nn_read(prism_nn *net, prism_optim *opt, FILE *f, const char *what);

/* ---- gradient check -------------------------------------------------------------------------
 * Compares prism_nn_backward against central finite differences of the scalar
 * L = sum(out * probe) evaluated by a separate double-precision forward of the same network
 * (same params, same noise). Parameters whose perturbation flips any ReLU (the activation
 * pattern at theta+h and theta-h differ) are skipped and counted, rather than loosening the
 * tolerance (as kann / ggml do). checks_per_tensor parameters are probed per tensor (all of
 * them when the tensor is smaller), chosen by rng. */
typedef struct prism_nn_gradcheck_result {
    double max_rel_err; /* max over probed params of |g - fd| / max(|g| + |fd|, 1e-6) */
    double max_abs_err;
    int checked;
    int skipped_kinks;
    char worst[48]; /* tensor name and index of the worst parameter */
} prism_nn_gradcheck_result;

/* x (B, in_size), probe (rows, out_size) (rows = prism_nn_rows(net, B); NULL: a fixed
 * pseudo-random probe). h is the finite
 * difference step (1e-3 is a good default in double). Uses net->grads as scratch (they are
 * zeroed and left holding the analytic gradient). Returns PRISM_ERR_NOMEM if scratch cannot
 * be allocated. */
prism_status prism_nn_gradcheck(prism_nn *net, const float *x, int B, const float *probe, double h,
                                int checks_per_tensor, prism_rng *rng,
                                prism_nn_gradcheck_result *res);

/* Double-precision reference forward (slow; for checks): out (rows, out_size), the fractions
 * of prism_nn_set_taus with the quantile embedding. Uses the net's
 * current params and noise; allocates scratch, returns PRISM_ERR_NOMEM on failure. */
prism_status prism_nn_forward_f64(const prism_nn *net, const float *x, int B, double *out);

#endif
