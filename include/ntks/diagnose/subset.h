#pragma once
// The small samples of records the diagnostics compute kernels on: a seeded
// random choice of records of a corpus, read as every stage reads data
// (data.*, the chat template, model.max_seq_len), in record order.

#include <cstdint>
#include <string>
#include <vector>

#include "ntks/config/config.h"
#include "ntks/data/sample_reader.h"
#include "ntks/dist/communicator.h"

namespace ntks::diagnose {

/// `wanted` distinct indices of 0..available-1, ascending: the first `wanted`
/// of a portable shuffle (select/shuffle.h) seeded with `seed`, so the same
/// records for a seed everywhere. InputError naming `what` (e.g. "--samples
/// 40 of demo/domain.jsonl") when wanted > available.
std::vector<int64_t> pick_records(int64_t available, int64_t wanted, uint64_t seed, const std::string& what);

struct Subset {
  std::vector<data::Sample> samples;  ///< in record order
  std::vector<std::string> ids;       ///< each sample's record id
};

/// Reads `wanted` records of `files` picked by pick_records(). `option` names
/// the count's option in errors. InputError when the corpus has fewer records,
/// when a picked line is skipped or dropped (bad input, over-long), or when a
/// sample has no response token after position 0 (its f(x) is undefined).
/// `vocab`: the model's vocabulary (token ids are checked against it).
Subset read_subset(const std::vector<std::string>& files, int64_t wanted, uint64_t seed, const std::string& option,
                   const config::Config& cfg, const std::string& tokenizer, int64_t vocab, dist::Communicator& comm);

}  // namespace ntks::diagnose
