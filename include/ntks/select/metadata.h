#pragma once
// Checks on the metadata JSON that feature stages keep in their files
// (cli stage_metadata: model, adapter hash, template, data settings, corpus,
// stage settings), so that scores never mix gradients of different models,
// adapters or projections, and outputs never read lines from another corpus.

#include <string>
#include <vector>

namespace ntks::select {

/// InputError naming both files and the keys that differ unless the two
/// metadata texts agree on everything but the corpus files ("corpus") and the
/// candidate id list ("stage.ids"), which legitimately differ between the
/// domain set and the candidates.
void check_same_grads_settings(const std::string& path_a, const std::string& metadata_a, const std::string& path_b,
                               const std::string& metadata_b);

/// InputError when the corpus files recorded in `metadata` (absolute paths)
/// are not `files` (made absolute), naming `path`, the config key and both lists.
void check_corpus(const std::string& path, const std::string& metadata, const std::vector<std::string>& files,
                  const std::string& key);

}  // namespace ntks::select
