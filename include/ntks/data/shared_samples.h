#pragma once
// A whole JSONL file read as samples by rank 0 and shared with every rank:
// one reader (one skip log, one set of warnings) and identical samples on
// every rank by construction. The warm-up's domain set, fine-tuning's
// training set and the evaluation's test set are read this way.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ntks/config/config.h"
#include "ntks/data/corpus_index.h"
#include "ntks/data/sample_reader.h"
#include "ntks/dist/communicator.h"

namespace ntks::tokenizer {
class Tokenizer;
}

namespace ntks::data {

struct SharedRead {
  std::string tokenizer;  ///< tokenizer.json; only rank 0 loads it
  std::string skip_log;   ///< skip log path; empty: none (bad lines are only counted and warned about)
  int64_t vocab = 0;      ///< the model's vocabulary: a token id outside it is an InputError naming the line
  std::string label;      ///< what is read, in log lines ("domain", "training set")
  /// Only these global record indices, in this order (empty: every record);
  /// LESS's warm-up reads a sample of the candidates this way.
  std::vector<int64_t> only;
  /// Runs on rank 0 after the read, with the index, the tokenizer and the
  /// samples (to read more of their lines); an exception there ends every rank.
  std::function<void(const CorpusIndex&, const tokenizer::Tokenizer&, const std::vector<Sample>&)> on_root;
};

/// Every record of `files` through SampleReader (cfg's data and template
/// settings), in order, on every rank of `comm`; `stats` (if not null) gets
/// the read counts on rank 0.
std::vector<Sample> read_samples_shared(const std::vector<std::string>& files, const config::Config& cfg,
                                        const SharedRead& how, dist::Communicator& comm, ReadStats* stats = nullptr);

/// Samples as bytes and back (index, ids and response mask; not the id
/// text), for sending them to other ranks.
std::string pack_samples(const std::vector<Sample>& samples);
std::vector<Sample> unpack_samples(const std::string& bytes);

}  // namespace ntks::data
