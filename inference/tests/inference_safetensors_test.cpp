#include "Check.h"
#include "inference/model/Safetensors.h"

#include <fstream>
#include <random>

using namespace crossroads::inference;

namespace {

std::vector<std::byte> image(const std::string& header, std::size_t dataBytes,
                             uint64_t lengthOverride = 0) {
    std::vector<std::byte> out(8);
    uint64_t length = lengthOverride ? lengthOverride : header.size();
    for (int i = 0; i < 8; ++i) {
        out[static_cast<std::size_t>(i)] = static_cast<std::byte>(length & 0xff);
        length >>= 8;
    }
    for (const char c : header)
        out.push_back(static_cast<std::byte>(c));
    out.resize(out.size() + dataBytes, std::byte{0x3f});
    return out;
}

SafetensorsHeader parse(const std::vector<std::byte>& bytes) {
    return parseSafetensorsHeader(bytes, "test.safetensors");
}

const std::string kGood = R"({"__metadata__":{"format":"pt"},)"
                          R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                          R"("b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]}})";

void validFiles() {
    const SafetensorsHeader h = parse(image(kGood, 32));
    CHECK(h.tensors.size() == 2 && h.metadata.at("format") == "pt");
    CHECK(h.tensors[0].name == "a" && h.tensors[0].shape == std::vector<int64_t>({2, 3}));
    CHECK(h.tensors[1].dtype == DType::BF16 && h.tensors[1].begin == 24);
    CHECK(h.dataOffset == 8 + kGood.size());
    // Zero-element tensors and an empty header are legal.
    CHECK(parse(image(R"({"z":{"dtype":"F16","shape":[0,5],"data_offsets":[0,0]}})", 0))
              .tensors.size() == 1);
    CHECK(parse(image("{}", 0)).tensors.empty());
    // Sub-byte F4 that fills whole bytes; trailing spaces pad the header.
    CHECK(parse(image(R"({"q":{"dtype":"F4","shape":[4],"data_offsets":[0,2]}}   )", 2))
              .tensors.size() == 1);
}

void rejectsMalformedHeaders() {
    CHECK_THROWS_WITH(parse(std::vector<std::byte>(5)), "too small");
    CHECK_THROWS_WITH(parse(image("{}", 0, 100'000'001)), "exceeds the 100,000,000-byte limit");
    CHECK_THROWS_WITH(parse(image("{}", 0, 4000)), "runs past the end of the file");
    CHECK_THROWS_WITH(parse(image(" {}", 0)), "does not start with '{'");
    CHECK_THROWS_WITH(parse(image("{\"a\":", 0)), "invalid JSON");
    CHECK_THROWS_WITH(parse(image("{\"\xff\xfe\":{}}", 0)), "invalid JSON");
    CHECK_THROWS_WITH(parse(image("[1]", 0)), "does not start with '{'");
    CHECK_THROWS_WITH(parse(image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                  R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                  8)),
                      "duplicate JSON key \"a\"");
    CHECK_THROWS_WITH(parse(image(R"({"a":{"dtype":"F32","dtype":"I8","shape":[1],)"
                                  R"("data_offsets":[0,4]}})",
                                  4)),
                      "duplicate JSON key \"dtype\"");
    CHECK_THROWS_WITH(parse(image(R"({"__metadata__":{"k":1}})", 0)), "is not a string");
    CHECK_THROWS_WITH(parse(image(R"({"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}})", 4)),
                      "unknown dtype \"Q4\"");
    CHECK_THROWS_WITH(parse(image(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4)),
                      "not a non-negative integer");
    CHECK_THROWS_WITH(
        parse(image(R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4)),
        "not a non-negative integer");
    CHECK_THROWS_WITH(parse(image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4)),
                      "data_offsets");
    CHECK_THROWS_WITH(parse(image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4)),
                      "end before they begin");
    CHECK_THROWS_WITH(parse(image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],)"
                                  R"("extra":1}})",
                                  4)),
                      "unknown key \"extra\"");
    CHECK_THROWS_WITH(parse(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4)),
                      "needs 8");
    // shape x dtype that overflows 64 bits must not wrap around to a small size.
    CHECK_THROWS_WITH(parse(image(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],)"
                                  R"("data_offsets":[0,0]}})",
                                  0)),
                      "overflows");
    CHECK_THROWS_WITH(parse(image(R"({"a":{"dtype":"F64","shape":[1152921504606846976,8],)"
                                  R"("data_offsets":[0,0]}})",
                                  0)),
                      "overflows");
    CHECK_THROWS_WITH(parse(image(R"({"q":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}})", 2)),
                      "whole bytes");
}

void rejectsBadDataLayout() {
    CHECK_THROWS_WITH(parse(image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                  R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                                  12)),
                      "leaves a gap");
    CHECK_THROWS_WITH(parse(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                  R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                  8)),
                      "overlaps");
    CHECK_THROWS_WITH(parse(image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)),
                      "leaves a gap");
    CHECK_THROWS_WITH(parse(image(kGood, 40)), "trailing bytes");
    CHECK_THROWS_WITH(parse(image(kGood, 31)), "truncated file");
}

// Random corruptions of a valid file: each is accepted or rejected with EngineError, never a
// crash or another exception (the libFuzzer target does this at scale under sanitizers).
void mutationsNeverCrash() {
    const std::vector<std::byte> good = image(kGood, 32);
    std::mt19937_64 random(7);
    int rejected = 0;
    for (int round = 0; round < 3000; ++round) {
        std::vector<std::byte> bytes = good;
        const int edits = 1 + static_cast<int>(random() % 4);
        for (int e = 0; e < edits; ++e) {
            const std::size_t at = random() % bytes.size();
            switch (random() % 3) {
            case 0:
                bytes[at] = static_cast<std::byte>(random() & 0xff);
                break;
            case 1:
                bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(at));
                break;
            default:
                bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                             static_cast<std::byte>("{}[]\",:0123456789"[random() % 17]));
            }
        }
        try {
            parse(bytes);
        } catch (const EngineError&) {
            ++rejected;
        } catch (const std::exception& error) {
            check::fail(__FILE__, __LINE__, std::string("non-engine exception: ") + error.what());
        }
    }
    CHECK(rejected > 2500);
}

void filesAndShards() {
    check::TempDir dir;
    std::vector<TensorToWrite> tensors = {
        {"x", DType::F32, {2}, std::vector<std::byte>(8, std::byte{1})},
        {"y", DType::BF16, {3}, std::vector<std::byte>(6, std::byte{2})}};
    writeSafetensors(dir.path / "model.safetensors", tensors, {{"format", "pt"}});
    SafetensorsFile file(dir.path / "model.safetensors");
    CHECK(file.find("y") != nullptr && file.find("z") == nullptr);
    CHECK(file.view(*file.find("y")).data[0] == std::byte{2});

    // Truncating a real file on disk is caught.
    std::filesystem::resize_file(dir.path / "model.safetensors",
                                 std::filesystem::file_size(dir.path / "model.safetensors") - 1);
    CHECK_THROWS_WITH(SafetensorsFile(dir.path / "model.safetensors"), "truncated file");
    CHECK_THROWS_WITH(SafetensorsFile(dir.path / "missing.safetensors"), "cannot open");
    std::ofstream(dir.path / "empty.safetensors").close();
    CHECK_THROWS_WITH(SafetensorsFile(dir.path / "empty.safetensors"), "too small");

    // Sharded: the index names shards; everything it lists must be in them.
    check::TempDir sharded;
    writeSafetensors(sharded.path / "a.safetensors", {tensors[0]});
    writeSafetensors(sharded.path / "b.safetensors", {tensors[1]});
    const auto writeIndex = [&](const std::string& text) {
        std::ofstream(sharded.path / "model.safetensors.index.json") << text;
    };
    writeIndex(R"({"metadata":{},"weight_map":{"x":"a.safetensors","y":"b.safetensors"}})");
    const Checkpoint checkpoint(sharded.path);
    CHECK(checkpoint.find("x").info != nullptr && checkpoint.find("y").info->dtype == DType::BF16);
    CHECK(checkpoint.find("nope").info == nullptr);
    writeIndex(R"({"weight_map":{"x":"a.safetensors","y":"a.safetensors"}})");
    CHECK_THROWS_WITH(Checkpoint(sharded.path), "that shard does not hold it");
    writeIndex(R"({"weight_map":{"x":"../a.safetensors"}})");
    CHECK_THROWS_WITH(Checkpoint(sharded.path), "not a plain file name");
    writeIndex(R"({"weight_map":{"x":"c.safetensors"}})");
    CHECK_THROWS_WITH(Checkpoint(sharded.path), "cannot open");
    writeIndex(R"({"weight_map":{"x":"a.safetensors","x":"b.safetensors"}})");
    CHECK_THROWS_WITH(Checkpoint(sharded.path), "duplicate JSON key \"x\"");
    writeIndex(R"({"metadata":{}})");
    CHECK_THROWS_WITH(Checkpoint(sharded.path), "weight_map");
    check::TempDir empty;
    CHECK_THROWS_WITH(Checkpoint(empty.path), "no model.safetensors");
    CHECK_THROWS_WITH(Checkpoint(empty.path / "absent"), "does not exist");
}

void conversions() {
    for (const float value : {0.0f, 1.0f, -2.5f, 3.14159f, 1e-3f, 65504.0f, -6.1e-5f}) {
        CHECK_NEAR(f16ToFloat(floatToF16(value)), value, std::fabs(value) * 1e-3 + 1e-7);
        CHECK_NEAR(bf16ToFloat(floatToBf16(value)), value, std::fabs(value) * 4e-3);
    }
    CHECK(floatToBf16(1.0f) == 0x3f80);
    CHECK(floatToF16(1.0f) == 0x3c00 && floatToF16(-2.0f) == 0xc000);
    CHECK(floatToF16(65504.0f) == 0x7bff && floatToF16(65520.0f) == 0x7c00);
    CHECK(floatToF16(1.0f + 1.0f / 2048.0f) == 0x3c00); // tie to even
    CHECK(floatToF16(5.9604645e-8f) == 0x0001 && floatToF16(1e-9f) == 0x0000);
    for (uint32_t half = 0; half < 0x7c00; ++half) // every finite half survives a round trip
        if (floatToF16(f16ToFloat(static_cast<uint16_t>(half))) != half)
            check::fail(__FILE__, __LINE__, "f16 round trip of " + std::to_string(half));
    CHECK(f16ToFloat(0x0001) > 0.0f && f16ToFloat(0x0001) < 1e-7f); // subnormal
    CHECK(std::isinf(f16ToFloat(0x7c00)) && std::isnan(f16ToFloat(0x7e00)));
    CHECK(floatToBf16(1.00390625f) == 0x3f80); // ties round to even
    CHECK(dtypeBits(DType::F6_E2M3) == 6 && dtypeFromName("F8_E4M3") == DType::F8_E4M3);
}

} // namespace

int main() {
    try {
        validFiles();
        rejectsMalformedHeaders();
        rejectsBadDataLayout();
        mutationsNeverCrash();
        filesAndShards();
        conversions();
    } catch (const std::exception& error) {
        check::fail(__FILE__, __LINE__, std::string("unexpected exception: ") + error.what());
    }
    return check::finish("inference_safetensors_test");
}
