#pragma once
// What a training run's result depends on, as one JSON object, and how two
// such objects differ. Pretraining (pretrain.h) and fine-tuning (finetune.h)
// record it in their checkpoints and outputs: a checkpoint of another
// identity is refused with the differences named, and an output of the same
// identity is up to date.
//
// The object: {"config": {key: canonical value} for the keys a run picks, in
// schema order; "init_model": the digest of the model at model.path;
// "tokenizer": its file's fingerprint; "corpus": [the training files'
// fingerprints]}. Files up to 8 MiB are compared by content, larger ones also
// by mtime (pipeline/fingerprint.h).

#include <functional>
#include <string>
#include <vector>

#include "ntks/config/config.h"

namespace ntks::train {

/// model.tokenizer, else <model.path>/tokenizer.json.
std::string tokenizer_path(const config::Config& cfg);

/// The identity (see above) with the config keys `wanted` accepts (dotted
/// names such as "finetune.lr") and `data_files` as the corpus.
std::string run_identity(const config::Config& cfg, const std::function<bool(const std::string&)>& wanted,
                         const std::vector<std::string>& data_files);

/// "pretrain.lr: 0.001 -> 0.002; corpus /d/a.jsonl changed" between two
/// identities; empty when they are equal. `data_key` is the key that names
/// the training files, for the message when their list differs.
std::string identity_differences(const std::string& before, const std::string& now,
                                 const std::string& data_key = "pretrain.corpus");

}  // namespace ntks::train
