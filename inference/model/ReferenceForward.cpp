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
    if (rounding == ActivationRounding::Bf16 && w.type == WeightType::BF16) {
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

} // namespace

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
        for (std::size_t t = 0; t < n; ++t) {
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
        for (std::size_t t = 0; t < n; ++t) {
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
                std::vector<std::pair<int64_t, double>> chosen;
                if (options.forcedExperts) {
                    const ExpertChoices& forced = *options.forcedExperts;
                    if (layerIndex >= forced.size() || t >= forced[layerIndex].size())
                        throw EngineError("forced routing has no experts for layer " +
                                          std::to_string(layerIndex) + ", position " +
                                          std::to_string(t));
                    chosen = routeTo(logits, forced[layerIndex][t], config.normTopkProb);
                } else {
                    chosen = routeTopK(logits, config.numExpertsPerToken, config.normTopkProb);
                }
                if (options.routerProbabilities)
                    (*options.routerProbabilities)[layerIndex].push_back(softmax(logits));
                for (const auto& [expert, weight] : chosen) {
                    const Vec y = mlp(layer.experts[static_cast<std::size_t>(expert)], x);
                    for (std::size_t i = 0; i < hidden; ++i)
                        out[i] += weight * y[i];
                }
                if (!layer.sharedExpert.gate.empty()) {
                    const double gate =
                        1.0 / (1.0 + std::exp(-linear(layer.sharedExpertGate, x)[0]));
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
