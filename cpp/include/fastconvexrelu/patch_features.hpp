// Convex-RF feature extraction (paper Section 8.1, Algorithm 2, steps 12-13): for every image,
// extract all ph x pw x C patches at the given stride (im2col), normalize each patch
// (step 4: p~ = (p - mean(p)) / sqrt(var(p) + epsilon), var with denominator K - 1 as in
// Coates & Ng), compute the responses r_j = u_j^T p~ + b_j to the P filters (step 13, one
// GEMM per image), apply the ReLU and pool the responses over a g x g grid of regions of the
// output map (sum or max pooling), all fused so that the n_patches x P response matrix is never
// stored: a register tile of 6 patches x 16 filters is reduced into the pooled accumulators.
//
// Precision: patches, filters and accumulators are float32 (patch means/variances in double).
// A response is a K-term dot product of normalized patch entries (|p~_k| <= sqrt(K - 1)) with
// filter entries, so its rounding error is about K * 2^-24 * ||p~|| ||u|| (K = 108: ~1e-5
// relative to the response scale); pooled sums add another factor log2(n_patches).  This is
// far below the variation of the features across images; float64 is not needed.
//
// Kernels: an AVX2/FMA micro-kernel selected at run time when the CPU supports it (the rest of
// the library is compiled for the baseline ISA), otherwise a generic Eigen GEMM per image.
// Both give the same result up to float32 rounding (tests compare them).
#pragma once

#include <Eigen/Core>

namespace fcr {

using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

enum class PoolKind { Sum = 0, Max = 1 };

struct PatchFeatureOptions {
    Eigen::Index height = 0, width = 0, channels = 1;  // image shape (H, W, C), HWC layout
    Eigen::Index patch_h = 6, patch_w = 6;
    Eigen::Index stride = 1;
    double epsilon = 10.0;      // patch normalization; < 0: no normalization (raw patches)
    Eigen::Index pool_grid = 2;  // g: g x g regions of the (out_h x out_w) response map
    PoolKind pool = PoolKind::Sum;
    // Activation: s = u^T p~ + b, feature relu(s - threshold); with both_signs also
    // relu(-s - threshold) (the neuron -u with the mirrored bias: Coates & Ng's polarity split).
    float threshold = 0.0f;
    bool both_signs = false;
    int n_threads = 1;  // threads over the images of the call (<= 0: all cores)
    int kernel = 0;     // 0: auto (AVX2 if available), 1: generic Eigen
};

// Output-map size along one axis: (size - patch) / stride + 1.
Eigen::Index patch_grid_size(Eigen::Index size, Eigen::Index patch, Eigen::Index stride);

// Region index (0..g-1) of output row/column i of an axis with `out` positions: floor(i g / out).
inline Eigen::Index pool_region(Eigen::Index i, Eigen::Index out, Eigen::Index g) {
    return (i * g) / out;
}

// images: n x (H W C) row-major (each row one image in HWC order), float32.
// filters: K x P row-major, K = patch_h * patch_w * C, patch vector order (dy, dx, c).
// bias: P.  out: n x (g^2 S P) with S = 2 if both_signs else 1: out(i, (r S + s) P + j) =
// pooled relu(+-(u_j^T p~ + b_j) - threshold) of filter j over region r = ry g + rx
// (s = 0: sign +, s = 1: sign -).  Throws std::invalid_argument on inconsistent shapes / options or non-finite
// pixels.
void patch_features(const Eigen::Ref<const RowMatrixXf>& images,
                    const Eigen::Ref<const RowMatrixXf>& filters,
                    const Eigen::Ref<const Eigen::VectorXf>& bias,
                    const PatchFeatureOptions& options,
                    Eigen::Ref<RowMatrixXf> out);

// Whether the AVX2/FMA kernel is used by kernel = 0 on this CPU.
bool patch_features_has_avx2();

}  // namespace fcr
