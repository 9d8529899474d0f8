#include "Check.h"
#include "inference/model/Cost.h"
#include "inference/model/Presets.h"
#include "inference/model/Weights.h"

#include <nlohmann/json.hpp>

using namespace crossroads::inference;
using nlohmann::json;

namespace {

json preset(const char* name) {
    return json::parse(presetConfigJson(name));
}

void presetsMatchTheReferenceTable() {
    CHECK(presetNames().size() == 6);
    const ModelConfig mixtral = presetConfig("mixtral-8x7b");
    CHECK(mixtral.family == ModelFamily::Mixtral);
    CHECK(mixtral.hiddenSize == 4096 && mixtral.numLayers == 32 && mixtral.numExperts == 8);
    CHECK(mixtral.numExpertsPerToken == 2 && mixtral.expertIntermediateSize == 14336);
    CHECK(mixtral.numHeads == 32 && mixtral.numKvHeads == 8 && mixtral.headDim == 128);
    CHECK(mixtral.normTopkProb && mixtral.vocabSize == 32000 && mixtral.ropeTheta == 1e6);

    const ModelConfig qwen2 = presetConfig("qwen1.5-moe-a2.7b");
    CHECK(qwen2.family == ModelFamily::Qwen2Moe && qwen2.numExperts == 60);
    CHECK(qwen2.numExpertsPerToken == 4 && qwen2.expertIntermediateSize == 1408);
    CHECK(qwen2.sharedExpertIntermediateSize == 5632 && !qwen2.normTopkProb);
    CHECK(qwen2.attentionBias && qwen2.vocabSize == 151936);

    const ModelConfig qwen3 = presetConfig("qwen3-30b-a3b");
    CHECK(qwen3.numExperts == 128 && qwen3.numExpertsPerToken == 8);
    CHECK(qwen3.expertIntermediateSize == 768 && qwen3.headDim == 128);
    CHECK(qwen3.numHeads == 32 && qwen3.numKvHeads == 4 && qwen3.normTopkProb);
    CHECK(qwen3.qkNorm == QkNorm::PerHead && !qwen3.attentionBias);

    const ModelConfig olmoe = presetConfig("olmoe-1b-7b");
    CHECK(olmoe.numExperts == 64 && olmoe.numExpertsPerToken == 8);
    CHECK(olmoe.expertIntermediateSize == 1024 && olmoe.vocabSize == 50304);
    CHECK(olmoe.qkNorm == QkNorm::WholeProj && !olmoe.normTopkProb && olmoe.clipQkv == 0.0);

    // Total / active parameters of the reference table (billions), within 2%.
    const auto near = [](double value, double billions) {
        return std::fabs(value / 1e9 - billions) <= 0.02 * billions;
    };
    CHECK(near(totalParameters(mixtral), 46.7));
    CHECK(near(activeParametersPerToken(mixtral) + 32000.0 * 4096, 12.9));
    CHECK(near(totalParameters(qwen2), 14.3));
    CHECK(near(totalParameters(qwen3), 30.5));
    CHECK(near(totalParameters(olmoe), 6.9));
}

// DeepSeek-V2/V3 (MLA): parsed for the projection; the CUDA backend refuses them by name.
void deepseekConfigs() {
    const ModelConfig v3 = presetConfig("deepseek-v3");
    CHECK(v3.family == ModelFamily::DeepseekV3 && v3.attention == AttentionKind::Latent);
    CHECK(v3.hiddenSize == 7168 && v3.numLayers == 61 && v3.numHeads == 128);
    CHECK(v3.mla.qLoraRank == 1536 && v3.mla.kvLoraRank == 512);
    CHECK(v3.mla.qkNopeHeadDim == 128 && v3.mla.qkRopeHeadDim == 64 && v3.mla.vHeadDim == 128);
    CHECK(v3.headDim == 192 && v3.vocabSize == 129280);
    CHECK(v3.numExperts == 256 && v3.numExpertsPerToken == 8 && v3.numSharedExperts == 1);
    CHECK(v3.expertIntermediateSize == 2048 && v3.sharedExpertIntermediateSize == 2048);
    CHECK(v3.denseIntermediateSize == 18432 && v3.firstKDenseReplace == 3);
    CHECK(!v3.isMoeLayer(0) && !v3.isMoeLayer(2) && v3.isMoeLayer(3) && v3.isMoeLayer(60));
    CHECK(v3.numExpertGroups == 8 && v3.topkGroups == 4 && v3.routedScalingFactor == 2.5);
    CHECK(v3.scoringFunc == "sigmoid" && v3.topkMethod == "noaux_tc" && v3.normTopkProb);
    CHECK(v3.quantization.fp8() && v3.quantization.format == "e4m3");
    CHECK(v3.quantization.blockRows == 128 && v3.quantization.blockCols == 128);
    CHECK(v3.ropeScaling == "yarn");

    const ModelConfig lite = presetConfig("deepseek-v2-lite");
    CHECK(lite.family == ModelFamily::DeepseekV2 && lite.mla.qLoraRank == 0); // q_lora_rank null
    CHECK(lite.numExperts == 64 && lite.numExpertsPerToken == 6 && lite.numSharedExperts == 2);
    CHECK(lite.sharedExpertIntermediateSize == 2 * 1408 && lite.firstKDenseReplace == 1);
    CHECK(lite.scoringFunc == "softmax" && !lite.normTopkProb && !lite.quantization.fp8());

    // Published totals / active (moe-inference.md): 671B / 37B, 15.7B / 2.4B, within 2%. The
    // active count excludes the embedding table (one row of it is read). V3 counts 36.6B active,
    // 671.0B in all (the multi-token-prediction module of the 685B checkpoint is not counted).
    const auto near = [](double value, double billions) {
        return std::fabs(value / 1e9 - billions) <= 0.02 * billions;
    };
    CHECK(near(totalParameters(v3), 671.0));
    CHECK(near(activeParametersPerToken(v3), 37.0));
    CHECK(near(totalParameters(lite), 15.7));
    // V2-Lite counts 2.451B (embedding excluded, LM head included; without the head 2.24B, with
    // the embedding too 2.66B): the paper's "2.4B" is given to two digits, 2.1% under.
    CHECK(std::fabs(activeParametersPerToken(lite) / 1e9 - 2.4) <= 0.025 * 2.4);

    // MLA caches the latent and the RoPE key: 61 x (512 + 64) x 2 B at BF16.
    CHECK(kvBytesPerToken(v3, 2.0) == 70272.0);

    // Round trip, and a truncated DeepSeek keeps MoE layers (first_k_dense_replace capped at 1).
    const ModelConfig back = parseModelConfig(v3.toJson());
    CHECK(back.mla.kvLoraRank == 512 && back.numSharedExperts == 1 && back.quantization.fp8());
    CHECK(totalParameters(back) == totalParameters(v3));
    const ModelConfig cut = presetConfig("deepseek-v3", 2);
    CHECK(cut.truncated() && !cut.isMoeLayer(0) && cut.isMoeLayer(1));

    // Bad DeepSeek fields are named.
    json badRank = preset("deepseek-v3");
    badRank["kv_lora_rank"] = -1;
    CHECK_THROWS_WITH(parseModelConfig(badRank), "'kv_lora_rank' must be a positive integer");
    json badQuant = preset("deepseek-v3");
    badQuant["quantization_config"]["weight_block_size"] = {128};
    CHECK_THROWS_WITH(parseModelConfig(badQuant), "weight_block_size");
    json badScoring = preset("deepseek-v3");
    badScoring["scoring_func"] = "relu";
    CHECK_THROWS_WITH(parseModelConfig(badScoring), "unsupported scoring_func 'relu'");
    json badGroups = preset("deepseek-v3");
    badGroups["n_group"] = 7;
    CHECK_THROWS_WITH(parseModelConfig(badGroups), "not a multiple of n_group");

    // The CUDA backend says it cannot run MLA instead of running garbage (makeBackend calls
    // this for the backend it builds); the CPU backend, the weights and the reference forward
    // take DeepSeek.
    CHECK_THROWS_WITH(
        requireForwardSupport(presetConfig("deepseek-v2-lite", 1), ForwardBackend::Cuda),
        "the CUDA backend does not run DeepSeek (MLA) yet");
    CHECK_THROWS_WITH(requireForwardSupport(v3, ForwardBackend::Cuda), "model_type 'deepseek_v3'");
    requireForwardSupport(v3, ForwardBackend::Cpu);
    requireForwardSupport(presetConfig("qwen3-30b-a3b", 1), ForwardBackend::Cuda); // the others
    // Loading a preset refuses before synthesising weights that cannot fit (the full V3 is
    // 1.3 TB at BF16), naming the sizes; a truncated one loads for the optimised backends.
    CHECK_THROWS_WITH(loadModel("preset:deepseek-v3"), "GB of memory available");
    CHECK_THROWS_WITH(loadModel("preset:deepseek-v3", nullptr, ForwardPath::Reference),
                      "`?layers=N` keeps fewer layers");
    CHECK_THROWS_WITH(requireSynthesisFits(v3, 2.0), "deepseek_v3 would take 13");
    check::TempDir dir;
    saveCheckpoint(synthesizeModel(check::tinyDeepseek(ModelFamily::DeepseekV2)), dir.path);
    CHECK(loadModel(dir.path.string()).config.deepseek());
    const Model tiny = loadModel(dir.path.string(), nullptr, ForwardPath::Reference);
    CHECK(tiny.config.deepseek() && tiny.weights.layers.size() == 3);
    CHECK(tiny.weights.layers[0].mla.kvB.rows == 4 * (16 + 12));
}

// rope_scaling of type yarn: every field DeepSeek's YaRN reads, defaults as its code has them.
void yarnFields() {
    const ModelConfig v3 = presetConfig("deepseek-v3");
    CHECK(v3.yarn.factor == 40 && v3.yarn.betaFast == 32 && v3.yarn.betaSlow == 1);
    CHECK(v3.yarn.mscale == 1.0 && v3.yarn.mscaleAllDim == 1.0);
    CHECK(v3.yarn.originalMaxPositionEmbeddings == 4096);
    const ModelConfig lite = presetConfig("deepseek-v2-lite");
    CHECK(lite.yarn.mscale == 0.707 && lite.yarn.mscaleAllDim == 0.707);

    json custom = preset("deepseek-v3");
    custom["rope_scaling"] = {{"type", "yarn"},
                              {"factor", 4},
                              {"beta_fast", 16},
                              {"beta_slow", 2},
                              {"mscale", 0.5},
                              {"mscale_all_dim", 0.25},
                              {"original_max_position_embeddings", 2048}};
    const ModelConfig c = parseModelConfig(custom);
    CHECK(c.ropeScaling == "yarn" && c.yarn.factor == 4 && c.yarn.betaFast == 16);
    CHECK(c.yarn.betaSlow == 2 && c.yarn.mscale == 0.5 && c.yarn.mscaleAllDim == 0.25);
    CHECK(c.yarn.originalMaxPositionEmbeddings == 2048);
    // toJson writes them back under their HF names.
    const ModelConfig back = parseModelConfig(c.toJson());
    CHECK(back.yarn.factor == 4 && back.yarn.betaFast == 16 && back.yarn.betaSlow == 2);
    CHECK(back.yarn.mscale == 0.5 && back.yarn.mscaleAllDim == 0.25);
    CHECK(back.yarn.originalMaxPositionEmbeddings == 2048 && back.ropeScaling == "yarn");
    CHECK(c.toJson()["rope_scaling"]["mscale_all_dim"] == 0.25);

    // Absent fields take DeepSeek's defaults (mscale 1, mscale_all_dim 0, betas 32 and 1, 4096);
    // transformers v5's rope_parameters carries the same keys.
    json minimal = preset("deepseek-v3");
    minimal.erase("rope_scaling");
    minimal["rope_parameters"] = {{"rope_type", "yarn"}, {"factor", 8}, {"rope_theta", 50000}};
    const ModelConfig d = parseModelConfig(minimal);
    CHECK(d.ropeScaling == "yarn" && d.yarn.factor == 8 && d.ropeTheta == 50000);
    CHECK(d.yarn.mscale == 1.0 && d.yarn.mscaleAllDim == 0.0 && d.yarn.betaFast == 32);
    CHECK(d.yarn.betaSlow == 1 && d.yarn.originalMaxPositionEmbeddings == 4096);

    json noFactor = preset("deepseek-v3");
    noFactor["rope_scaling"].erase("factor");
    CHECK_THROWS_WITH(parseModelConfig(noFactor), "rope_scaling.factor is missing");
    json badBeta = preset("deepseek-v3");
    badBeta["rope_scaling"]["beta_fast"] = "fast";
    CHECK_THROWS_WITH(parseModelConfig(badBeta), "rope_scaling.beta_fast is not a number");
    json badOriginal = preset("deepseek-v3");
    badOriginal["rope_scaling"]["original_max_position_embeddings"] = 40.5;
    CHECK_THROWS_WITH(parseModelConfig(badOriginal), "must be a positive integer");
}

void truncationIsReported() {
    ModelConfig c = presetConfig("qwen3-30b-a3b", 2);
    CHECK(c.numLayers == 2 && c.truncated() && c.truncatedFromLayers == 48);
    ModelConfig full = presetConfig("qwen3-30b-a3b", 100);
    CHECK(full.numLayers == 48 && !full.truncated());
}

void modelSpecs() {
    const ModelSpec a = parseModelSpec("preset:olmoe-1b-7b?layers=3");
    CHECK(a.isPreset && a.presetName == "olmoe-1b-7b" && a.layers == 3);
    const ModelSpec b = parseModelSpec("/models/x");
    CHECK(!b.isPreset && b.folder == "/models/x");
    CHECK_THROWS_WITH(parseModelSpec("preset:gpt-5"), "unknown preset 'gpt-5'");
    CHECK_THROWS_WITH(parseModelSpec("preset:olmoe-1b-7b?layers=0"), "positive integer");
    CHECK_THROWS_WITH(parseModelSpec("preset:olmoe-1b-7b?layers=2x"), "positive integer");
    CHECK_THROWS_WITH(parseModelSpec("preset:olmoe-1b-7b?depth=2"), "unknown preset option");
}

void fieldVariants() {
    // Fields nested under text_config, as multimodal wrappers write them.
    json nested = {{"architectures", {"Qwen3MoeForConditionalGeneration"}},
                   {"text_config", preset("qwen3-30b-a3b")}};
    CHECK(parseModelConfig(nested).numExperts == 128);

    // transformers v5: rope_parameters instead of rope_theta.
    json v5 = preset("mixtral-8x7b");
    v5.erase("rope_theta");
    v5["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 500000.0}};
    v5["dtype"] = "bfloat16";
    v5.erase("torch_dtype");
    const ModelConfig c = parseModelConfig(v5);
    CHECK(c.ropeTheta == 500000.0 && c.torchDtype == "bfloat16");

    json yarn = preset("qwen3-30b-a3b");
    yarn["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
    CHECK_THROWS_WITH(parseModelConfig(yarn), "unsupported RoPE scaling 'yarn'");

    // head_dim null -> hidden / heads; num_key_value_heads absent -> heads.
    json olmoe = preset("olmoe-1b-7b");
    olmoe["head_dim"] = nullptr;
    olmoe.erase("num_key_value_heads");
    olmoe["clip_qkv"] = 8.0;
    const ModelConfig o = parseModelConfig(olmoe);
    CHECK(o.headDim == 128 && o.numKvHeads == 16 && o.clipQkv == 8.0);

    // Architecture from `architectures` when model_type is absent.
    json noType = preset("olmoe-1b-7b");
    noType.erase("model_type");
    CHECK(parseModelConfig(noType).family == ModelFamily::Olmoe);

    // Qwen dense layers.
    json dense = preset("qwen1.5-moe-a2.7b");
    dense["mlp_only_layers"] = {0, 3};
    const ModelConfig d = parseModelConfig(dense);
    CHECK(!d.isMoeLayer(0) && d.isMoeLayer(1) && !d.isMoeLayer(3));
    dense["decoder_sparse_step"] = 2;
    CHECK(!parseModelConfig(dense).isMoeLayer(2) && parseModelConfig(dense).isMoeLayer(5));

    // Every family round-trips through toJson.
    for (const auto family :
         {ModelFamily::Mixtral, ModelFamily::Qwen2Moe, ModelFamily::Qwen3Moe, ModelFamily::Olmoe}) {
        const ModelConfig tiny = check::tinyConfig(family);
        const ModelConfig back = parseModelConfig(tiny.toJson());
        CHECK(back.family == family && back.hiddenSize == tiny.hiddenSize);
        CHECK(back.expertIntermediateSize == tiny.expertIntermediateSize);
        CHECK(back.sharedExpertIntermediateSize == tiny.sharedExpertIntermediateSize);
        CHECK(back.headDim == tiny.headDim && back.numKvHeads == tiny.numKvHeads);
        CHECK(back.clipQkv == tiny.clipQkv && back.normTopkProb == tiny.normTopkProb);
        CHECK(back.mlpOnlyLayers == tiny.mlpOnlyLayers && back.qkNorm == tiny.qkNorm);
    }
}

void errorsNameTheProblem() {
    json llama = preset("mixtral-8x7b");
    llama["model_type"] = "llama";
    CHECK_THROWS_WITH(parseModelConfig(llama), "unsupported architecture 'llama'");
    // A DeepSeek config missing its MLA ranks names the field.
    json deepseek = preset("mixtral-8x7b");
    deepseek["model_type"] = "deepseek_v3";
    CHECK_THROWS_WITH(parseModelConfig(deepseek), "missing field 'kv_lora_rank'");
    json noExperts = preset("qwen3-30b-a3b");
    noExperts.erase("num_experts");
    CHECK_THROWS_WITH(parseModelConfig(noExperts),
                      "missing field 'num_local_experts' or 'num_experts'");
    json noMoeInter = preset("qwen3-30b-a3b");
    noMoeInter.erase("moe_intermediate_size");
    CHECK_THROWS_WITH(parseModelConfig(noMoeInter), "'moe_intermediate_size'");
    json noHidden = preset("olmoe-1b-7b");
    noHidden.erase("hidden_size");
    CHECK_THROWS_WITH(parseModelConfig(noHidden), "missing field 'hidden_size'");
    json badType = preset("olmoe-1b-7b");
    badType["num_hidden_layers"] = "16";
    CHECK_THROWS_WITH(parseModelConfig(badType), "'num_hidden_layers' must be a positive integer");
    json badHeads = preset("mixtral-8x7b");
    badHeads["num_key_value_heads"] = 5;
    CHECK_THROWS_WITH(parseModelConfig(badHeads), "not a multiple of num_key_value_heads");
    json topk = preset("mixtral-8x7b");
    topk["num_experts_per_tok"] = 9;
    CHECK_THROWS_WITH(parseModelConfig(topk), "num_experts_per_tok exceeds");
    json act = preset("mixtral-8x7b");
    act["hidden_act"] = "gelu";
    CHECK_THROWS_WITH(parseModelConfig(act), "unsupported hidden_act 'gelu'");
    CHECK_THROWS_WITH(parseModelConfigText(R"({"model_type": "olmoe", "model_type": "mixtral"})"),
                      "duplicate JSON key \"model_type\"");
    CHECK_THROWS_WITH(parseModelConfigText("{\"model_type\": "), "invalid JSON");
    CHECK_THROWS_WITH(parseModelConfigText("[1, 2]"), "not a JSON object");
    CHECK_THROWS_WITH(loadModelConfig("/nonexistent/config.json"), "cannot open");
}

} // namespace

int main() {
    try {
        presetsMatchTheReferenceTable();
        truncationIsReported();
        deepseekConfigs();
        yarnFields();
        modelSpecs();
        fieldVariants();
        errorsNameTheProblem();
    } catch (const std::exception& error) {
        check::fail(__FILE__, __LINE__, std::string("unexpected exception: ") + error.what());
    }
    return check::finish("inference_config_test");
}
