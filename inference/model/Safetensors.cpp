#include "inference/model/Safetensors.h"

#include "inference/model/StrictJson.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace crossroads::inference {

using nlohmann::json;

namespace {

struct DTypeEntry {
    DType dtype;
    std::string_view name;
    int bits;
};
constexpr std::array<DTypeEntry, 19> kDTypes = {{
    {DType::Bool, "BOOL", 8},       {DType::U8, "U8", 8},           {DType::I8, "I8", 8},
    {DType::F8_E5M2, "F8_E5M2", 8}, {DType::F8_E4M3, "F8_E4M3", 8}, {DType::F8_E8M0, "F8_E8M0", 8},
    {DType::I16, "I16", 16},        {DType::U16, "U16", 16},        {DType::F16, "F16", 16},
    {DType::BF16, "BF16", 16},      {DType::I32, "I32", 32},        {DType::U32, "U32", 32},
    {DType::F32, "F32", 32},        {DType::F64, "F64", 64},        {DType::I64, "I64", 64},
    {DType::U64, "U64", 64},        {DType::F4, "F4", 4},           {DType::F6_E2M3, "F6_E2M3", 6},
    {DType::F6_E3M2, "F6_E3M2", 6},
}};

// Overflow-checked arithmetic: a header may claim any shape.
bool mulOverflows(uint64_t a, uint64_t b, uint64_t& out) {
    return __builtin_mul_overflow(a, b, &out);
}

std::string errorPrefix(std::string_view what) {
    return std::string(what) + ": ";
}

} // namespace

std::optional<DType> dtypeFromName(std::string_view name) {
    for (const auto& entry : kDTypes)
        if (entry.name == name)
            return entry.dtype;
    return std::nullopt;
}

std::string_view dtypeName(DType dtype) {
    for (const auto& entry : kDTypes)
        if (entry.dtype == dtype)
            return entry.name;
    return "?";
}

int dtypeBits(DType dtype) {
    for (const auto& entry : kDTypes)
        if (entry.dtype == dtype)
            return entry.bits;
    return 0;
}

float f16ToFloat(uint16_t bits) {
    const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
    uint32_t exponent = (bits >> 10) & 0x1fu;
    uint32_t mantissa = bits & 0x3ffu;
    uint32_t out;
    if (exponent == 0x1f) {
        out = sign | 0x7f800000u | (mantissa << 13);
    } else if (exponent != 0) {
        out = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        out = sign;
    } else { // subnormal: normalise
        exponent = 113;
        while ((mantissa & 0x400u) == 0) {
            mantissa <<= 1;
            --exponent;
        }
        out = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
    }
    float value;
    std::memcpy(&value, &out, sizeof value);
    return value;
}

uint16_t floatToF16(float value) {
    // Round to nearest even, by hand: clang 14 has no _Float16 on x86-64.
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
    const uint32_t magnitude = bits & 0x7fffffffu;
    if (magnitude > 0x7f800000u)
        return static_cast<uint16_t>(sign | 0x7e00u); // NaN
    if (magnitude >= 0x47800000u)
        return static_cast<uint16_t>(sign | 0x7c00u); // >= 65536: infinity
    if (magnitude < 0x38800000u) {                    // below 2^-14: subnormal or zero
        float absolute;
        std::memcpy(&absolute, &magnitude, sizeof absolute);
        return static_cast<uint16_t>(sign |
                                     static_cast<uint16_t>(std::lrint(absolute * 16777216.0f)));
    }
    const uint32_t mantissa = magnitude & 0x7fffffu;
    uint32_t half = (((magnitude >> 23) - 112u) << 10) | (mantissa >> 13);
    const uint32_t rest = mantissa & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u)))
        ++half; // a carry into the exponent is correct, up to infinity
    return static_cast<uint16_t>(sign | half);
}

int64_t TensorInfo::elementCount() const {
    int64_t count = 1;
    for (const int64_t dim : shape)
        count *= dim;
    return count;
}

SafetensorsHeader parseSafetensorsHeader(std::span<const std::byte> file, std::string_view what) {
    const std::string prefix = errorPrefix(what);
    if (file.size() < 8)
        throw EngineError(prefix + "file of " + std::to_string(file.size()) +
                          " bytes is too small to hold the 8-byte header length");
    uint64_t headerBytes = 0;
    for (int i = 7; i >= 0; --i)
        headerBytes = (headerBytes << 8) | static_cast<uint8_t>(file[static_cast<std::size_t>(i)]);
    // Checked before anything is allocated from it.
    if (headerBytes > kMaxSafetensorsHeaderBytes)
        throw EngineError(prefix + "header length " + std::to_string(headerBytes) +
                          " exceeds the 100,000,000-byte limit");
    if (headerBytes + 8 > file.size())
        throw EngineError(prefix + "header length " + std::to_string(headerBytes) +
                          " runs past the end of the file (" + std::to_string(file.size()) +
                          " bytes)");
    const std::string_view text(reinterpret_cast<const char*>(file.data() + 8), headerBytes);
    if (text.empty() || text.front() != '{')
        throw EngineError(prefix + "header does not start with '{'");
    const json header = parseStrictJson(text, std::string(what) + " header");
    if (!header.is_object())
        throw EngineError(prefix + "header is not a JSON object");

    SafetensorsHeader out;
    out.dataOffset = 8 + headerBytes;
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object())
                throw EngineError(prefix + "__metadata__ is not an object");
            for (const auto& [key, value] : entry.items()) {
                if (!value.is_string())
                    throw EngineError(prefix + "__metadata__ value of \"" + key +
                                      "\" is not a string");
                out.metadata[key] = value.get<std::string>();
            }
            continue;
        }
        const std::string tensorPrefix = prefix + "tensor \"" + name + "\": ";
        if (!entry.is_object())
            throw EngineError(tensorPrefix + "entry is not an object");
        for (const auto& [key, value] : entry.items())
            if (key != "dtype" && key != "shape" && key != "data_offsets")
                throw EngineError(tensorPrefix + "unknown key \"" + key + "\"");
        TensorInfo info;
        info.name = name;
        const auto dtype = entry.find("dtype");
        if (dtype == entry.end() || !dtype->is_string())
            throw EngineError(tensorPrefix + "missing or non-string \"dtype\"");
        const auto parsedDtype = dtypeFromName(dtype->get<std::string>());
        if (!parsedDtype)
            throw EngineError(tensorPrefix + "unknown dtype \"" + dtype->get<std::string>() + "\"");
        info.dtype = *parsedDtype;

        const auto shape = entry.find("shape");
        if (shape == entry.end() || !shape->is_array())
            throw EngineError(tensorPrefix + "missing or non-array \"shape\"");
        uint64_t elements = 1;
        for (const auto& dim : *shape) {
            if (!dim.is_number_unsigned())
                throw EngineError(tensorPrefix + "shape holds " + dim.dump() +
                                  ", not a non-negative integer");
            const uint64_t size = dim.get<uint64_t>();
            if (size > static_cast<uint64_t>(INT64_MAX) || mulOverflows(elements, size, elements))
                throw EngineError(tensorPrefix + "shape " + shape->dump() + " overflows");
            info.shape.push_back(static_cast<int64_t>(size));
        }
        if (elements > static_cast<uint64_t>(INT64_MAX))
            throw EngineError(tensorPrefix + "shape " + shape->dump() + " overflows");

        const auto offsets = entry.find("data_offsets");
        if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 ||
            !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned())
            throw EngineError(tensorPrefix + "\"data_offsets\" must be two non-negative integers");
        info.begin = (*offsets)[0].get<uint64_t>();
        info.end = (*offsets)[1].get<uint64_t>();
        if (info.end < info.begin)
            throw EngineError(tensorPrefix + "data_offsets end before they begin");

        uint64_t bits = 0;
        if (mulOverflows(elements, static_cast<uint64_t>(dtypeBits(info.dtype)), bits))
            throw EngineError(tensorPrefix + "size in bytes overflows");
        if (bits % 8 != 0)
            throw EngineError(tensorPrefix + "sub-byte tensor does not fill whole bytes");
        if (info.end - info.begin != bits / 8)
            throw EngineError(tensorPrefix + "data_offsets span " +
                              std::to_string(info.end - info.begin) + " bytes but shape " +
                              shape->dump() + " of " + std::string(dtypeName(info.dtype)) +
                              " needs " + std::to_string(bits / 8));
        out.tensors.push_back(std::move(info));
    }

    // The data section must be tiled exactly: no gaps, no overlaps, nothing after the last byte.
    std::sort(out.tensors.begin(), out.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t expected = 0;
    for (const auto& info : out.tensors) {
        if (info.begin != expected)
            throw EngineError(
                prefix + "tensor \"" + info.name + "\" starts at byte " +
                std::to_string(info.begin) + " of the data but " +
                (info.begin < expected ? "overlaps the previous tensor" : "leaves a gap") +
                " (expected " + std::to_string(expected) + ")");
        expected = info.end;
    }
    const uint64_t dataBytes = file.size() - out.dataOffset;
    if (expected != dataBytes)
        throw EngineError(prefix + "tensors cover " + std::to_string(expected) +
                          " bytes of data but the file holds " + std::to_string(dataBytes) +
                          (expected < dataBytes ? " (trailing bytes)" : " (truncated file)"));
    return out;
}

MappedFile::MappedFile(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw EngineError("cannot open " + path.string() + ": " + std::strerror(errno));
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        ::close(fd);
        throw EngineError(path.string() + " is not a regular file");
    }
    size_ = static_cast<std::size_t>(info.st_size);
    if (size_ > 0) {
        void* mapped = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (mapped == MAP_FAILED) {
            const int error = errno;
            ::close(fd);
            throw EngineError("cannot map " + path.string() + ": " + std::strerror(error));
        }
        data_ = static_cast<const std::byte*>(mapped);
    }
    ::close(fd);
}

MappedFile::~MappedFile() {
    if (data_ != nullptr)
        ::munmap(const_cast<std::byte*>(data_), size_);
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path)
    : name_(path.string()), map_(std::make_shared<MappedFile>(path)),
      header_(parseSafetensorsHeader(map_->bytes(), name_)) {
    for (std::size_t i = 0; i < header_.tensors.size(); ++i)
        byName_.emplace(header_.tensors[i].name, i);
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
    const auto it = byName_.find(name);
    return it == byName_.end() ? nullptr : &header_.tensors[it->second];
}

TensorView SafetensorsFile::view(const TensorInfo& info) const {
    return TensorView{&info, map_->bytes().data() + header_.dataOffset + info.begin, name_};
}

Checkpoint::Checkpoint(const std::filesystem::path& folder) : folder_(folder) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(folder))
        throw EngineError("model folder " + folder.string() + " does not exist");
    const fs::path index = folder / "model.safetensors.index.json";
    if (fs::exists(index)) {
        std::ifstream in(index, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        const json parsed = parseStrictJson(text.str(), index.string());
        const auto map = parsed.is_object() ? parsed.find("weight_map") : parsed.end();
        if (map == parsed.end() || !map->is_object())
            throw EngineError(index.string() + ": missing object \"weight_map\"");
        std::map<std::string, std::size_t> fileIndex;
        for (const auto& [tensor, shard] : map->items()) {
            if (!shard.is_string())
                throw EngineError(index.string() + ": shard of \"" + tensor + "\" is not a string");
            const std::string shardName = shard.get<std::string>();
            // Shards are plain names in the folder: a path could reach outside it.
            if (shardName.empty() || shardName.find('/') != std::string::npos ||
                shardName.find('\\') != std::string::npos || shardName == "." || shardName == "..")
                throw EngineError(index.string() + ": shard name \"" + shardName +
                                  "\" is not a plain file name");
            auto [it, added] = fileIndex.emplace(shardName, files_.size());
            if (added)
                files_.push_back(std::make_unique<SafetensorsFile>(folder / shardName));
            if (files_[it->second]->find(tensor) == nullptr)
                throw EngineError(index.string() + ": tensor \"" + tensor + "\" is listed in " +
                                  shardName + " but that shard does not hold it");
            fileOfTensor_.emplace(tensor, it->second);
        }
        return;
    }
    const fs::path single = folder / "model.safetensors";
    if (!fs::exists(single))
        throw EngineError("no model.safetensors or model.safetensors.index.json in " +
                          folder.string());
    files_.push_back(std::make_unique<SafetensorsFile>(single));
    for (const auto& info : files_.front()->header().tensors)
        fileOfTensor_.emplace(info.name, 0);
}

TensorView Checkpoint::find(std::string_view name) const {
    const auto it = fileOfTensor_.find(name);
    if (it == fileOfTensor_.end())
        return {};
    const SafetensorsFile& file = *files_[it->second];
    return file.view(*file.find(name));
}

std::vector<std::string> Checkpoint::tensorNames() const {
    std::vector<std::string> names;
    for (const auto& [name, file] : fileOfTensor_)
        names.push_back(name);
    return names;
}

void writeSafetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    json header = json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const auto& tensor : tensors) {
        header[tensor.name] = {{"dtype", dtypeName(tensor.dtype)},
                               {"shape", tensor.shape},
                               {"data_offsets", {offset, offset + tensor.bytes.size()}}};
        offset += tensor.bytes.size();
    }
    std::string text = header.dump();
    // The format pads the header with spaces to an 8-byte multiple so the data stays aligned.
    while (text.size() % 8 != 0)
        text.push_back(' ');
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out)
        throw EngineError("cannot write " + path.string());
    uint64_t length = text.size();
    std::array<char, 8> lengthBytes{};
    for (auto& byte : lengthBytes) {
        byte = static_cast<char>(length & 0xffu);
        length >>= 8;
    }
    out.write(lengthBytes.data(), lengthBytes.size());
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& tensor : tensors)
        out.write(reinterpret_cast<const char*>(tensor.bytes.data()),
                  static_cast<std::streamsize>(tensor.bytes.size()));
    if (!out)
        throw EngineError("failed writing " + path.string());
}

} // namespace crossroads::inference
