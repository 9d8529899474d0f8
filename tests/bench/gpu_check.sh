#!/usr/bin/env bash
# The CUDA backend's checks on a GPU machine, in one go: configure and build the engine on its
# own (no Qt), run the GPU tests, then measure against this device's own ceilings:
#   - cuBLAS BF16 8192^3 matmul rate (best of 10)       -> the prefill ceiling
#   - the engine's bench on CUDA (crossroads-engine bench --json): the backend's own measured
#     TFLOP/s (CudaBackend::measureMatmulTflops, the same measurement) and peak device memory
#   - device read-bandwidth kernel                      -> the decode ceiling
#   - batch-1 BF16 decode, mixtral-8x7b and qwen3-30b-a3b: goal >= 80% of measured bandwidth
#   - 4096-token prefill, expert GEMMs' TFLOP/s:           goal >= 50% of the cuBLAS rate
# Everything goes to $OUT (default build-gpu/gpu-check): build.log, ctest.log (+ LastTest.log),
# cublas.log, engine-bench.json, decode.log, prefill.log and summary.txt (one line per step, the
# measured figures, the RATIO lines and the verdicts). A failing or hanging step is noted and the
# next one runs, so one call gives every diagnostic; only a failed build stops the script.
#
#   tests/bench/gpu_check.sh FOLDER   # FOLDER/nlohmann/json.hpp exists, e.g. /usr/include
#
# On the device machine of this workplace (no package manager there), carry a copy of the
# header folder in the git-ignored .deps/:  mkdir -p .deps && cp -r /usr/include/nlohmann .deps/
# then run `bash tests/bench/gpu_check.sh .deps` with carry [".deps"]; $OUT receives the logs.
#
# Time: every step runs under `timeout`, capped by what is left of GPU_CHECK_BUDGET_S (default
# 450 s, so the whole script ends within ~8 minutes on a 16-core H200 machine even when a step
# hangs); steps past the budget are skipped and say so. Typical run: ~4-5 minutes.
#
# Presets are truncated (?layers=N) so synthesising and uploading the weights stays quick; per
# layer the shapes and the bytes read per token are the real ones. Override with
# MIXTRAL_LAYERS, QWEN3_LAYERS, PREFILL_TOKENS, GEN_TOKENS; GPU_CHECK_BUILD names another build
# folder (default build-gpu).
set -u -o pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-$repo/build-gpu/gpu-check}
build=${GPU_CHECK_BUILD:-$repo/build-gpu}
mkdir -p "$out"
summary=$out/summary.txt
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }

budget=${GPU_CHECK_BUDGET_S:-450}
started=$SECONDS
# run_step NAME CAP_S LOG COMMAND...: appends the command and its output to LOG, under a timeout
# of CAP_S or what is left of the budget, whichever is less; notes the outcome in the summary and
# returns the command's status (124 when it timed out, 125 when skipped).
run_step() {
    local name=$1 cap=$2 log=$3
    shift 3
    local left=$((budget - (SECONDS - started)))
    if [ "$left" -lt 20 ]; then
        note "$name: SKIPPED (the ${budget}s budget is spent)"
        return 125
    fi
    local limit=$((cap < left ? cap : left)) begin=$SECONDS status
    echo "\$ $*" >>"$log"
    timeout --kill-after=10 "$limit" "$@" >>"$log" 2>&1
    status=$?
    local took=$((SECONDS - begin))
    if [ $status -eq 124 ] || [ $status -eq 137 ]; then
        note "$name: TIMED OUT after ${limit}s (see $(basename "$log"))"
    elif [ $status -ne 0 ]; then
        note "$name: FAILED, exit $status after ${took}s (see $(basename "$log"))"
    else
        note "$name: ok (${took}s)"
    fi
    return $status
}

note "gpu_check $(date -u +%Y-%m-%dT%H:%M:%SZ) commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown), budget ${budget}s"
nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.max.sm \
    --format=csv,noheader 2>&1 | tee -a "$summary"
note "host: $(nproc) cores, $(free -g 2>/dev/null | awk '/^Mem:/ {print $2 " GiB"}')"

if [ $# -lt 1 ]; then
    note "usage: $0 NLOHMANN_JSON_INCLUDE_DIR"
    exit 2
fi
if ! json_dir=$(cd "$1" 2>/dev/null && pwd) || [ ! -f "$json_dir/nlohmann/json.hpp" ]; then
    note "no nlohmann/json.hpp under '$1' (carry a copy, see the header of this script)"
    exit 2
fi
# nvcc is often installed but not on PATH; check_language(CUDA) looks on PATH.
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
    export PATH=/usr/local/cuda/bin:$PATH
fi
note "nvcc: $(nvcc --version 2>/dev/null | tail -1 || echo 'not found')"

# 1. Configure and build the engine standalone: the GPU test, the tools, the backend test.
: >"$out/build.log"
if ! run_step "configure" 90 "$out/build.log" \
        cmake -S "$repo/inference" -B "$build" -DNLOHMANN_JSON_INCLUDE_DIR="$json_dir" \
        -DCMAKE_BUILD_TYPE=Release ||
    ! run_step "build" 300 "$out/build.log" \
        cmake --build "$build" -j"$(nproc)" --target inference_cuda_test crossroads-cublas-rate \
        crossroads-cuda-bench crossroads-engine inference_backend_test; then
    for file in CMakeFiles/CMakeConfigureLog.yaml CMakeFiles/CMakeError.log; do
        [ -f "$build/$file" ] && cp "$build/$file" "$out/"
    done
    note "BUILD FAILED; the last errors:"
    grep -E -m 20 "error|Error" "$out/build.log" | tee -a "$summary"
    tail -20 "$out/build.log"
    exit 1
fi
note "build: $(grep -m1 -E 'CUDA backend:|No CUDA compiler' "$out/build.log" | sed 's/^-- //')"
if [ ! -x "$build/cuda/crossroads-cublas-rate" ]; then
    note "the engine was built without CUDA (see build.log): nothing to check on the GPU"
    exit 1
fi

# 2. The GPU tests (kernels vs references, CUDA forward vs the CPU reference forward), and the
# backend test, which picks CUDA for `auto` here.
: >"$out/ctest.log"
run_step "ctest (inference_cuda_test, inference_backend_test)" 200 "$out/ctest.log" \
    ctest --test-dir "$build" -R '^(inference_cuda_test|inference_backend_test)$' \
    --output-on-failure
ctest_status=$?
[ -f "$build/Testing/Temporary/LastTest.log" ] && cp "$build/Testing/Temporary/LastTest.log" "$out/"
grep -E "tests passed|Passed|Failed|Skipped|FAILED|SKIP" "$out/ctest.log" | head -30 |
    tee -a "$summary"
# Every kernel's and forward's error against its reference, with the tolerance: the margins.
if [ -f "$out/LastTest.log" ]; then
    note "inference_cuda_test figures:"
    grep -E "tolerance|refused|GB/s|TFLOP/s|MiB|device:|grouping|gatherRows|NaN" \
        "$out/LastTest.log" | tee -a "$summary"
fi

# 3. The cuBLAS BF16 matmul rate (the same measurement as CudaBackend::measureMatmulTflops).
: >"$out/cublas.log"
run_step "cuBLAS matmul rate" 60 "$out/cublas.log" "$build/cuda/crossroads-cublas-rate" 8192 10
matmul_tflops=$(awk '/^CUBLAS_BF16_TFLOPS/ {print $2}' "$out/cublas.log")
matmul_n=$(awk '/^CUBLAS_BF16_N/ {print $2}' "$out/cublas.log")
note "cuBLAS BF16 ${matmul_n:-?}^3: ${matmul_tflops:-unknown} TFLOP/s"
grep -m1 "not enough free device memory" "$out/cublas.log" | tee -a "$summary"

# 4. The engine's own bench on CUDA: measured_tflops comes from CudaBackend::measureMatmulTflops,
# peak_memory_bytes from its allocation counter.
: >"$out/engine-bench.log"
run_step "crossroads-engine bench (cuda)" 120 "$out/engine-bench.log" \
    "$build/crossroads-engine" bench --model "preset:qwen3-30b-a3b?layers=2" --backend cuda \
    --prompt 512 --gen 32 --repetitions 2 --json
# The JSON is the output after the command line the log starts with.
sed -n '/^{/,/^}/p' "$out/engine-bench.log" >"$out/engine-bench.json"
for key in measured_tflops measured_bandwidth_gb_per_s peak_memory_bytes tokens_per_s \
    achieved_tflops fraction_of_measured_tflops fraction_of_measured_bandwidth; do
    values=$(grep -oE "\"$key\": [^,]*" "$out/engine-bench.json" | sed 's/.*: //' | paste -sd' ')
    [ -n "$values" ] && note "engine bench $key: $values"
done

# 5. Batch-1 decode against the device read kernel (graphs on; once off, for the difference).
mixtral_layers=${MIXTRAL_LAYERS:-8}
qwen3_layers=${QWEN3_LAYERS:-24}
prefill_tokens=${PREFILL_TOKENS:-4096}
gen_tokens=${GEN_TOKENS:-64}
: >"$out/decode.log"
for model in "preset:mixtral-8x7b?layers=$mixtral_layers" "preset:qwen3-30b-a3b?layers=$qwen3_layers"; do
    run_step "decode $model" 120 "$out/decode.log" \
        "$build/cuda/crossroads-cuda-bench" decode "$model" "$gen_tokens"
done
run_step "decode preset:qwen3-30b-a3b?layers=$qwen3_layers (no graphs)" 120 "$out/decode.log" \
    "$build/cuda/crossroads-cuda-bench" decode "preset:qwen3-30b-a3b?layers=$qwen3_layers" \
    "$gen_tokens" --no-graphs

# 6. A 4096-token prefill: the expert GEMMs' rate against cuBLAS's (grouped call, then the loop).
: >"$out/prefill.log"
for model in "preset:mixtral-8x7b?layers=2" "preset:qwen3-30b-a3b?layers=4"; do
    for path in auto loop; do
        run_step "prefill $model ($path)" 75 "$out/prefill.log" \
            "$build/cuda/crossroads-cuda-bench" prefill "$model" "$prefill_tokens" --path "$path" \
            --matmul-tflops "${matmul_tflops:-0}"
    done
done

# Verdicts against the goals.
note ""
grep -h "^RATIO" "$out/decode.log" "$out/prefill.log" | while read -r line; do
    percent=$(echo "$line" | sed -E 's/.* = ([0-9.]+)%.*/\1/')
    goal=50
    case "$line" in RATIO\ decode*) goal=80 ;; esac
    verdict=$(awk -v p="$percent" -v g="$goal" 'BEGIN {print (p >= g) ? "meets" : "BELOW"}')
    note "$line [$verdict goal]"
done
grep -h "device read kernel\|decode batch 1\|decode GPU-only\|prefill [0-9]* tokens\|measureMatmulTflops\|peak device memory" \
    "$out/decode.log" "$out/prefill.log" | tee -a "$summary"
note "gpu_check done in $((SECONDS - started))s"
exit $ctest_status
