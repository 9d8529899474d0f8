// DeepSeek-V2/V3 multi-head latent attention (MLA) in the CPU backend: CpuBackend's members for
// AttentionKind::Latent layers, held to the reference's expanded form (ReferenceForward.cpp).
//
// The cache keeps per position and layer only what MLA compresses the keys and values to: the
// normed latent c_KV [kvLoraRank] and the RoPE'd shared key k_rope [qkRopeHeadDim], one F32 row
// of cachedWidth() (Sequence::latent). Attention runs in the absorbed form, for prefill and
// decode alike: each head's no-RoPE query goes through its key part of kvB (W_UK) into latent
// space, q_lat = W_UK^T q_nope, so that
//   score_j = scale * (q_lat . c_j + q_rope . k_rope_j) = scale * [q_lat, q_rope] . row_j,
// the softmax-weighted sum of the latents out_lat = sum_j p_j c_j goes through the head's value
// part of kvB (W_UV) to its value, then o. That is exactly the reference's function:
// q_nope . (W_UK c_j) = (W_UK^T q_nope) . c_j, and sum_j p_j (W_UV c_j) = W_UV sum_j p_j c_j.
// MLA is then one KV head shared by all heads, with key width kvLoraRank + rope and value width
// kvLoraRank: attendPart reads each cached row once for all heads, as it does for a GQA group.
//
// Why the absorbed form in prefill too (the expanded one, K_nope and V from kvB per position,
// would cost 2 x heads x (qHeadDim + vHeadDim) FLOPs per (query, position) against the absorbed
// 2 x heads x (2 kvLoraRank + rope), about a third for V2/V3's shapes): the expansion must
// recompute kvB x c_j for every cached position at every prefill call (a prompt that continues a
// cached conversation re-expands all of it), it needs a second cache-sized buffer, and a second
// attention path to hold to the reference; the absorbed prefill reads the cache the decode
// reads, as GEMMs (packed Kernels.h products, like prefillAttention), and the analytic cost model
// counts MLA attention absorbed (Cost.h attentionFlopsPerAttendedPosition), so the step's
// reported FLOPs are the ones computed. For prompts of thousands of tokens the expanded form
// would be faster; it can join later behind isPrefillOfOneSequence without touching the cache.
//
// Rounding: the reference's products with kvB round the latent to BF16 where the ISA rounds
// activations (matmulActivationRounding) and nothing else of attention. So the cache stores the
// latent already rounded then (exactly representable in F32), and the two absorbed products
// read kvB with F32 activations (q_nope, out_lat), which the reference never rounds.
#include "inference/cpu/CpuBackend.h"

#include "inference/cpu/AttentionSteps.h"
#include "inference/cpu/Kernels.h"
#include "inference/cpu/OnednnGemm.h"
#include "inference/model/ReferenceForward.h"

#include <algorithm>
#include <cmath>

namespace crossroads::inference {

namespace {

void rmsNormInPlace(float* x, const std::vector<float>& w, double eps, int64_t n) {
    double squares = 0.0;
    for (int64_t i = 0; i < n; ++i)
        squares += static_cast<double>(x[i]) * x[i];
    const auto scale = static_cast<float>(1.0 / std::sqrt(squares / static_cast<double>(n) + eps));
    for (int64_t i = 0; i < n; ++i)
        x[i] = x[i] * scale * w[static_cast<std::size_t>(i)];
}

// Row r of w as F32 (no rounding of anything: the weights' own values).
void rowToF32(const Matrix& w, int64_t r, float* out) {
    switch (w.type) {
    case WeightType::F32: {
        const auto* row = reinterpret_cast<const float*>(w.row(r));
        std::copy_n(row, w.cols, out);
        return;
    }
    case WeightType::BF16: {
        const auto* row = reinterpret_cast<const uint16_t*>(w.row(r));
        for (int64_t c = 0; c < w.cols; ++c)
            out[c] = bf16ToFloat(row[c]);
        return;
    }
    case WeightType::FP8E4M3: {
        const auto* row = reinterpret_cast<const uint8_t*>(w.row(r));
        const float* scales = w.scaleRow(r);
        for (int64_t c = 0; c < w.cols; ++c)
            out[c] = fp8E4M3ToFloat(row[c]) * scales[c / w.blockCols];
        return;
    }
    }
}

// DeepSeek's interleaved RoPE (pairs 2i, 2i + 1 at frequency i) from the tables at a position.
void ropeInterleaved(float* x, int64_t half, const float* cosines, const float* sines) {
    for (int64_t i = 0; i < half; ++i) {
        const float a = x[2 * i], b = x[2 * i + 1];
        x[2 * i] = a * cosines[i] - b * sines[i];
        x[2 * i + 1] = b * cosines[i] + a * sines[i];
    }
}

} // namespace

void CpuBackend::latentAttentionLayer(std::size_t layerIndex, const std::vector<Row>& rows) {
    const ModelConfig& config = model_.config;
    const LatentAttention& m = config.mla;
    const LayerWeights& layer = model_.weights.layers[layerIndex];
    const LatentAttentionWeights& mla = layer.mla;
    const int64_t tokens = static_cast<int64_t>(rows.size());
    const int64_t hidden = config.hiddenSize;
    const int64_t heads = config.numHeads;
    const int64_t nope = m.qkNopeHeadDim, ropeDim = m.qkRopeHeadDim, vDim = m.vHeadDim;
    const int64_t rank = m.kvLoraRank;
    const int64_t qHead = m.qHeadDim();
    const int64_t qWidth = heads * qHead;
    const int64_t width = m.cachedWidth();
    const int64_t half = ropeDim / 2;

    // RoPE tables in double, YaRN's cos/sin factor included, rounded once; grown on demand.
    int64_t maxPosition = 0;
    for (const Row& row : rows)
        maxPosition = std::max(maxPosition, row.position);
    const int64_t tablePositions = half > 0 ? static_cast<int64_t>(latentCos_.size()) / half : 0;
    if (latentScale_ == 0.0f || maxPosition >= tablePositions) {
        const DeepseekRope rope = deepseekRope(config);
        latentScale_ = static_cast<float>(rope.softmaxScale);
        const int64_t wanted = std::max<int64_t>(maxPosition + 1, 2 * tablePositions);
        latentCos_.resize(static_cast<std::size_t>(wanted * half));
        latentSin_.resize(static_cast<std::size_t>(wanted * half));
        for (int64_t p = tablePositions; p < wanted; ++p)
            for (int64_t i = 0; i < half; ++i) {
                const double angle =
                    static_cast<double>(p) * rope.inverseFrequency[static_cast<std::size_t>(i)];
                latentCos_[static_cast<std::size_t>(p * half + i)] =
                    static_cast<float>(std::cos(angle) * rope.cosSinScale);
                latentSin_[static_cast<std::size_t>(p * half + i)] =
                    static_cast<float>(std::sin(angle) * rope.cosSinScale);
            }
    }

    normed_.resize(static_cast<std::size_t>(tokens * hidden));
    for (int64_t t = 0; t < tokens; ++t) {
        float* x = &normed_[static_cast<std::size_t>(t * hidden)];
        std::copy_n(&hidden_[static_cast<std::size_t>(t * hidden)], hidden, x);
        rmsNormInPlace(x, layer.inputNorm, config.rmsNormEps, hidden);
    }

    // q (directly, or through the normed q latent) and the compressed kv.
    q_.resize(static_cast<std::size_t>(tokens * qWidth));
    if (mla.qA.empty()) {
        matmul(layer.q, normed_.data(), hidden, tokens, q_.data(), qWidth);
    } else {
        const int64_t qRank = mla.qA.rows;
        // k_ (unused by MLA) holds the q latent.
        k_.resize(static_cast<std::size_t>(tokens * qRank));
        matmul(mla.qA, normed_.data(), hidden, tokens, k_.data(), qRank);
        for (int64_t t = 0; t < tokens; ++t)
            rmsNormInPlace(&k_[static_cast<std::size_t>(t * qRank)], mla.qANorm, kLatentNormEps,
                           qRank);
        matmul(mla.qB, k_.data(), qRank, tokens, q_.data(), qWidth);
    }
    kvLatent_.resize(static_cast<std::size_t>(tokens * width));
    matmul(mla.kvA, normed_.data(), hidden, tokens, kvLatent_.data(), width);

    // Per token: the normed latent (rounded as the reference's kvB product rounds it) and the
    // RoPE'd shared key into the cache, RoPE on each head's q_rope.
    const bool roundLatent = matmulActivationRounding(mla.kvB.type) == ActivationRounding::Bf16;
    const auto prepare = [&](int64_t t) {
        const Row& row = rows[static_cast<std::size_t>(t)];
        float* kv = &kvLatent_[static_cast<std::size_t>(t * width)];
        rmsNormInPlace(kv, mla.kvANorm, kLatentNormEps, rank);
        if (roundLatent)
            for (int64_t i = 0; i < rank; ++i)
                kv[i] = bf16ToFloat(floatToBf16(kv[i]));
        const float* cosines = &latentCos_[static_cast<std::size_t>(row.position * half)];
        const float* sines = &latentSin_[static_cast<std::size_t>(row.position * half)];
        ropeInterleaved(kv + rank, half, cosines, sines);
        float* q = &q_[static_cast<std::size_t>(t * qWidth)];
        for (int64_t h = 0; h < heads; ++h)
            ropeInterleaved(q + h * qHead + nope, half, cosines, sines);
        std::copy_n(
            kv, width,
            &row.sequence->latent[layerIndex][static_cast<std::size_t>(row.position * width)]);
    };
    if (tokens >= 8)
        pool_->parallelFor(tokens, prepare);
    else
        for (int64_t t = 0; t < tokens; ++t)
            prepare(t);

    // The queries in latent space, [tokens x heads x width]: q_lat = W_UK^T q_nope then q_rope.
    // A task per head widens its W_UK block to F32, transposed ([kvLoraRank x nope]), once for
    // all the tokens, and multiplies with the F32 kernels (packed from 20 tokens on): F32
    // weights never round their activations, as the reference's q_nope is not rounded.
    // Decode (fewer than kAbsorbGemmTokens) reads W_UK in place instead, once, through the
    // transposed product (Kernels.h): widening the block per step cost more than the rest of a
    // DeepSeek-V3 decode step's attention.
    qLatent_.resize(static_cast<std::size_t>(tokens * heads * width));
    constexpr int64_t kAbsorbGemmTokens = 8;
    pool_->parallelFor(heads, [&](int64_t h) {
        if (tokens < kAbsorbGemmTokens) {
            matmulRowsTransposed(mla.kvB, h * (nope + vDim), h * (nope + vDim) + nope,
                                 &q_[static_cast<std::size_t>(h * qHead)], qWidth, tokens,
                                 &qLatent_[static_cast<std::size_t>(h * width)], heads * width);
            for (int64_t t = 0; t < tokens; ++t)
                std::copy_n(&q_[static_cast<std::size_t>(t * qWidth + h * qHead + nope)], ropeDim,
                            &qLatent_[static_cast<std::size_t>((t * heads + h) * width + rank)]);
            return;
        }
        thread_local std::vector<float> row, block;
        row.resize(static_cast<std::size_t>(rank));
        block.resize(static_cast<std::size_t>(rank * nope));
        for (int64_t d = 0; d < nope; ++d) {
            rowToF32(mla.kvB, h * (nope + vDim) + d, row.data());
            for (int64_t c = 0; c < rank; ++c)
                block[static_cast<std::size_t>(c * nope + d)] = row[static_cast<std::size_t>(c)];
        }
        matmulRows(Matrix{WeightType::F32, rank, nope, block.data()}, 0, rank,
                   &q_[static_cast<std::size_t>(h * qHead)], qWidth, tokens,
                   &qLatent_[static_cast<std::size_t>(h * width)], heads * width);
        for (int64_t t = 0; t < tokens; ++t)
            std::copy_n(&q_[static_cast<std::size_t>(t * qWidth + h * qHead + nope)], ropeDim,
                        &qLatent_[static_cast<std::size_t>((t * heads + h) * width + rank)]);
    });

    outLatent_.resize(static_cast<std::size_t>(tokens * heads * width));
    if (isPrefillOfOneSequence(rows))
        latentPrefillAttention(layerIndex, rows);
    else
        latentDecodeAttention(layerIndex, rows);

    // Each head's value from its latent output through W_UV, [tokens x heads*vDim], then o. W_UV
    // is widened to F32 per head likewise (the reference does not round the attention's output
    // before kvB: it applies kvB to each latent).
    const int64_t vWidth = heads * vDim;
    attention_.resize(static_cast<std::size_t>(tokens * vWidth));
    // Decode (fewer than kAbsorbGemmTokens), and wherever kvB's products keep F32 activations,
    // multiplies W_UV in place, a view of its rows, with F32 activations (matmulRowsF32Input):
    // widening it per step, as W_UK above, cost more than the rest of the step's attention.
    const bool inPlace = tokens < kAbsorbGemmTokens ||
                         matmulActivationRounding(mla.kvB.type) == ActivationRounding::None;
    pool_->parallelFor(heads, [&](int64_t h) {
        if (inPlace) {
            matmulRowsF32Input(mla.kvB.rowsView(h * (nope + vDim) + nope, vDim), 0, vDim,
                               &outLatent_[static_cast<std::size_t>(h * width)], heads * width,
                               tokens, &attention_[static_cast<std::size_t>(h * vDim)], vWidth);
            return;
        }
        thread_local std::vector<float> block;
        block.resize(static_cast<std::size_t>(vDim * rank));
        for (int64_t i = 0; i < vDim; ++i)
            rowToF32(mla.kvB, h * (nope + vDim) + nope + i,
                     &block[static_cast<std::size_t>(i * rank)]);
        matmulRows(Matrix{WeightType::F32, vDim, rank, block.data()}, 0, vDim,
                   &outLatent_[static_cast<std::size_t>(h * width)], heads * width, tokens,
                   &attention_[static_cast<std::size_t>(h * vDim)], vWidth);
    });
    projected_.resize(static_cast<std::size_t>(tokens * hidden));
    matmul(layer.o, attention_.data(), vWidth, tokens, projected_.data(), hidden);
    for (int64_t t = 0; t < tokens; ++t)
        for (int64_t i = 0; i < hidden; ++i)
            hidden_[static_cast<std::size_t>(t * hidden + i)] +=
                projected_[static_cast<std::size_t>(t * hidden + i)] +
                (layer.oBias.empty() ? 0.0f : layer.oBias[static_cast<std::size_t>(i)]);
}

// Decode (or a few tokens): per row, all heads over its cached positions with attendPart (one
// KV head of width kvLoraRank + rope whose rows are also the values: the outputs' last rope
// columns, sum_j p_j k_rope_j, are computed and ignored). When there are fewer rows than
// threads, each row's context is split into parts combined from their maxima and sums
// (split-K, as decodeAttention does).
void CpuBackend::latentDecodeAttention(std::size_t layerIndex, const std::vector<Row>& rows) {
    const ModelConfig& config = model_.config;
    const int64_t tokens = static_cast<int64_t>(rows.size());
    const int64_t heads = config.numHeads;
    const int64_t width = config.mla.cachedWidth();
    int64_t longest = 0;
    for (const Row& row : rows)
        longest = std::max(longest, row.position + 1);
    constexpr int64_t kMinPartPositions = 256;
    const int64_t threads = pool_->size();
    const int64_t parts = std::clamp<int64_t>((2 * threads + tokens - 1) / tokens, 1,
                                              std::max<int64_t>(1, longest / kMinPartPositions));
    partMax_.resize(static_cast<std::size_t>(tokens * parts * heads));
    partSum_.resize(partMax_.size());
    if (parts > 1)
        partOut_.resize(static_cast<std::size_t>(tokens * parts * heads * width));
    pool_->parallelFor(tokens * parts, [&](int64_t task) {
        const int64_t t = task / parts;
        const int64_t part = task % parts;
        const Row& row = rows[static_cast<std::size_t>(t)];
        const int64_t context = row.position + 1;
        const int64_t chunk = (context + parts - 1) / parts;
        const int64_t begin = std::min(context, part * chunk);
        const int64_t end = std::min(context, begin + chunk);
        const float* cache = row.sequence->latent[layerIndex].data();
        float* out = parts > 1 ? &partOut_[static_cast<std::size_t>(task * heads * width)]
                               : &outLatent_[static_cast<std::size_t>(t * heads * width)];
        thread_local std::vector<float> scores;
        scores.resize(static_cast<std::size_t>(heads * (end - begin)));
        attendPart(&qLatent_[static_cast<std::size_t>(t * heads * width)], heads, width, cache,
                   cache, width, begin, end, latentScale_, scores.data(),
                   &partMax_[static_cast<std::size_t>(task * heads)],
                   &partSum_[static_cast<std::size_t>(task * heads)], out);
        if (parts == 1)
            for (int64_t g = 0; g < heads; ++g) {
                const float inverse = 1.0f / partSum_[static_cast<std::size_t>(task * heads + g)];
                for (int64_t d = 0; d < width; ++d)
                    out[g * width + d] *= inverse;
            }
    });
    if (parts > 1)
        pool_->parallelFor(tokens * heads, [&](int64_t unit) {
            const int64_t t = unit / heads;
            const int64_t g = unit % heads;
            const auto first = static_cast<std::size_t>(t * parts * heads + g);
            mergeAttentionParts(&partMax_[first], &partSum_[first],
                                &partOut_[first * static_cast<std::size_t>(width)], parts, heads,
                                width,
                                &outLatent_[static_cast<std::size_t>((t * heads + g) * width)]);
        });
}

// Prefill of one sequence: per block of query tokens, scores = Q_lat C^T over the cached rows the
// block sees and out_lat = P C_lat, as prefillAttention does for a KV head, with all heads of a
// token as the block's query rows: on oneDNN's sgemm, which reads the cache in place, where the
// build has it, else as two packed products (Kernels.h), the second against the latents
// transposed.
void CpuBackend::latentPrefillAttention(std::size_t layerIndex, const std::vector<Row>& rows) {
    const ModelConfig& config = model_.config;
    const int64_t tokens = static_cast<int64_t>(rows.size());
    const int64_t heads = config.numHeads;
    const int64_t rank = config.mla.kvLoraRank;
    const int64_t width = config.mla.cachedWidth();
    const int64_t first = rows.front().position;
    const int64_t context = first + tokens;
    const float* cache = rows.front().sequence->latent[layerIndex].data();
    const bool sgemm = attentionOnSgemm();

    // Packed GEMM: the latents transposed, [kvLoraRank x context], the x rows of the P V product.
    float* latentT = nullptr;
    if (!sgemm) {
        kvScratch_.resize(static_cast<std::size_t>(rank * context));
        latentT = kvScratch_.data();
        constexpr int64_t kColumns = 16;
        pool_->parallelFor((rank + kColumns - 1) / kColumns, [&](int64_t chunk) {
            const int64_t d0 = chunk * kColumns;
            const int64_t d1 = std::min(rank, d0 + kColumns);
            for (int64_t j = 0; j < context; ++j)
                for (int64_t d = d0; d < d1; ++d)
                    latentT[d * context + j] = cache[j * width + d];
        });
    }

    constexpr int64_t kQueryBlock = 16;
    const int64_t blocks = (tokens + kQueryBlock - 1) / kQueryBlock;
    pool_->parallelFor(blocks, [&](int64_t task) {
        // Later blocks see more keys: hand them out first.
        const int64_t b = blocks - 1 - task;
        const int64_t t0 = b * kQueryBlock;
        const int64_t n = std::min(tokens, t0 + kQueryBlock) - t0;
        const int64_t span = first + t0 + n; // positions the block's last token sees
        const int64_t queries = n * heads;   // rows (token, head)
        const float* qs = &qLatent_[static_cast<std::size_t>(t0 * heads * width)];
        float* outs = &outLatent_[static_cast<std::size_t>(t0 * heads * width)];
        thread_local std::vector<float> scores, outT, inverse;
        scores.resize(static_cast<std::size_t>(queries * span));
        inverse.resize(static_cast<std::size_t>(queries));
        if (sgemm) {
            onednnSgemm(true, queries, span, width, qs, width, cache, width, scores.data(), span);
            causalSoftmaxRows(scores.data(), queries, span, first + t0 + 1, heads, latentScale_,
                              inverse.data());
            // out_lat rows (their first kvLoraRank floats) = P C_lat.
            onednnSgemm(false, queries, rank, span, scores.data(), span, cache, width, outs, width);
            for (int64_t r = 0; r < queries; ++r) {
                float* out = outs + r * width;
                const float factor = inverse[static_cast<std::size_t>(r)];
                for (int64_t d = 0; d < rank; ++d)
                    out[d] *= factor;
            }
            return;
        }
        matmulRows(Matrix{WeightType::F32, span, width, cache}, 0, span, qs, width, queries,
                   scores.data(), span);
        causalSoftmaxRows(scores.data(), queries, span, first + t0 + 1, heads, latentScale_,
                          inverse.data());
        // out_lat^T [kvLoraRank x queries] = P C_lat as W = P (rows: queries) against the
        // transposed latents' rows.
        outT.resize(static_cast<std::size_t>(rank * queries));
        matmulRows(Matrix{WeightType::F32, queries, span, scores.data()}, 0, queries, latentT,
                   context, rank, outT.data(), queries);
        for (int64_t r = 0; r < queries; ++r) {
            float* out = outs + r * width;
            const float factor = inverse[static_cast<std::size_t>(r)];
            for (int64_t d = 0; d < rank; ++d)
                out[d] = outT[static_cast<std::size_t>(d * queries + r)] * factor;
        }
    });
}

} // namespace crossroads::inference
