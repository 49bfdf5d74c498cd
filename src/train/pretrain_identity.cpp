// What a pretraining run's weights depend on (identity.h).

#include "ntks/train/identity.h"
#include "ntks/train/pretrain.h"

namespace ntks::train {
namespace {

/// Keys that change what is reported or where, never the weights.
bool reporting_key(const std::string& key) {
  return key == "pretrain.out" || key == "pretrain.eval_every" || key == "pretrain.eval_sequences" ||
         key == "pretrain.checkpoint_every";
}

}  // namespace

std::string pretrain_identity(const config::Config& cfg) {
  const auto wanted = [](const std::string& key) {
    // The corpus files enter as fingerprints, not as paths.
    return (key.rfind("pretrain.", 0) == 0 && !reporting_key(key) && key != "pretrain.corpus") || key == "run.seed" ||
           key == "model.dtype";
  };
  return run_identity(cfg, wanted, cfg.pretrain.corpus);
}

}  // namespace ntks::train
