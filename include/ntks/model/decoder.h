#pragma once
// Llama / Qwen3 decoder-only transformer with optional LoRA, loaded from a
// Hugging Face checkpoint folder and run as Hugging Face does (DESIGN §9).

#include <torch/torch.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "ntks/model/hf_config.h"
#include "ntks/model/layers.h"
#include "ntks/model/linear.h"
#include "ntks/model/weight_table.h"

namespace ntks::model {

/// LoRA-capable projections of a layer, in the order of the unprojected
/// gradient layout (DESIGN §2, grads.dim = 0).
inline constexpr std::array<const char*, 7> kLoraModules = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                            "gate_proj", "up_proj", "down_proj"};
/// Index of a module name in kLoraModules; -1 if it is not one.
int lora_module_index(const std::string& name);

struct LoraSpec {
  int64_t r = 32;
  double alpha = 16;
  double dropout = 0.05;
  bool use_rslora = false;                  ///< scaling alpha / sqrt(r) instead of alpha / r
  std::vector<std::string> targets = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  double scaling() const;
};

struct DecoderLayer {
  at::Tensor input_norm, post_attention_norm;  ///< [hidden]
  at::Tensor q_norm, k_norm;                   ///< [head_dim], Qwen3 only
  std::array<Linear, 7> proj;                  ///< indexed like kLoraModules
};

class Decoder {
 public:
  /// Loads config.json and the safetensors weights of `dir`, converted to
  /// `dtype` on `device`. Missing or mis-shaped tensors: one InputError
  /// naming each of them.
  static Decoder load(const std::string& dir, at::ScalarType dtype, at::Device device);

  const HfConfig& config() const { return cfg_; }
  at::ScalarType dtype() const { return dtype_; }
  at::Device device() const { return device_; }

  /// Final hidden states after the final norm, [batch, tokens, hidden] in the
  /// compute dtype. `ids` [batch, tokens] int64; `mask` [batch, tokens], 1 on
  /// real tokens (left or right padding). Positions count from 0 at each
  /// sample's first real token, so padding never changes a sample's result.
  at::Tensor hidden_states(const at::Tensor& ids, const at::Tensor& mask, const ForwardContext& ctx = {}) const;
  /// Logits [batch, tokens, vocab] from hidden states, in the compute dtype.
  at::Tensor logits(const at::Tensor& hidden) const;
  /// The vector Σ_v W_lm[v] [hidden]: h · it is the sum of all logits of a row.
  at::Tensor lm_head_row_sum() const;

  /// A fresh adapter on spec.targets of every layer: A ~ kaiming-uniform(a=√5)
  /// = U(-1/√in, 1/√in), B = 0, from a CPU generator seeded with `seed`, so
  /// every rank and device starts from the same weights.
  void add_lora(const LoraSpec& spec, uint64_t seed);
  bool has_lora() const { return lora_.has_value(); }
  const LoraSpec& lora_spec() const;
  /// The adapter's tensors in layer-major, module, A-before-B order.
  std::vector<at::Tensor> lora_parameters() const;
  /// Their names in the same order, "layers.N.<module>.lora_A|lora_B" (the
  /// optimizer files of checkpoints and of the warm-up use them).
  std::vector<std::string> lora_parameter_names() const;
  void remove_lora();
  /// Records the spec of an adapter whose weights were set module by module
  /// (load_adapter does this).
  void set_lora_spec(const LoraSpec& spec) { lora_ = spec; }

  /// The base weight `e` names (e.slot, e.layer, e.module); for a tied model
  /// the lm_head slot is the embedding.
  at::Tensor& weight(const WeightEntry& e);
  const at::Tensor& weight(const WeightEntry& e) const;
  /// Every base weight of the checkpoint layout (weight_table order) with its
  /// tensor; the tied lm_head is not listed (it is the embedding).
  std::vector<std::pair<WeightEntry, at::Tensor>> named_weights() const;
  /// Replaces every base weight by an owned contiguous copy, so that training
  /// may update it in place (loaded weights may view read-only mapped file
  /// memory); a tied lm_head stays the embedding's tensor.
  void own_weights();

  std::vector<DecoderLayer>& layers() { return layers_; }
  const std::vector<DecoderLayer>& layers() const { return layers_; }

 private:
  at::Tensor attention_block(const DecoderLayer& layer, int index, const at::Tensor& x, const at::Tensor& cos,
                             const at::Tensor& sin, const at::Tensor& bias, const ForwardContext& ctx) const;
  at::Tensor mlp_block(const DecoderLayer& layer, int index, const at::Tensor& x, const ForwardContext& ctx) const;

  HfConfig cfg_;
  at::ScalarType dtype_ = at::kFloat;
  at::Device device_ = at::kCPU;
  at::Tensor embed_;       ///< [vocab, hidden]
  at::Tensor final_norm_;  ///< [hidden]
  at::Tensor lm_head_;     ///< [vocab, hidden]; the embedding when tied
  std::vector<DecoderLayer> layers_;
  Rope rope_;
  std::optional<LoraSpec> lora_;
};

}  // namespace ntks::model
