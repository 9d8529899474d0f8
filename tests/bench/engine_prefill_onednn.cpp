// The whole CPU prefill against oneDNN's GEMMs alone on the same shapes, in one run.
//   bench_engine_prefill_onednn [--model M]... [--prompt N] [--rounds N] [--threads T]
// For each model the backend prefills the prompt once to learn its routing (how many tokens each
// expert of each layer gets); the peer then runs exactly the products of that prefill through
// oneDNN: q, k, v, o (MLA: qA, qB, kvA, kvB), the router, every routed expert's gate, up and down
// at its own token count, shared experts and dense MLPs, the LM head row. The peer gets its best
// setup, untimed: weights reordered into the layout its kernel asks for, every primitive created
// beforehand, and two ways of threading, of which the faster counts (oneDNN's OpenMP threads inside
// each product, or the products spread over the threads one per thread). Ours is timed whole:
// attention, norms, routing, gathers and all, with the native kernels (no oneDNN at all) and with
// the backend's oneDNN path, its attention on oneDNN's sgemm and, beside it, on our packed GEMM.
// Each round times the peer and then ours (a shared machine drifts; both figures of a round see the
// same machine) and the ratio printed is the median of the rounds' ratios: ours / oneDNN's GEMMs
// alone, below 1 when the whole prefill is faster. An FP8 model (DeepSeek-V3) is timed native
// only, against oneDNN's BF16 GEMMs of the same shapes (Peer::standIn). Prints the ratios; never
// fails on them (a benchmark, not a test).
#include "inference/base/ThreadPool.h"
#include "inference/bench/Bench.h"
#include "inference/cpu/CpuBackend.h"
#include "inference/cpu/Kernels.h"
#include "inference/cpu/OnednnGemm.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

using namespace crossroads::inference;

namespace {

using Clock = std::chrono::steady_clock;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

double seconds(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Options {
    std::vector<std::string> models;
    int64_t prompt = 256;
    int rounds = 5;
    int threads = 0;
};

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc)
            throw std::runtime_error("usage: bench_engine_prefill_onednn [--model M]... "
                                     "[--prompt N] [--rounds N] [--threads T]");
        const char* value = argv[++i];
        if (arg == "--model")
            options.models.push_back(value);
        else if (arg == "--prompt")
            options.prompt = std::max<int64_t>(1, std::atoll(value));
        else if (arg == "--rounds")
            options.rounds = std::max(1, std::atoi(value));
        else if (arg == "--threads")
            options.threads = std::atoi(value);
        else
            throw std::runtime_error("unknown option " + arg);
    }
    if (options.models.empty())
        options.models = {"preset:qwen3-30b-a3b?layers=2", "preset:mixtral-8x7b?layers=1"};
    return options;
}

// oneDNN's GEMMs of one prefill: a product per (matrix, token count), all set up beforehand.
class Peer {
public:
    // One engine for every peer of the run: the threads' streams outlive a peer.
    Peer() : engine_(sharedEngine()), stream_(engine_) {}

    void add(const Matrix& w, int64_t tokens) {
        Product p;
        p.tokens = tokens;
        p.cols = w.cols;
        p.rows = w.rows;
        const dnnl::memory::desc src({tokens, w.cols}, dt::bf16, tag::ab);
        const dnnl::memory::desc any({w.cols, w.rows}, dt::bf16, tag::any);
        const dnnl::memory::desc dst({tokens, w.rows}, dt::f32, tag::ab);
        // A scratchpad of its own per thread: oneDNN's shared one is not for concurrent products.
        dnnl::primitive_attr attr;
        attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
        const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, any, dst), attr, engine_);
        p.primitive = dnnl::matmul(pd);
        p.scratchpad = pd.scratchpad_desc();
        kernel_ = pd.impl_info_str();
        // The matrix's prepared copy is shared by its products (one per token count).
        const void* key = w.type == WeightType::BF16 ? w.data : standIn(w);
        auto found = prepared_.find(key);
        if (found == prepared_.end()) {
            std::vector<uint16_t> filled;
            if (w.type != WeightType::BF16) // only shapes matter: the stand-in's values are 1.0
                filled.assign(static_cast<std::size_t>(w.rows * w.cols), 0x3f80);
            const dnnl::memory::desc plain({w.cols, w.rows}, dt::bf16, tag::ba);
            dnnl::memory source(plain, engine_,
                                filled.empty() ? const_cast<void*>(w.data) : filled.data());
            dnnl::memory target(pd.weights_desc(), engine_);
            dnnl::reorder(source, target).execute(stream_, source, target);
            stream_.wait();
            found = prepared_.emplace(key, target).first;
        }
        p.weights = found->second;
        p.src = dnnl::memory(src, engine_, nullptr); // the shared input, bound in ready()
        p.dst = dnnl::memory(dst, engine_);
        products_.push_back(std::move(p));
    }

    // OpenMP threads inside each product.
    // Binds every product to one input buffer, sized for the largest (only shapes matter here),
    // once all are added: a buffer that grew while they were added would leave earlier ones
    // pointing at freed memory.
    void ready() {
        std::size_t largest = 0;
        for (const Product& p : products_)
            largest = std::max(largest, static_cast<std::size_t>(p.tokens * p.cols));
        inputs_.assign(largest, 0x3c00);
        for (Product& p : products_)
            p.src.set_data_handle(inputs_.data());
    }

    double runThreaded(int threads) {
        setOnednnThreads(threads);
        const auto start = Clock::now();
        for (Product& p : products_)
            execute(p, stream_);
        stream_.wait();
        return seconds(start);
    }

    // The products spread over the pool's threads, each one single-threaded.
    double runSpread(ThreadPool& pool) {
        const auto start = Clock::now();
        pool.parallelFor(static_cast<int64_t>(products_.size()), [&](int64_t i) {
            thread_local const bool single = [] {
                setOnednnThreads(1);
                return true;
            }();
            (void)single;
            thread_local dnnl::stream stream(engine_);
            execute(products_[static_cast<std::size_t>(i)], stream);
            stream.wait();
        });
        return seconds(start);
    }

    double flops() const {
        double total = 0;
        for (const Product& p : products_)
            total += 2.0 * static_cast<double>(p.tokens * p.cols * p.rows);
        return total;
    }
    std::size_t products() const { return products_.size(); }
    const std::string& kernel() const { return kernel_; }

private:
    struct Product {
        int64_t tokens = 0, cols = 0, rows = 0;
        dnnl::matmul primitive;
        dnnl::memory::desc scratchpad;
        dnnl::memory weights, src, dst;
    };

    // oneDNN 2.6 multiplies no FP8, so the peer of an FP8 model (DeepSeek-V3's) gets BF16
    // weights of the same shapes, as it would of the BF16 checkpoint. Copies of all 256 experts
    // of a layer would not fit beside the model (22 GB at BF16), so the matrices of one shape
    // take turns over a ring of at least kRingBytes of stand-ins: each product still streams
    // its weights from memory, no cache holds the ring, and the peer reads two bytes per weight
    // where ours reads one.
    static constexpr std::size_t kRingBytes = std::size_t{512} << 20;
    const void* standIn(const Matrix& w) {
        Ring& ring = rings_[{w.rows, w.cols}];
        const auto seen = ring.assigned.find(w.data); // another token count, the same matrix
        if (seen != ring.assigned.end())
            return seen->second;
        const std::size_t bytes = static_cast<std::size_t>(w.rows * w.cols) * 2;
        const std::size_t size = std::max<std::size_t>(1, (kRingBytes + bytes - 1) / bytes);
        if (ring.slots.size() < size)
            ring.slots.push_back(std::make_unique<char>());
        return ring.assigned[w.data] = ring.slots[ring.next++ % size].get();
    }

    void execute(Product& p, dnnl::stream& stream) {
        thread_local std::vector<std::byte> buffer;
        buffer.resize(std::max(buffer.size(), p.scratchpad.get_size()));
        dnnl::memory scratchpad(p.scratchpad, engine_, buffer.data());
        p.primitive.execute(stream, {{DNNL_ARG_SRC, p.src},
                                     {DNNL_ARG_WEIGHTS, p.weights},
                                     {DNNL_ARG_DST, p.dst},
                                     {DNNL_ARG_SCRATCHPAD, scratchpad}});
    }

    static dnnl::engine& sharedEngine() {
        static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
        return engine;
    }

    dnnl::engine& engine_;
    dnnl::stream stream_;
    std::map<const void*, dnnl::memory> prepared_;
    struct Ring {
        std::vector<std::unique_ptr<char>> slots; // their addresses name the stand-ins
        std::size_t next = 0;
        std::map<const void*, const void*> assigned; // matrix -> its stand-in
    };
    std::map<std::pair<int64_t, int64_t>, Ring> rings_;
    std::vector<Product> products_;
    std::vector<uint16_t> inputs_; // BF16 ones, shared by every product
    std::string kernel_;
};

} // namespace

int main(int argc, char** argv) {
    try {
        const Options options = parse(argc, argv);
        std::string why;
        if (!onednnAvailable(&why))
            throw std::runtime_error("oneDNN cannot run here: " + why);
        for (const std::string& spec : options.models) {
            const Model model = [&] {
                ThreadPool pool(options.threads);
                return loadModel(spec, &pool);
            }();
            CpuBackend native(model, options.threads, {PrefillGemm::Native});
            // The backend's oneDNN path takes BF16 weights only; an FP8 model runs native.
            const bool bf16 = model.weights.type == WeightType::BF16;
            std::optional<CpuBackend> viaOnednn, viaOnednnPacked;
            if (bf16) {
                viaOnednn.emplace(model, options.threads, CpuBackendOptions{PrefillGemm::Onednn});
                CpuBackendOptions packedAttention{PrefillGemm::Onednn};
                packedAttention.onednnAttention = false;
                viaOnednnPacked.emplace(model, options.threads, packedAttention);
            }
            std::vector<int32_t> prompt;
            for (int64_t i = 0; i < options.prompt; ++i)
                prompt.push_back(static_cast<int32_t>((i * 7919 + 13) % model.config.vocabSize));
            const auto prefill = [&](CpuBackend& backend) {
                const SequenceId sequence = backend.newSequence();
                const auto start = Clock::now();
                backend.prefill(sequence, prompt);
                const double elapsed = seconds(start);
                backend.releaseSequence(sequence);
                return elapsed;
            };
            const auto prefillIf = [&](std::optional<CpuBackend>& backend) {
                return backend ? prefill(*backend) : 0.0;
            };
            prefill(native); // warm-up; its routing is what the peer multiplies
            prefillIf(viaOnednn);
            prefillIf(viaOnednnPacked);
            const ExpertChoices routing = native.lastRouting();

            Peer peer;
            const auto tokens = static_cast<int64_t>(prompt.size());
            for (std::size_t l = 0; l < model.weights.layers.size(); ++l) {
                const LayerWeights& layer = model.weights.layers[l];
                // MLA (DeepSeek): q or qA and qB, kvA, and kvB once over the prompt's latents
                // (the expansion a GEMM-based prefill does, as many FLOPs as the backend's two
                // absorbed products with it); k and v are empty then.
                for (const Matrix* m : {&layer.q, &layer.k, &layer.v, &layer.o, &layer.mla.qA,
                                        &layer.mla.qB, &layer.mla.kvA, &layer.mla.kvB})
                    if (!m->empty())
                        peer.add(*m, tokens);
                const auto addMlp = [&](const MlpWeights& mlp, int64_t count) {
                    for (const Matrix* m : {&mlp.gate, &mlp.up, &mlp.down})
                        peer.add(*m, count);
                };
                if (!layer.moe) {
                    addMlp(layer.denseMlp, tokens);
                    continue;
                }
                peer.add(layer.router, tokens);
                std::map<int32_t, int64_t> counts;
                for (const auto& row : routing[l])
                    for (const int32_t e : row)
                        ++counts[e];
                for (const auto& [expert, count] : counts)
                    addMlp(layer.experts[static_cast<std::size_t>(expert)], count);
                if (!layer.sharedExpert.gate.empty())
                    addMlp(layer.sharedExpert, tokens);
            }
            peer.add(model.weights.lmHead, 1);
            const int threads = native.pool().size();
            peer.ready();
            peer.runThreaded(threads); // warm-up
            peer.runSpread(native.pool());

            std::vector<double> nativeRatios, onednnRatios, packedRatios, peerSeconds,
                nativeSeconds, onednnSeconds, packedSeconds;
            for (int round = 0; round < options.rounds; ++round) {
                const double best =
                    std::min(peer.runThreaded(threads), peer.runSpread(native.pool()));
                const double ours = prefill(native);
                const double oursOnednn = prefillIf(viaOnednn);
                const double oursPacked = prefillIf(viaOnednnPacked);
                peerSeconds.push_back(best);
                nativeSeconds.push_back(ours);
                onednnSeconds.push_back(oursOnednn);
                nativeRatios.push_back(ours / best);
                onednnRatios.push_back(oursOnednn / best);
                packedSeconds.push_back(oursPacked);
                packedRatios.push_back(oursPacked / best);
            }
            const std::string weights = bf16
                                            ? "BF16"
                                            : std::string(weightTypeName(model.weights.type)) +
                                                  " (the peer's BF16 stand-ins of the same shapes)";
            std::printf("%s, %s weights, %lld tokens, %d threads: oneDNN GEMMs alone (%zu "
                        "products, %s, %.1f GFLOP) %.3f s; our whole prefill %.3f s native (%s)",
                        spec.c_str(), weights.c_str(), static_cast<long long>(tokens), threads,
                        peer.products(), peer.kernel().c_str(), peer.flops() / 1e9,
                        quantile(peerSeconds, 0.5), quantile(nativeSeconds, 0.5),
                        std::string(isaName(activeIsa())).c_str());
            if (bf16)
                std::printf(", %.3f s via oneDNN, %.3f s via oneDNN with attention on the packed "
                            "GEMM",
                            quantile(onednnSeconds, 0.5), quantile(packedSeconds, 0.5));
            std::printf(" (medians of %d rounds)\n", options.rounds);
            std::printf("RATIO prefill %-32s whole native / oneDNN GEMMs alone = %.2f",
                        spec.c_str(), quantile(nativeRatios, 0.5));
            if (bf16)
                std::printf(", whole via oneDNN / oneDNN GEMMs alone = %.2f (attention on the "
                            "packed GEMM: %.2f)",
                            quantile(onednnRatios, 0.5), quantile(packedRatios, 0.5));
            std::printf(" (median of %d paired rounds)\n", options.rounds);
            std::fflush(stdout);
        }
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench_engine_prefill_onednn: %s\n", error.what());
        return 1;
    }
}
