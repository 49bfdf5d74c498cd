#pragma once
// What the pretraining corpus must not contain: the samples of demo-data
// folders (domain, pool and held-out test set) or of other JSONL files.

#include <cstdint>
#include <string>
#include <vector>

namespace ntks::corpora {

struct ExcludedSynset {
  char pos = 'n';        ///< data file: n, v, a, r
  uint32_t offset = 0;
  std::string where;     ///< "FILE:LINE" of the first sample naming it
};

struct Excluded {
  std::vector<std::string> files;  ///< the JSONL files read, in order
  size_t samples = 0;
  /// Text fields of every sample: instruction, input, output, prompt,
  /// response, text, and the content of each of its messages.
  std::vector<std::string> fields;
  /// The WordNet synsets behind sample ids "wn-<pos><8-digit offset>-<kind>",
  /// distinct, in the order first named.
  std::vector<ExcludedSynset> synsets;
};

/// Reads each path: a folder written by demo-data (its domain.jsonl,
/// pool.jsonl and test.jsonl, those present, at least one) or a JSONL file.
/// InputError names FILE:LINE for a line that is not a JSON object, and a
/// path that is neither.
Excluded read_excluded(const std::vector<std::string>& paths);

}  // namespace ntks::corpora
