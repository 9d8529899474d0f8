// The CUDA backend's entry points in plain C++ (no CUDA headers), for Backend.cpp to call when
// the engine was built with nvcc (CROSSROADS_HAVE_CUDA).
#pragma once

#include "inference/backend/Backend.h"

#include <memory>
#include <string>

namespace crossroads::inference {

// True when a CUDA device can be used; otherwise false with the driver's reason in `why`
// ("no CUDA device: CUDA driver version is insufficient for CUDA runtime version", ...).
bool cudaDeviceStatus(std::string* why);

// Uploads the model's weights to device 0 as BF16 (F32 checkpoints are converted). Throws
// EngineError when no device is present, the model does not fit or its shapes are unsupported.
std::unique_ptr<Backend> makeCudaBackend(const Model& model);

} // namespace crossroads::inference
