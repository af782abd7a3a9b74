#include "fastconvexrelu/patch_features.hpp"
#include "fastconvexrelu/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define FCR_PF_X86 1
#include <immintrin.h>
#endif

namespace fcr {

using Index = Eigen::Index;

namespace {

constexpr Index kTileRows = 6;   // patches per register tile
constexpr Index kTileCols = 16;  // filters per register tile (2 x 8 floats)

Index round_up(Index x, Index m) { return (x + m - 1) / m * m; }

// Fill A (rows >= n_out, K columns, row-major) with the normalized patches of one image
// (Algorithm 2, step 4); the rows after n_out are left as they are (zero padding).
void im2col_normalize(const float* img, const PatchFeatureOptions& o, Index out_h, Index out_w,
                      float* A) {
    const Index C = o.channels, W = o.width;
    const Index run = o.patch_w * C;  // contiguous pixels per patch row
    const Index K = o.patch_h * run;
    const bool normalize = o.epsilon >= 0.0;
    for (Index oy = 0; oy < out_h; ++oy) {
        for (Index ox = 0; ox < out_w; ++ox) {
            float* a = A + (oy * out_w + ox) * K;
            for (Index dy = 0; dy < o.patch_h; ++dy) {
                const float* src = img + ((oy * o.stride + dy) * W + ox * o.stride) * C;
                std::copy(src, src + run, a + dy * run);
            }
            if (!normalize) continue;
            double s = 0.0;
            for (Index k = 0; k < K; ++k) s += a[k];
            const double mean = s / static_cast<double>(K);
            double ss = 0.0;
            for (Index k = 0; k < K; ++k) {
                const double t = a[k] - mean;
                ss += t * t;
            }
            const double var = K > 1 ? ss / static_cast<double>(K - 1) : 0.0;
            const double inv = 1.0 / std::sqrt(var + o.epsilon);
            for (Index k = 0; k < K; ++k)
                a[k] = static_cast<float>((a[k] - mean) * inv);
        }
    }
}

// Per-thread work space.
struct Workspace {
    std::vector<float> A;       // padded patch matrix, n_rows_pad x K
    std::vector<float> pooled;  // g^2 x P_pad
    RowMatrixXf R;              // generic kernel: responses n_out x P
};

#ifdef FCR_PF_X86
// Sum or max of 16 activations into the pooled accumulators dst[0..15].
__attribute__((target("avx2,fma"))) inline void pool_into(float* dst, __m256 v0, __m256 v1,
                                                          bool max_pool) {
    const __m256 d0 = _mm256_loadu_ps(dst);
    const __m256 d1 = _mm256_loadu_ps(dst + 8);
    _mm256_storeu_ps(dst, max_pool ? _mm256_max_ps(d0, v0) : _mm256_add_ps(d0, v0));
    _mm256_storeu_ps(dst + 8, max_pool ? _mm256_max_ps(d1, v1) : _mm256_add_ps(d1, v1));
}

// Fused GEMM + bias + ReLU + pooling for one image: packed filters Up (blocks of K x 16,
// block jb holds filters 16 jb .. 16 jb + 15), padded bias bp, region of every patch row.
__attribute__((target("avx2,fma"))) void image_kernel_avx2(const float* A, Index n_out, Index K,
                                                           const float* Up, const float* bp,
                                                           Index n_blocks, const int* region,
                                                           bool max_pool, float threshold,
                                                           bool both_signs, float* pooled,
                                                           Index P_pad) {
    const __m256 zero = _mm256_setzero_ps();
    const __m256 thr = _mm256_set1_ps(threshold);
    const __m256 neg_thr = _mm256_set1_ps(-threshold);
    const Index S = both_signs ? 2 : 1;
    for (Index jb = 0; jb < n_blocks; ++jb) {
        const float* B = Up + jb * K * kTileCols;
        const __m256 bias0 = _mm256_loadu_ps(bp + jb * kTileCols);
        const __m256 bias1 = _mm256_loadu_ps(bp + jb * kTileCols + 8);
        for (Index i0 = 0; i0 < n_out; i0 += kTileRows) {
            // r = p~^T u + b (Algorithm 2, step 13), accumulated from the bias
            __m256 c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1;
            __m256 c30 = bias0, c31 = bias1, c40 = bias0, c41 = bias1, c50 = bias0, c51 = bias1;
            const float* a = A + i0 * K;
            for (Index k = 0; k < K; ++k) {
                const __m256 b0 = _mm256_loadu_ps(B + k * kTileCols);
                const __m256 b1 = _mm256_loadu_ps(B + k * kTileCols + 8);
                __m256 x = _mm256_broadcast_ss(a + k);
                c00 = _mm256_fmadd_ps(x, b0, c00);
                c01 = _mm256_fmadd_ps(x, b1, c01);
                x = _mm256_broadcast_ss(a + K + k);
                c10 = _mm256_fmadd_ps(x, b0, c10);
                c11 = _mm256_fmadd_ps(x, b1, c11);
                x = _mm256_broadcast_ss(a + 2 * K + k);
                c20 = _mm256_fmadd_ps(x, b0, c20);
                c21 = _mm256_fmadd_ps(x, b1, c21);
                x = _mm256_broadcast_ss(a + 3 * K + k);
                c30 = _mm256_fmadd_ps(x, b0, c30);
                c31 = _mm256_fmadd_ps(x, b1, c31);
                x = _mm256_broadcast_ss(a + 4 * K + k);
                c40 = _mm256_fmadd_ps(x, b0, c40);
                c41 = _mm256_fmadd_ps(x, b1, c41);
                x = _mm256_broadcast_ss(a + 5 * K + k);
                c50 = _mm256_fmadd_ps(x, b0, c50);
                c51 = _mm256_fmadd_ps(x, b1, c51);
            }
            const __m256 acc[kTileRows][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                                              {c30, c31}, {c40, c41}, {c50, c51}};
            const Index rows = std::min(kTileRows, n_out - i0);
            for (Index r = 0; r < rows; ++r) {
                float* dst = pooled + region[i0 + r] * S * P_pad + jb * kTileCols;
                // ReLU(s - t); second sign: ReLU(-s - t)
                pool_into(dst, _mm256_max_ps(_mm256_sub_ps(acc[r][0], thr), zero),
                          _mm256_max_ps(_mm256_sub_ps(acc[r][1], thr), zero), max_pool);
                if (both_signs)
                    pool_into(dst + P_pad, _mm256_max_ps(_mm256_sub_ps(neg_thr, acc[r][0]), zero),
                              _mm256_max_ps(_mm256_sub_ps(neg_thr, acc[r][1]), zero), max_pool);
            }
        }
    }
}

bool cpu_has_avx2() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
bool cpu_has_avx2() { return false; }
#endif

template <class Fn>
void parallel_over(Index n, int n_threads, Fn&& fn) {
    const int nt = static_cast<int>(std::max<Index>(1, std::min<Index>(n_threads, n)));
    fcr::parallel_for(n, nt, fn);  // checks for interrupts between items
}

}  // namespace

Index patch_grid_size(Index size, Index patch, Index stride) {
    if (patch < 1 || stride < 1 || patch > size) return 0;
    return (size - patch) / stride + 1;
}

bool patch_features_has_avx2() { return cpu_has_avx2(); }

void patch_features(const Eigen::Ref<const RowMatrixXf>& images,
                    const Eigen::Ref<const RowMatrixXf>& filters,
                    const Eigen::Ref<const Eigen::VectorXf>& bias,
                    const PatchFeatureOptions& o, Eigen::Ref<RowMatrixXf> out) {
    const Index n = images.rows();
    if (o.height < 1 || o.width < 1 || o.channels < 1)
        throw std::invalid_argument("patch_features: image height, width and channels must be >= 1");
    if (images.cols() != o.height * o.width * o.channels)
        throw std::invalid_argument("patch_features: images must have H * W * C columns");
    if (o.patch_h < 1 || o.patch_w < 1 || o.patch_h > o.height || o.patch_w > o.width)
        throw std::invalid_argument("patch_features: patch size must be in [1, image size]");
    if (o.stride < 1) throw std::invalid_argument("patch_features: stride must be >= 1");
    if (!std::isfinite(o.epsilon))
        throw std::invalid_argument("patch_features: epsilon must be finite");
    const Index K = o.patch_h * o.patch_w * o.channels;
    const Index P = filters.cols();
    if (filters.rows() != K)
        throw std::invalid_argument("patch_features: filters must have patch_h * patch_w * C rows");
    if (P < 1) throw std::invalid_argument("patch_features: need at least one filter");
    if (bias.size() != P) throw std::invalid_argument("patch_features: bias must have one entry per filter");
    const Index out_h = patch_grid_size(o.height, o.patch_h, o.stride);
    const Index out_w = patch_grid_size(o.width, o.patch_w, o.stride);
    const Index g = o.pool_grid;
    if (g < 1 || g > out_h || g > out_w)
        throw std::invalid_argument("patch_features: pool_grid must be in [1, min(out_h, out_w)]");
    const Index R = g * g;
    const Index S = o.both_signs ? 2 : 1;
    if (out.rows() != n || out.cols() != R * S * P)
        throw std::invalid_argument(
            "patch_features: out must have shape (n, pool_grid^2 * P), times 2 with both signs");
    if (!std::isfinite(o.threshold))
        throw std::invalid_argument("patch_features: threshold must be finite");
    if (!filters.allFinite() || !bias.allFinite())
        throw std::invalid_argument("patch_features: filters and bias must be finite");
    if (n == 0) return;

    const Index n_out = out_h * out_w;
    std::vector<int> region(static_cast<std::size_t>(n_out));
    for (Index oy = 0; oy < out_h; ++oy)
        for (Index ox = 0; ox < out_w; ++ox)
            region[static_cast<std::size_t>(oy * out_w + ox)] =
                static_cast<int>(pool_region(oy, out_h, g) * g + pool_region(ox, out_w, g));

    const bool use_avx2 = o.kernel == 0 && cpu_has_avx2();
    const bool max_pool = o.pool == PoolKind::Max;
    const Index P_pad = use_avx2 ? round_up(P, kTileCols) : P;
    const Index n_blocks = P_pad / kTileCols;
    std::vector<float> Up, bp;
    if (use_avx2) {  // pack the filters in K x 16 column blocks (zero-padded)
        Up.assign(static_cast<std::size_t>(K * P_pad), 0.0f);
        bp.assign(static_cast<std::size_t>(P_pad), 0.0f);
        for (Index jb = 0; jb < n_blocks; ++jb)
            for (Index k = 0; k < K; ++k)
                for (Index t = 0; t < kTileCols && jb * kTileCols + t < P; ++t)
                    Up[static_cast<std::size_t>((jb * K + k) * kTileCols + t)] =
                        filters(k, jb * kTileCols + t);
        for (Index j = 0; j < P; ++j) bp[static_cast<std::size_t>(j)] = bias(j);
    }
    int nt = o.n_threads;
    if (nt <= 0) nt = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    nt = static_cast<int>(std::min<Index>(nt, n));
    std::vector<Workspace> ws(static_cast<std::size_t>(nt));
    const Index rows_pad = round_up(n_out, kTileRows);
    for (auto& w : ws) {
        w.A.assign(static_cast<std::size_t>(rows_pad * K), 0.0f);
        w.pooled.assign(static_cast<std::size_t>(R * S * P_pad), 0.0f);
        if (!use_avx2) w.R.resize(n_out, P);
    }
    std::atomic<bool> bad_pixel{false};

    parallel_over(n, nt, [&](int worker, Index i) {
        Workspace& w = ws[static_cast<std::size_t>(worker)];
        const float* img = images.row(i).data();
        if (!images.row(i).allFinite()) {
            bad_pixel.store(true);
            return;
        }
        im2col_normalize(img, o, out_h, out_w, w.A.data());
        std::fill(w.pooled.begin(), w.pooled.end(), 0.0f);  // ReLU outputs are >= 0
#ifdef FCR_PF_X86
        if (use_avx2) {
            image_kernel_avx2(w.A.data(), n_out, K, Up.data(), bp.data(), n_blocks, region.data(),
                              max_pool, o.threshold, o.both_signs, w.pooled.data(), P_pad);
        } else
#endif
        {
            Eigen::Map<const RowMatrixXf> A(w.A.data(), n_out, K);
            w.R.noalias() = A * filters;  // responses (Algorithm 2, step 13)
            const float t = o.threshold;
            for (Index p = 0; p < n_out; ++p) {
                float* dst = w.pooled.data() + region[static_cast<std::size_t>(p)] * S * P_pad;
                for (Index j = 0; j < P; ++j) {
                    const float s = w.R(p, j) + bias(j);
                    const float v = std::max(s - t, 0.0f);  // ReLU
                    dst[j] = max_pool ? std::max(dst[j], v) : dst[j] + v;
                    if (S == 2) {  // the mirrored neuron
                        const float v2 = std::max(-s - t, 0.0f);
                        float& d2 = dst[P_pad + j];
                        d2 = max_pool ? std::max(d2, v2) : d2 + v2;
                    }
                }
            }
        }
        for (Index r = 0; r < R * S; ++r)
            std::copy(w.pooled.data() + r * P_pad, w.pooled.data() + r * P_pad + P,
                      out.row(i).data() + r * P);
    });
    if (bad_pixel.load())
        throw std::invalid_argument("patch_features: images contain NaN or inf pixels");
}

}  // namespace fcr
