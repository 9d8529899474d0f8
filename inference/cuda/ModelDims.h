// The model's sizes as the CUDA backend's kernels take them: int, because the kernels index with
// int, and checked once when the backend starts against what the kernels support (16-byte BF16
// rows, head_dim, the expert count one block can group), so that no launch has to check again.
// The weight upload, the KV caches, the workspace and the forward pass all size by these.
#pragma once

#include "inference/cuda/CudaKernels.h"
#include "inference/model/ModelConfig.h"

#include <cstdint>

namespace crossroads::inference::gpu {

// `value` as an int; EngineError naming `what` when it is negative or does not fit.
int toInt(int64_t value, const char* what);

struct ModelDims {
    int hidden = 0, vocab = 0, layers = 0, experts = 0, topK = 0, inter = 0, sharedInter = 0,
        denseInter = 0;
    int qkvRows = 0;    // the fused q/k/v matrix: qDim + 2 kvDim
    int routerRows = 0; // the router, plus the shared expert's gate as its last row
    AttentionShape shape;
    float eps = 0;
    bool hasShared = false;
};

// Throws EngineError naming the first size the CUDA backend cannot run.
ModelDims modelDims(const ModelConfig& config);

} // namespace crossroads::inference::gpu
