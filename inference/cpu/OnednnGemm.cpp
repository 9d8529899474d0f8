#include "inference/cpu/OnednnGemm.h"

#include <algorithm>

#ifdef CROSSROADS_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>
#endif

#ifdef CROSSROADS_HAVE_ONEDNN
// The OpenMP runtime oneDNN was built with (Debian's: GCC's libgomp), linked by name, so that a
// clang build, whose -fopenmp would bring LLVM's libomp, still sets the threads oneDNN reads.
extern "C" {
void omp_set_num_threads(int threads);
int omp_get_max_threads();
}
#endif

namespace crossroads::inference {

int64_t OnednnWeights::sliceEnd(int64_t slice) const {
    return std::min(rows_, (slice + 1) * sliceRows_);
}

#ifdef CROSSROADS_HAVE_ONEDNN

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dnnl::engine& cpuEngine() {
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

// Products run single-threaded on the pool's threads (see the header). The OpenMP thread count
// is per thread, and a caller may have set its own (a benchmark running oneDNN threaded beside
// the backend, say), so it is checked at every product.
void singleThreaded() {
    if (omp_get_max_threads() != 1)
        omp_set_num_threads(1);
}

// The reference shape a matrix is prepared at: the layout oneDNN wants for BF16 weights does
// not depend on the token count (checked on AVX-512-BF16 from 1 to 1,024 tokens), and a product
// whose kernel wanted another layout would fail to be created, not compute wrongly.
constexpr int64_t kPrepareTokens = 32;

dnnl::memory::desc sourceDesc(int64_t tokens, int64_t cols) {
    return dnnl::memory::desc({tokens, cols}, dt::bf16, tag::ab);
}

// y [tokens x rows], contiguous: with another row stride oneDNN 2.6 leaves brgemm for its
// generic GEMM, and with prepared weights for its reference kernel (hundreds of times slower).
dnnl::matmul::primitive_desc productDesc(int64_t tokens, int64_t cols, int64_t rows,
                                         const dnnl::memory::desc& weights) {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user); // one scratchpad per thread, ours
    const dnnl::memory::desc dst({tokens, rows}, dt::f32, tag::ab);
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(sourceDesc(tokens, cols), weights, dst),
                                        attr, cpuEngine());
}

struct Product {
    dnnl::matmul primitive;
    dnnl::memory::desc scratchpad;
};

// Compiled products by (tokens, cols, slice rows), shared by every matrix of a shape.
// oneDNN compiles one per shape (a few milliseconds, once); an expert's token count takes its
// own rather than a padded one, which cost up to a quarter more work on small counts.
const Product& productFor(int64_t tokens, int64_t cols, int64_t rows,
                          const dnnl::memory::desc& weights) {
    static std::mutex mutex;
    static std::map<std::tuple<int64_t, int64_t, int64_t>, Product> products;
    const std::lock_guard lock(mutex);
    const auto key = std::make_tuple(tokens, cols, rows);
    auto found = products.find(key);
    if (found == products.end()) {
        const auto pd = productDesc(tokens, cols, rows, weights);
        found = products.emplace(key, Product{dnnl::matmul(pd), pd.scratchpad_desc()}).first;
    }
    return found->second;
}

std::string probeKernel() {
    try {
        const dnnl::memory::desc any({kPrepareTokens * 4, 256}, dt::bf16, tag::any);
        const auto pd = productDesc(kPrepareTokens, kPrepareTokens * 4, 256, any);
        return pd.impl_info_str();
    } catch (const dnnl::error&) {
        return "";
    }
}

} // namespace

struct OnednnWeights::Slice {
    dnnl::memory::desc desc;
    dnnl::memory memory;
};

bool onednnAvailable(std::string* why) {
    const std::string kernel = onednnKernelName();
    // A reference kernel ("ref:any") or none: this CPU lacks what BF16 matmul needs.
    if (kernel.empty() || kernel.rfind("ref", 0) == 0) {
        if (why != nullptr)
            *why = kernel.empty() ? "oneDNN has no BF16 matmul on this CPU"
                                  : "oneDNN has only its reference BF16 matmul on this CPU";
        return false;
    }
    return true;
}

std::string onednnKernelName() {
    static const std::string kernel = probeKernel();
    return kernel;
}

bool onednnUsesAmx() {
    return onednnKernelName().find("amx") != std::string::npos;
}

bool onednnSgemmAvailable() {
    return true;
}

void onednnSgemm(bool transposeB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float* c, int64_t ldc) {
    singleThreaded();
    const dnnl_status_t status =
        dnnl_sgemm('N', transposeB ? 'T' : 'N', m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
    if (status != dnnl_success)
        throw EngineError("oneDNN sgemm of " + std::to_string(m) + "x" + std::to_string(k) +
                          " by " + std::to_string(k) + "x" + std::to_string(n) +
                          " failed (status " + std::to_string(static_cast<int>(status)) + ")");
}

double onednnBf16GemmTflops(int threads, int64_t n, int repetitions) {
    std::string why;
    if (!onednnAvailable(&why))
        throw EngineError("oneDNN BF16 GEMM: " + why);
    omp_set_num_threads(std::max(1, threads));
    const dnnl::memory::desc src({n, n}, dt::bf16, tag::ab), dst({n, n}, dt::f32, tag::ab);
    const dnnl::memory::desc any({n, n}, dt::bf16, tag::any);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, any, dst), cpuEngine());
    const dnnl::matmul product(pd);
    std::vector<uint16_t> x(static_cast<std::size_t>(n * n), 0x3c00); // 1/128: no overflow
    dnnl::memory a(src, cpuEngine(), x.data()), w(pd.weights_desc(), cpuEngine()),
        c(dst, cpuEngine());
    dnnl::memory source(dnnl::memory::desc({n, n}, dt::bf16, tag::ab), cpuEngine(), x.data());
    dnnl::stream stream(cpuEngine());
    dnnl::reorder(source, w).execute(stream, source, w);
    double best = 0.0;
    for (int rep = 0; rep <= std::max(1, repetitions); ++rep) { // the first one warms up
        const auto start = std::chrono::steady_clock::now();
        product.execute(stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, c}});
        stream.wait();
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (rep > 0)
            best = std::max(best, 2.0 * static_cast<double>(n * n) * static_cast<double>(n) /
                                      seconds / 1e12);
    }
    omp_set_num_threads(1);
    return best;
}

void setOnednnThreads(int threads) {
    omp_set_num_threads(std::max(1, threads));
}

bool limitOnednnToAvx512Bf16() {
    return dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx512_core_bf16) == dnnl::status::success;
}

OnednnWeights::OnednnWeights(const Matrix& w, int64_t sliceRows)
    : OnednnWeights(std::vector<const Matrix*>{&w}, sliceRows) {}

namespace {

int64_t stackedRows(const std::vector<const Matrix*>& stacked) {
    int64_t rows = 0;
    for (const Matrix* m : stacked)
        rows += m->rows;
    return rows;
}

} // namespace

OnednnWeights::OnednnWeights(const std::vector<const Matrix*>& stacked, int64_t sliceRows)
    : rows_(stackedRows(stacked)), cols_(stacked.empty() ? 0 : stacked.front()->cols),
      sliceRows_(std::max<int64_t>(1, sliceRows)) {
    for (const Matrix* m : stacked)
        if (m->type != WeightType::BF16 || m->cols != cols_)
            throw EngineError("oneDNN prefill takes BF16 weights (of one width, stacked), found " +
                              std::string(weightTypeName(m->type)) + " of " +
                              std::to_string(m->cols) + " columns");
    if (rows_ == 0)
        throw EngineError("oneDNN prefill: nothing to prepare");
    if (stacked.size() == 1) {
        prepare(stacked.front()->row(0)); // no copy of a matrix alone
        return;
    }
    std::vector<std::byte> rowMajor;
    for (const Matrix* m : stacked) {
        const auto* bytes = static_cast<const std::byte*>(m->data);
        rowMajor.insert(rowMajor.end(), bytes, bytes + m->bytes());
    }
    prepare(rowMajor.data());
}

void OnednnWeights::prepare(const std::byte* rowMajor) {
    std::string why;
    if (!onednnAvailable(&why))
        throw EngineError("oneDNN prefill: " + why);
    singleThreaded();
    slices_ = std::make_unique<Slice[]>(static_cast<std::size_t>(slices()));
    dnnl::stream stream(cpuEngine());
    for (int64_t s = 0; s < slices(); ++s) {
        const int64_t rows = sliceEnd(s) - sliceBegin(s);
        // Our rows are oneDNN's weights [cols x rows] with the rows' elements adjacent ("ba").
        const dnnl::memory::desc plain({cols_, rows}, dt::bf16, tag::ba);
        const dnnl::memory::desc any({cols_, rows}, dt::bf16, tag::any);
        Slice& slice = slices_[static_cast<std::size_t>(s)];
        slice.desc = productDesc(kPrepareTokens, cols_, rows, any).weights_desc();
        slice.memory = dnnl::memory(slice.desc, cpuEngine());
        dnnl::memory source(plain, cpuEngine(),
                            const_cast<std::byte*>(rowMajor) +
                                static_cast<std::size_t>(sliceBegin(s) * cols_) * 2);
        dnnl::reorder(source, slice.memory).execute(stream, source, slice.memory);
    }
    stream.wait();
}

std::size_t OnednnWeights::bytes() const {
    std::size_t total = 0;
    for (int64_t s = 0; s < slices(); ++s)
        total += slices_[static_cast<std::size_t>(s)].desc.get_size();
    return total;
}

void OnednnWeights::multiplySlice(int64_t slice, const uint16_t* x, int64_t tokens,
                                  const std::function<void(const float* out)>& consume) const {
    singleThreaded();
    const Slice& prepared = slices_[static_cast<std::size_t>(slice)];
    const int64_t sliceRows = sliceEnd(slice) - sliceBegin(slice);
    const Product& product = productFor(tokens, cols_, sliceRows, prepared.desc);
    thread_local dnnl::stream stream(cpuEngine());
    thread_local std::vector<std::byte> scratchpad;
    thread_local std::vector<float> out;
    scratchpad.resize(std::max(scratchpad.size(), product.scratchpad.get_size()));
    out.resize(static_cast<std::size_t>(tokens * sliceRows));
    dnnl::memory src(sourceDesc(tokens, cols_), cpuEngine(), const_cast<uint16_t*>(x));
    dnnl::memory dst(dnnl::memory::desc({tokens, sliceRows}, dt::f32, tag::ab), cpuEngine(),
                     out.data());
    dnnl::memory pad(product.scratchpad, cpuEngine(), scratchpad.data());
    product.primitive.execute(stream, {{DNNL_ARG_SRC, src},
                                       {DNNL_ARG_WEIGHTS, prepared.memory},
                                       {DNNL_ARG_DST, dst},
                                       {DNNL_ARG_SCRATCHPAD, pad}});
    stream.wait();
    consume(out.data());
}

void OnednnWeights::multiplySlice(int64_t slice, const uint16_t* x, int64_t tokens, float* y,
                                  int64_t yStride) const {
    const int64_t first = sliceBegin(slice);
    const int64_t rows = sliceEnd(slice) - first;
    multiplySlice(slice, x, tokens, [&](const float* out) {
        for (int64_t t = 0; t < tokens; ++t)
            std::copy_n(out + t * rows, rows, y + t * yStride + first);
    });
}

#else // no oneDNN in this build

struct OnednnWeights::Slice {};

bool onednnAvailable(std::string* why) {
    if (why != nullptr)
        *why = "built without oneDNN (libdnnl-dev was not found at configure time)";
    return false;
}

std::string onednnKernelName() {
    return "";
}

bool onednnUsesAmx() {
    return false;
}

bool limitOnednnToAvx512Bf16() {
    return false;
}

void setOnednnThreads(int) {}

bool onednnSgemmAvailable() {
    return false;
}

void onednnSgemm(bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t,
                 float*, int64_t) {
    throw EngineError("oneDNN sgemm: this build has no oneDNN");
}

double onednnBf16GemmTflops(int, int64_t, int) {
    std::string why;
    onednnAvailable(&why);
    throw EngineError("oneDNN BF16 GEMM: " + why);
}

OnednnWeights::OnednnWeights(const Matrix&, int64_t) {
    prepare(nullptr);
}

OnednnWeights::OnednnWeights(const std::vector<const Matrix*>&, int64_t) {
    prepare(nullptr);
}

void OnednnWeights::prepare(const std::byte*) {
    std::string why;
    onednnAvailable(&why);
    throw EngineError("oneDNN prefill: " + why);
}

std::size_t OnednnWeights::bytes() const {
    return 0;
}

void OnednnWeights::multiplySlice(int64_t, const uint16_t*, int64_t, float*, int64_t) const {}
void OnednnWeights::multiplySlice(int64_t, const uint16_t*, int64_t,
                                  const std::function<void(const float*)>&) const {}

#endif

OnednnWeights::~OnednnWeights() = default;
OnednnWeights::OnednnWeights(OnednnWeights&&) noexcept = default;
OnednnWeights& OnednnWeights::operator=(OnednnWeights&&) noexcept = default;

} // namespace crossroads::inference
