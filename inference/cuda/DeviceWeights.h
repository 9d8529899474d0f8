// A model's weights on the device, uploaded once as BF16 (F32 checkpoints are converted on the
// host: the kernels and cuBLAS read one element type) and laid out for the kernels rather than as
// the checkpoint stores them: q/k/v stacked into one matrix and each gate with its up, so that a
// layer's projections are one product each instead of two or three; a layer's experts contiguous
// ([E][2I][H], [E][H][I]), so that an expert is an offset the grouped GEMM's pointers and the
// expert GEMVs compute on the device; the shared expert's gate as the router's last row, so that
// one product gives both.
#pragma once

#include "inference/cuda/CudaCheck.h"
#include "inference/cuda/ModelDims.h"
#include "inference/model/Weights.h"

#include <vector>

namespace crossroads::inference::gpu {

struct DeviceLayer {
    bool moe = false;
    DeviceBuffer<float> inputNorm, postNorm, qkvBias, oBias, qNorm, kNorm; // empty when absent
    DeviceBuffer<bf16> qkv, o;                   // [qDim + 2 kvDim x H], [H x qDim]
    DeviceBuffer<bf16> router;                   // [E (+1: shared expert gate) x H]
    DeviceBuffer<bf16> expertGateUp, expertDown; // [E][2I][H], [E][H][I]
    DeviceBuffer<bf16> sharedGateUp, sharedDown; // Qwen2-MoE
    DeviceBuffer<bf16> denseGateUp, denseDown;   // layers without experts
};

struct DeviceWeights {
    DeviceBuffer<bf16> embed, lmHeadOwned;
    const bf16* lmHead = nullptr; // the embedding when the head is tied (one copy), else owned
    DeviceBuffer<float> finalNorm;
    DeviceBuffer<double> inverseFrequency; // RoPE theta^(-2i/d), i < d/2
    std::vector<DeviceLayer> layers;

    // Throws EngineError when a matrix is not of the shape `dims` says, or out of device memory.
    void upload(const Model& model, const ModelDims& dims);

    // The norm applied after layer l: the next layer's input norm, or the final norm (the
    // kernels that end a layer normalise for whatever comes next).
    const float* nextNorm(int l) const;
};

} // namespace crossroads::inference::gpu
