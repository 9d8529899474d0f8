// The engine's one error type.
#pragma once

#include <stdexcept>

namespace crossroads::inference {

// Every engine error is one of these: a message that names the problem (file, tensor, field).
class EngineError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace crossroads::inference
