#include "inference/model/ReferenceForward.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace crossroads::inference {

namespace {

using Vec = std::vector<double>;

Vec linearOf(const Matrix& w, const Vec& input, ActivationRounding rounding) {
    Vec rounded;
    const Vec* source = &input;
    if (roundsInput(rounding, w.type)) {
        rounded.resize(input.size());
        for (std::size_t i = 0; i < input.size(); ++i)
            rounded[i] = bf16ToFloat(floatToBf16(static_cast<float>(input[i])));
        source = &rounded;
    }
    const Vec& x = *source;
    Vec y(static_cast<std::size_t>(w.rows), 0.0);
    for (int64_t r = 0; r < w.rows; ++r) {
        double sum = 0.0;
        for (int64_t c = 0; c < w.cols; ++c)
            sum += static_cast<double>(w.at(r, c)) * x[static_cast<std::size_t>(c)];
        y[static_cast<std::size_t>(r)] = sum;
    }
    return y;
}

// RMSNorm of x[offset, offset + n) with weight w (n long).
void rmsNorm(Vec& x, std::size_t offset, std::size_t n, const std::vector<float>& w, double eps) {
    double squares = 0.0;
    for (std::size_t i = 0; i < n; ++i)
        squares += x[offset + i] * x[offset + i];
    const double scale = 1.0 / std::sqrt(squares / static_cast<double>(n) + eps);
    for (std::size_t i = 0; i < n; ++i)
        x[offset + i] = x[offset + i] * scale * w[i];
}

void addBias(Vec& x, const std::vector<float>& bias) {
    for (std::size_t i = 0; i < bias.size(); ++i)
        x[i] += bias[i];
}

void rope(Vec& x, int64_t heads, int64_t headDim, int64_t position, const Vec& inverseFrequency) {
    const int64_t half = headDim / 2;
    for (int64_t h = 0; h < heads; ++h) {
        double* head = x.data() + h * headDim;
        for (int64_t i = 0; i < half; ++i) {
            const double angle = static_cast<double>(position) * inverseFrequency[i];
            const double c = std::cos(angle), s = std::sin(angle);
            const double x1 = head[i], x2 = head[i + half];
            head[i] = x1 * c - x2 * s;
            head[i + half] = x2 * c + x1 * s;
        }
    }
}

double silu(double x) {
    return x / (1.0 + std::exp(-x));
}

Vec mlpOf(const MlpWeights& w, const Vec& x, ActivationRounding rounding) {
    const Vec gate = linearOf(w.gate, x, rounding);
    const Vec up = linearOf(w.up, x, rounding);
    Vec act(gate.size());
    for (std::size_t i = 0; i < act.size(); ++i)
        act[i] = silu(gate[i]) * up[i];
    return linearOf(w.down, act, rounding);
}

} // namespace

std::vector<double> ropeInverseFrequencies(int64_t headDim, double theta) {
    std::vector<double> inverse(static_cast<std::size_t>(headDim / 2));
    for (int64_t i = 0; i < headDim / 2; ++i)
        inverse[static_cast<std::size_t>(i)] =
            1.0 / std::pow(theta, static_cast<double>(2 * i) / static_cast<double>(headDim));
    return inverse;
}

namespace {

std::vector<double> softmax(std::span<const double> logits) {
    const double maxLogit = *std::max_element(logits.begin(), logits.end());
    std::vector<double> probs(logits.size());
    double total = 0.0;
    for (std::size_t e = 0; e < probs.size(); ++e)
        total += probs[e] = std::exp(logits[e] - maxLogit);
    for (auto& p : probs)
        p /= total;
    return probs;
}

// The given experts with their router probabilities, renormalised iff normTopk.
std::vector<std::pair<int64_t, double>>
weighted(const std::vector<double>& probs, const std::vector<int64_t>& experts, bool normTopk) {
    std::vector<std::pair<int64_t, double>> chosen;
    double chosenTotal = 0.0;
    for (const int64_t e : experts) {
        if (e < 0 || static_cast<std::size_t>(e) >= probs.size())
            throw EngineError("forced routing names expert " + std::to_string(e) +
                              ", outside the layer's " + std::to_string(probs.size()));
        chosen.emplace_back(e, probs[static_cast<std::size_t>(e)]);
        chosenTotal += probs[static_cast<std::size_t>(e)];
    }
    if (normTopk)
        for (auto& [e, weight] : chosen)
            weight /= chosenTotal;
    return chosen;
}

// The given experts with the weights routeTopK would give them.
std::vector<std::pair<int64_t, double>>
routeTo(std::span<const double> routerLogits, const std::vector<int32_t>& experts, bool normTopk) {
    return weighted(softmax(routerLogits), std::vector<int64_t>(experts.begin(), experts.end()),
                    normTopk);
}

// ---------------------------------------------------------------------------------------------
// DeepSeek-V2/V3 (the Hugging Face modeling_deepseek.py of deepseek-ai's checkpoints, and
// transformers' deepseek_v2/deepseek_v3)

double yarnGetMscale(double scale, double mscale) {
    return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}

// The scores the router picks experts by (softmax or sigmoid of the logits, plus
// e_score_correction_bias where the layer has one), and the unbiased ones the weights come from.
struct DeepseekScores {
    Vec weighting; // softmax (V2) or sigmoid (V3) of the router logits
    Vec choice;    // weighting + e_score_correction_bias (noaux_tc), else weighting
};

DeepseekScores deepseekScores(const ModelConfig& config, const LayerWeights& layer,
                              const Vec& logits) {
    DeepseekScores scores;
    if (config.scoringFunc == "sigmoid") {
        scores.weighting.resize(logits.size());
        for (std::size_t e = 0; e < logits.size(); ++e)
            scores.weighting[e] = 1.0 / (1.0 + std::exp(-logits[e]));
    } else {
        scores.weighting = softmax(logits);
    }
    scores.choice = scores.weighting;
    for (std::size_t e = 0; e < layer.routerBias.size(); ++e)
        scores.choice[e] += layer.routerBias[e];
    return scores;
}

// Indices of the `k` largest of `values`, best first; ties go to the lower index.
std::vector<int64_t> topIndices(const Vec& values, int64_t k) {
    std::vector<int64_t> order(values.size());
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
        const double va = values[static_cast<std::size_t>(a)];
        const double vb = values[static_cast<std::size_t>(b)];
        return va != vb ? va > vb : a < b;
    });
    order.resize(static_cast<std::size_t>(k));
    return order;
}

// MoEGate's selection: greedy top-k over all experts, or over the topk_group best groups, a
// group scored by its best expert (group_limited_greedy) or by the sum of its best two
// (noaux_tc). Experts outside the chosen groups score 0, as HF's masked_fill(..., 0.0) does.
std::vector<int64_t> deepseekSelect(const ModelConfig& config, const Vec& choice) {
    const int64_t k = config.numExpertsPerToken;
    if (config.topkMethod == "greedy")
        return topIndices(choice, k);
    if (config.topkMethod != "group_limited_greedy" && config.topkMethod != "noaux_tc")
        throw EngineError("unsupported topk_method '" + config.topkMethod +
                          "' (greedy, group_limited_greedy or noaux_tc)");
    const int64_t groups = config.numExpertGroups;
    const int64_t perGroup = config.numExperts / groups;
    if (config.topkMethod == "noaux_tc" && perGroup < 2)
        throw EngineError("noaux_tc needs at least two experts per group");
    Vec groupScores(static_cast<std::size_t>(groups));
    for (int64_t g = 0; g < groups; ++g) {
        const Vec members(choice.begin() + g * perGroup, choice.begin() + (g + 1) * perGroup);
        const auto best = topIndices(members, config.topkMethod == "noaux_tc" ? 2 : 1);
        double score = 0.0;
        for (const int64_t i : best)
            score += members[static_cast<std::size_t>(i)];
        groupScores[static_cast<std::size_t>(g)] = score;
    }
    Vec masked(choice.size(), 0.0);
    for (const int64_t g : topIndices(groupScores, config.topkGroups))
        for (int64_t e = g * perGroup; e < (g + 1) * perGroup; ++e)
            masked[static_cast<std::size_t>(e)] = choice[static_cast<std::size_t>(e)];
    return topIndices(masked, k);
}

// The weights of the chosen experts: their unbiased scores, normalised (sum + 1e-20) when
// norm_topk_prob and k > 1, times routed_scaling_factor. V2's MoEGate scales only when it does
// not normalise; V3's always scales.
std::vector<std::pair<int64_t, double>> deepseekWeights(const ModelConfig& config,
                                                        const Vec& weighting,
                                                        const std::vector<int64_t>& experts) {
    std::vector<std::pair<int64_t, double>> chosen;
    double total = 0.0;
    for (const int64_t e : experts) {
        if (e < 0 || static_cast<std::size_t>(e) >= weighting.size())
            throw EngineError("forced routing names expert " + std::to_string(e) +
                              ", outside the layer's " + std::to_string(weighting.size()));
        chosen.emplace_back(e, weighting[static_cast<std::size_t>(e)]);
        total += weighting[static_cast<std::size_t>(e)];
    }
    const bool normalise = config.numExpertsPerToken > 1 && config.normTopkProb;
    const bool scale = config.family == ModelFamily::DeepseekV3 || !normalise;
    for (auto& [e, weight] : chosen) {
        if (normalise)
            weight /= total + 1e-20;
        if (scale)
            weight *= config.routedScalingFactor;
    }
    return chosen;
}

} // namespace

// RoPE of DeepSeek's rope dims: inverse frequencies, YaRN-blended when rope_scaling is yarn
// (DeepseekV3YarnRotaryEmbedding: extrapolated below the correction range, interpolated by
// `factor` above it, a linear ramp between), and the factor cos and sin are multiplied by.
DeepseekRope deepseekRope(const ModelConfig& config) {
    if (!config.ropeScaling.empty() && config.ropeScaling != "yarn")
        throw EngineError("unsupported RoPE scaling '" + config.ropeScaling +
                          "' for DeepSeek (the reference runs yarn or none)");
    const int64_t dim = config.mla.qkRopeHeadDim;
    DeepseekRope rope;
    rope.inverseFrequency = ropeInverseFrequencies(dim, config.ropeTheta);
    rope.softmaxScale = 1.0 / std::sqrt(static_cast<double>(config.mla.qHeadDim()));
    if (config.ropeScaling != "yarn")
        return rope;
    const YarnScaling& yarn = config.yarn;
    const double pi = std::acos(-1.0);
    const auto correctionDim = [&](double rotations) {
        return static_cast<double>(dim) *
               std::log(static_cast<double>(yarn.originalMaxPositionEmbeddings) /
                        (rotations * 2.0 * pi)) /
               (2.0 * std::log(config.ropeTheta));
    };
    const double low = std::max(std::floor(correctionDim(yarn.betaFast)), 0.0);
    double high = std::min(std::ceil(correctionDim(yarn.betaSlow)), static_cast<double>(dim - 1));
    if (low == high)
        high += 0.001;
    for (std::size_t i = 0; i < rope.inverseFrequency.size(); ++i) {
        const double extrapolated = rope.inverseFrequency[i];
        const double interpolated = extrapolated / yarn.factor;
        const double ramp = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
        const double extrapolatedShare = 1.0 - ramp;
        rope.inverseFrequency[i] =
            interpolated * (1.0 - extrapolatedShare) + extrapolated * extrapolatedShare;
    }
    rope.cosSinScale =
        yarnGetMscale(yarn.factor, yarn.mscale) / yarnGetMscale(yarn.factor, yarn.mscaleAllDim);
    if (yarn.mscaleAllDim != 0.0) {
        const double mscale = yarnGetMscale(yarn.factor, yarn.mscaleAllDim);
        rope.softmaxScale *= mscale * mscale;
    }
    return rope;
}

namespace {

// DeepSeek's RoPE acts on interleaved pairs: HF permutes q_pe/k_pe from (d/2, 2) pairs to
// halves before rotate_half, so element 2i pairs with 2i + 1 at frequency i. The result stays in
// pair order here; q and k share the order, so their dot products are HF's.
void ropeInterleaved(double* x, int64_t dim, int64_t position, const DeepseekRope& rope) {
    for (int64_t i = 0; i < dim / 2; ++i) {
        const double angle =
            static_cast<double>(position) * rope.inverseFrequency[static_cast<std::size_t>(i)];
        const double c = std::cos(angle) * rope.cosSinScale;
        const double s = std::sin(angle) * rope.cosSinScale;
        const double a = x[2 * i], b = x[2 * i + 1];
        x[2 * i] = a * c - b * s;
        x[2 * i + 1] = b * c + a * s;
    }
}

// Multi-head latent attention in its plain (expanded) form: every head's no-RoPE key and value
// from kv_b_proj of the normed latent, one RoPE key shared by the heads. Adds the attention
// output to h.
void latentAttention(const ModelConfig& config, const LayerWeights& layer, std::vector<Vec>& h,
                     const DeepseekRope& rope, ActivationRounding rounding) {
    const LatentAttention& m = config.mla;
    const auto hidden = static_cast<std::size_t>(config.hiddenSize);
    const int64_t heads = config.numHeads;
    const int64_t qHead = m.qHeadDim();
    const int64_t nope = m.qkNopeHeadDim, ropeDim = m.qkRopeHeadDim, vDim = m.vHeadDim;
    const std::size_t n = h.size();
    std::vector<Vec> q(n), kNope(n, Vec(static_cast<std::size_t>(heads * nope))),
        value(n, Vec(static_cast<std::size_t>(heads * vDim))), kRope(n);
    for (std::size_t t = 0; t < n; ++t) {
        Vec x = h[t];
        rmsNorm(x, 0, hidden, layer.inputNorm, config.rmsNormEps);
        if (layer.mla.qA.empty()) {
            q[t] = linearOf(layer.q, x, rounding);
        } else {
            Vec qLatent = linearOf(layer.mla.qA, x, rounding);
            rmsNorm(qLatent, 0, qLatent.size(), layer.mla.qANorm, kLatentNormEps);
            q[t] = linearOf(layer.mla.qB, qLatent, rounding);
        }
        const Vec compressed = linearOf(layer.mla.kvA, x, rounding);
        Vec latent(compressed.begin(), compressed.begin() + m.kvLoraRank);
        kRope[t].assign(compressed.begin() + m.kvLoraRank, compressed.end());
        rmsNorm(latent, 0, latent.size(), layer.mla.kvANorm, kLatentNormEps);
        const Vec expanded = linearOf(layer.mla.kvB, latent, rounding);
        for (int64_t head = 0; head < heads; ++head) {
            const double* source = expanded.data() + head * (nope + vDim);
            std::copy(source, source + nope, kNope[t].begin() + head * nope);
            std::copy(source + nope, source + nope + vDim, value[t].begin() + head * vDim);
            ropeInterleaved(q[t].data() + head * qHead + nope, ropeDim, static_cast<int64_t>(t),
                            rope);
        }
        ropeInterleaved(kRope[t].data(), ropeDim, static_cast<int64_t>(t), rope);
    }
    for (std::size_t t = 0; t < n; ++t) {
        Vec attention(static_cast<std::size_t>(heads * vDim), 0.0);
        for (int64_t head = 0; head < heads; ++head) {
            const double* qh = q[t].data() + head * qHead;
            Vec scores(t + 1);
            for (std::size_t j = 0; j <= t; ++j) {
                double dot = 0.0;
                for (int64_t d = 0; d < nope; ++d)
                    dot += qh[d] * kNope[j][static_cast<std::size_t>(head * nope + d)];
                for (int64_t d = 0; d < ropeDim; ++d)
                    dot += qh[nope + d] * kRope[j][static_cast<std::size_t>(d)];
                scores[j] = dot * rope.softmaxScale;
            }
            const double maxScore = *std::max_element(scores.begin(), scores.end());
            double total = 0.0;
            for (double& score : scores)
                total += score = std::exp(score - maxScore);
            for (std::size_t j = 0; j <= t; ++j)
                for (int64_t d = 0; d < vDim; ++d)
                    attention[static_cast<std::size_t>(head * vDim + d)] +=
                        scores[j] / total * value[j][static_cast<std::size_t>(head * vDim + d)];
        }
        const Vec out = linearOf(layer.o, attention, rounding);
        for (std::size_t i = 0; i < hidden; ++i)
            h[t][i] += out[i];
    }
}

} // namespace

DeepseekRouting routeDeepseek(const ModelConfig& config, const LayerWeights& layer,
                              std::span<const double> routerLogits,
                              const std::vector<int32_t>* forced) {
    DeepseekScores scores =
        deepseekScores(config, layer, Vec(routerLogits.begin(), routerLogits.end()));
    const std::vector<int64_t> experts = forced
                                             ? std::vector<int64_t>(forced->begin(), forced->end())
                                             : deepseekSelect(config, scores.choice);
    DeepseekRouting routing;
    routing.chosen = deepseekWeights(config, scores.weighting, experts);
    routing.choice = std::move(scores.choice);
    return routing;
}

std::vector<std::pair<int64_t, double>> routeTopK(std::span<const double> routerLogits, int64_t k,
                                                  bool normTopk) {
    const std::vector<double> probs = softmax(routerLogits);
    std::vector<int64_t> order(probs.size());
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
        const double pa = probs[static_cast<std::size_t>(a)];
        const double pb = probs[static_cast<std::size_t>(b)];
        return pa != pb ? pa > pb : a < b;
    });
    order.resize(static_cast<std::size_t>(k));
    return weighted(probs, order, normTopk);
}

std::vector<std::vector<float>> referenceForward(const Model& model,
                                                 std::span<const int32_t> tokens,
                                                 const ReferenceOptions& options) {
    const ActivationRounding rounding = options.rounding;
    const auto linear = [rounding](const Matrix& w, const Vec& x) {
        return linearOf(w, x, rounding);
    };
    const auto mlp = [rounding](const MlpWeights& w, const Vec& x) {
        return mlpOf(w, x, rounding);
    };
    const ModelConfig& config = model.config;
    const ModelWeights& weights = model.weights;
    const auto hidden = static_cast<std::size_t>(config.hiddenSize);
    const int64_t headDim = config.headDim;
    const int64_t group = config.numHeads / config.numKvHeads;
    const Vec inverseFrequency = ropeInverseFrequencies(headDim, config.ropeTheta);
    const bool latent = config.attention == AttentionKind::Latent;
    const DeepseekRope deepseek = latent ? deepseekRope(config) : DeepseekRope{};
    const std::size_t n = tokens.size();

    std::vector<Vec> h(n, Vec(hidden));
    for (std::size_t t = 0; t < n; ++t) {
        if (tokens[t] < 0 || tokens[t] >= config.vocabSize)
            throw EngineError("token id " + std::to_string(tokens[t]) +
                              " is outside the vocabulary");
        for (std::size_t i = 0; i < hidden; ++i)
            h[t][i] = weights.embed.at(tokens[t], static_cast<int64_t>(i));
    }

    if (options.routerProbabilities)
        options.routerProbabilities->assign(weights.layers.size(), {});
    for (std::size_t layerIndex = 0; layerIndex < weights.layers.size(); ++layerIndex) {
        const LayerWeights& layer = weights.layers[layerIndex];
        std::vector<Vec> q(n), k(n), v(n);
        if (latent)
            latentAttention(config, layer, h, deepseek, rounding);
        for (std::size_t t = 0; t < n && !latent; ++t) {
            Vec x = h[t];
            rmsNorm(x, 0, hidden, layer.inputNorm, config.rmsNormEps);
            q[t] = linear(layer.q, x);
            k[t] = linear(layer.k, x);
            v[t] = linear(layer.v, x);
            addBias(q[t], layer.qBias);
            addBias(k[t], layer.kBias);
            addBias(v[t], layer.vBias);
            if (config.qkNorm == QkNorm::WholeProj) {
                rmsNorm(q[t], 0, q[t].size(), layer.qNorm, config.rmsNormEps);
                rmsNorm(k[t], 0, k[t].size(), layer.kNorm, config.rmsNormEps);
            } else if (config.qkNorm == QkNorm::PerHead) {
                for (int64_t head = 0; head < config.numHeads; ++head)
                    rmsNorm(q[t], static_cast<std::size_t>(head * headDim),
                            static_cast<std::size_t>(headDim), layer.qNorm, config.rmsNormEps);
                for (int64_t head = 0; head < config.numKvHeads; ++head)
                    rmsNorm(k[t], static_cast<std::size_t>(head * headDim),
                            static_cast<std::size_t>(headDim), layer.kNorm, config.rmsNormEps);
            }
            if (config.clipQkv > 0.0)
                for (Vec* projection : {&q[t], &k[t], &v[t]})
                    for (double& value : *projection)
                        value = std::clamp(value, -config.clipQkv, config.clipQkv);
            rope(q[t], config.numHeads, headDim, static_cast<int64_t>(t), inverseFrequency);
            rope(k[t], config.numKvHeads, headDim, static_cast<int64_t>(t), inverseFrequency);
        }
        const double scale = 1.0 / std::sqrt(static_cast<double>(headDim));
        for (std::size_t t = 0; t < n && !latent; ++t) {
            Vec attention(static_cast<std::size_t>(config.qDim()), 0.0);
            for (int64_t head = 0; head < config.numHeads; ++head) {
                const int64_t kvHead = head / group;
                Vec scores(t + 1);
                for (std::size_t j = 0; j <= t; ++j) {
                    double dot = 0.0;
                    for (int64_t d = 0; d < headDim; ++d)
                        dot += q[t][head * headDim + d] * k[j][kvHead * headDim + d];
                    scores[j] = dot * scale;
                }
                const double maxScore = *std::max_element(scores.begin(), scores.end());
                double total = 0.0;
                for (double& s : scores)
                    total += s = std::exp(s - maxScore);
                for (std::size_t j = 0; j <= t; ++j)
                    for (int64_t d = 0; d < headDim; ++d)
                        attention[head * headDim + d] +=
                            scores[j] / total * v[j][kvHead * headDim + d];
            }
            Vec out = linear(layer.o, attention);
            addBias(out, layer.oBias);
            for (std::size_t i = 0; i < hidden; ++i)
                h[t][i] += out[i];
        }
        for (std::size_t t = 0; t < n; ++t) {
            Vec x = h[t];
            rmsNorm(x, 0, hidden, layer.postAttentionNorm, config.rmsNormEps);
            Vec out(hidden, 0.0);
            if (!layer.moe) {
                out = mlp(layer.denseMlp, x);
            } else {
                const Vec logits = linear(layer.router, x);
                const std::vector<int32_t>* forced = nullptr;
                if (options.forcedExperts) {
                    const ExpertChoices& all = *options.forcedExperts;
                    if (layerIndex >= all.size() || t >= all[layerIndex].size())
                        throw EngineError("forced routing has no experts for layer " +
                                          std::to_string(layerIndex) + ", position " +
                                          std::to_string(t));
                    forced = &all[layerIndex][t];
                }
                std::vector<std::pair<int64_t, double>> chosen;
                if (config.deepseek()) {
                    DeepseekRouting routing = routeDeepseek(config, layer, logits, forced);
                    chosen = std::move(routing.chosen);
                    if (options.routerProbabilities) // what the selection compares
                        (*options.routerProbabilities)[layerIndex].push_back(
                            std::move(routing.choice));
                } else {
                    chosen =
                        forced ? routeTo(logits, *forced, config.normTopkProb)
                               : routeTopK(logits, config.numExpertsPerToken, config.normTopkProb);
                    if (options.routerProbabilities)
                        (*options.routerProbabilities)[layerIndex].push_back(softmax(logits));
                }
                for (const auto& [expert, weight] : chosen) {
                    const Vec y = mlp(layer.experts[static_cast<std::size_t>(expert)], x);
                    for (std::size_t i = 0; i < hidden; ++i)
                        out[i] += weight * y[i];
                }
                if (!layer.sharedExpert.gate.empty()) {
                    // Qwen2-MoE gates its shared expert; DeepSeek's are ungated.
                    const double gate =
                        layer.sharedExpertGate.empty()
                            ? 1.0
                            : 1.0 / (1.0 + std::exp(-linear(layer.sharedExpertGate, x)[0]));
                    const Vec y = mlp(layer.sharedExpert, x);
                    for (std::size_t i = 0; i < hidden; ++i)
                        out[i] += gate * y[i];
                }
            }
            for (std::size_t i = 0; i < hidden; ++i)
                h[t][i] += out[i];
        }
    }

    std::vector<std::vector<float>> logits(n);
    for (std::size_t t = 0; t < n; ++t) {
        Vec x = h[t];
        rmsNorm(x, 0, hidden, weights.finalNorm, config.rmsNormEps);
        const Vec row = linear(weights.lmHead, x);
        logits[t].assign(row.begin(), row.end());
    }
    return logits;
}

} // namespace crossroads::inference
