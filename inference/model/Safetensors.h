// safetensors reading: u64 little-endian header length N, N bytes of JSON, then the data.
// The header is validated with every check of the reference parser (huggingface/safetensors
// tensor.rs) plus duplicate-key rejection; files are memory-mapped, never read whole.
#pragma once

#include "inference/model/Tensor.h"

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::inference {

inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    uint64_t begin = 0; // byte offsets relative to the start of the data section
    uint64_t end = 0;

    int64_t elementCount() const; // shape product (checked at parse time)
};

struct SafetensorsHeader {
    std::vector<TensorInfo> tensors; // sorted by data offset
    std::map<std::string, std::string> metadata;
    uint64_t dataOffset = 0; // 8 + N
};

// Validates the whole file image (header and the data section's extent). `what` names the file
// in error messages. Throws EngineError; never reads outside `file`.
SafetensorsHeader parseSafetensorsHeader(std::span<const std::byte> file, std::string_view what);

// A read-only memory map of a whole file.
class MappedFile {
public:
    explicit MappedFile(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    std::span<const std::byte> bytes() const { return {data_, size_}; }

private:
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

// One tensor of a checkpoint: where its bytes are, and what they are.
struct TensorView {
    const TensorInfo* info = nullptr;
    const std::byte* data = nullptr;
    std::string file; // for messages
};

class SafetensorsFile {
public:
    explicit SafetensorsFile(const std::filesystem::path& path);
    const SafetensorsHeader& header() const { return header_; }
    const TensorInfo* find(std::string_view name) const;
    TensorView view(const TensorInfo& info) const;
    const std::string& name() const { return name_; }

private:
    std::string name_;
    std::shared_ptr<MappedFile> map_;
    SafetensorsHeader header_;
    std::map<std::string, std::size_t, std::less<>> byName_;
};

// A checkpoint folder: model.safetensors, or shards listed by model.safetensors.index.json.
class Checkpoint {
public:
    explicit Checkpoint(const std::filesystem::path& folder);
    // nullopt-like: view.info == nullptr when absent.
    TensorView find(std::string_view name) const;
    std::vector<std::string> tensorNames() const;
    const std::filesystem::path& folder() const { return folder_; }

private:
    std::filesystem::path folder_;
    std::vector<std::unique_ptr<SafetensorsFile>> files_;
    std::map<std::string, std::size_t, std::less<>> fileOfTensor_;
};

// Writes a safetensors file (for tests and tools): tensors in the given order, contiguous.
struct TensorToWrite {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    std::vector<std::byte> bytes;
};
void writeSafetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

} // namespace crossroads::inference
