#include "inference/ReferenceForward.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace crossroads::inference {

namespace {

using Vec = std::vector<double>;

Vec linear(const Matrix& w, const Vec& x) {
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

Vec mlp(const MlpWeights& w, const Vec& x) {
    const Vec gate = linear(w.gate, x);
    const Vec up = linear(w.up, x);
    Vec act(gate.size());
    for (std::size_t i = 0; i < act.size(); ++i)
        act[i] = silu(gate[i]) * up[i];
    return linear(w.down, act);
}

} // namespace

std::vector<double> ropeInverseFrequencies(int64_t headDim, double theta) {
    std::vector<double> inverse(static_cast<std::size_t>(headDim / 2));
    for (int64_t i = 0; i < headDim / 2; ++i)
        inverse[static_cast<std::size_t>(i)] =
            1.0 / std::pow(theta, static_cast<double>(2 * i) / static_cast<double>(headDim));
    return inverse;
}

std::vector<std::pair<int64_t, double>> routeTopK(std::span<const double> routerLogits, int64_t k,
                                                  bool normTopk) {
    const double maxLogit = *std::max_element(routerLogits.begin(), routerLogits.end());
    std::vector<double> probs(routerLogits.size());
    double total = 0.0;
    for (std::size_t e = 0; e < probs.size(); ++e)
        total += probs[e] = std::exp(routerLogits[e] - maxLogit);
    for (auto& p : probs)
        p /= total;
    std::vector<int64_t> order(probs.size());
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
        const double pa = probs[static_cast<std::size_t>(a)];
        const double pb = probs[static_cast<std::size_t>(b)];
        return pa != pb ? pa > pb : a < b;
    });
    std::vector<std::pair<int64_t, double>> chosen;
    double chosenTotal = 0.0;
    for (int64_t i = 0; i < k; ++i) {
        const int64_t e = order[static_cast<std::size_t>(i)];
        chosen.emplace_back(e, probs[static_cast<std::size_t>(e)]);
        chosenTotal += probs[static_cast<std::size_t>(e)];
    }
    if (normTopk)
        for (auto& [e, weight] : chosen)
            weight /= chosenTotal;
    return chosen;
}

std::vector<std::vector<float>> referenceForward(const Model& model,
                                                 std::span<const int32_t> tokens) {
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

    for (const LayerWeights& layer : weights.layers) {
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
                for (const auto& [expert, weight] :
                     routeTopK(logits, config.numExpertsPerToken, config.normTopkProb)) {
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
