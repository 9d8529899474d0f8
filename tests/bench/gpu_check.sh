#!/usr/bin/env bash
# The CUDA backend's checks on a GPU machine, in one go: configure and build the engine on its
# own (no Qt), run the GPU tests, then measure against this device's own ceilings:
#   - cuBLAS BF16 8192^3 matmul rate (best of 10)       -> the prefill ceiling
#   - device read-bandwidth kernel                      -> the decode ceiling
#   - batch-1 BF16 decode, mixtral-8x7b and qwen3-30b-a3b: goal >= 80% of measured bandwidth
#   - 4096-token prefill, expert GEMMs' TFLOP/s:           goal >= 50% of the cuBLAS rate
# Everything goes to $OUT (default build-gpu/gpu-check): build.log, ctest.log, cublas.log,
# decode.log, prefill.log and summary.txt (the RATIO lines and the verdicts).
#
#   tests/bench/gpu_check.sh FOLDER   # FOLDER/nlohmann/json.hpp exists, e.g. /usr/include
#
# On the device machine of this workplace (no package manager there), carry a copy of the
# header folder in the git-ignored .deps/:  mkdir -p .deps && cp -r /usr/include/nlohmann .deps/
# then run `tests/bench/gpu_check.sh .deps` with carry [".deps"]; $OUT receives the logs.
#
# Presets are truncated (?layers=N) so synthesising and uploading the weights stays quick; per
# layer the shapes and the bytes read per token are the real ones. Override with
# MIXTRAL_LAYERS, QWEN3_LAYERS, PREFILL_TOKENS, GEN_TOKENS.
set -u -o pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 NLOHMANN_JSON_INCLUDE_DIR" >&2
    exit 2
fi
json_dir=$(cd "$1" && pwd) || exit 2
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-$repo/build-gpu/gpu-check}
build=$repo/build-gpu
mkdir -p "$out"
mixtral_layers=${MIXTRAL_LAYERS:-8}
qwen3_layers=${QWEN3_LAYERS:-24}
prefill_tokens=${PREFILL_TOKENS:-4096}
gen_tokens=${GEN_TOKENS:-64}
summary=$out/summary.txt
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }

note "gpu_check $(date -u +%Y-%m-%dT%H:%M:%SZ) commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee -a "$summary"

# 1. Configure and build the engine standalone.
if ! { cmake -S "$repo/inference" -B "$build" -DNLOHMANN_JSON_INCLUDE_DIR="$json_dir" \
         -DCMAKE_BUILD_TYPE=Release &&
       cmake --build "$build" -j"$(nproc)"; } >"$out/build.log" 2>&1; then
    note "BUILD FAILED (see build.log)"
    tail -30 "$out/build.log"
    exit 1
fi
note "build: ok ($(grep -m1 'CUDA backend:' "$out/build.log" | sed 's/^-- //'))"

# 2. The GPU tests (kernels vs references, CUDA forward vs the CPU reference forward).
ctest --test-dir "$build" -L gpu --output-on-failure >"$out/ctest.log" 2>&1
ctest_status=$?
note "ctest -L gpu: $([ $ctest_status -eq 0 ] && echo passed || echo "FAILED ($ctest_status)")"
grep -E "Passed|Failed|Skipped|error|FAILED" "$out/ctest.log" | head -20 | tee -a "$summary"

# 3. The cuBLAS BF16 matmul rate.
"$build/cuda/crossroads-cublas-rate" 8192 10 >"$out/cublas.log" 2>&1
matmul_tflops=$(awk '/^CUBLAS_BF16_TFLOPS/ {print $2}' "$out/cublas.log")
note "cuBLAS BF16 8192^3: ${matmul_tflops:-unknown} TFLOP/s"
if [ -z "$matmul_tflops" ]; then
    note "no usable CUDA device ($(tail -1 "$out/cublas.log")): benchmarks skipped"
    exit 1
fi

# 4. Batch-1 decode against the device read kernel (graphs on; once off, for the difference).
: >"$out/decode.log"
for model in "preset:mixtral-8x7b?layers=$mixtral_layers" "preset:qwen3-30b-a3b?layers=$qwen3_layers"; do
    "$build/cuda/crossroads-cuda-bench" decode "$model" "$gen_tokens" >>"$out/decode.log" 2>&1 ||
        note "decode $model FAILED"
done
"$build/cuda/crossroads-cuda-bench" decode "preset:qwen3-30b-a3b?layers=$qwen3_layers" \
    "$gen_tokens" --no-graphs >>"$out/decode.log" 2>&1 || note "decode (no graphs) FAILED"

# 5. A 4096-token prefill: the expert GEMMs' rate against cuBLAS's (grouped call, then the loop).
: >"$out/prefill.log"
for model in "preset:mixtral-8x7b?layers=2" "preset:qwen3-30b-a3b?layers=4"; do
    for path in auto loop; do
        "$build/cuda/crossroads-cuda-bench" prefill "$model" "$prefill_tokens" --path "$path" \
            --matmul-tflops "${matmul_tflops:-0}" >>"$out/prefill.log" 2>&1 ||
            note "prefill $model ($path) FAILED"
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
grep -h "device read kernel\|decode batch 1\|decode GPU-only\|prefill [0-9]* tokens" "$out/decode.log" \
    "$out/prefill.log" | tee -a "$summary"
exit $ctest_status
