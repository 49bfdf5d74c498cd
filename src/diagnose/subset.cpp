#include "ntks/diagnose/subset.h"

#include <algorithm>
#include <fmt/ranges.h>
#include <numeric>

#include "ntks/data/corpus_index.h"
#include "ntks/data/shared_samples.h"
#include "ntks/select/shuffle.h"
#include "ntks/util/error.h"

namespace ntks::diagnose {

std::vector<int64_t> pick_records(int64_t available, int64_t wanted, uint64_t seed, const std::string& what) {
  if (wanted < 0) throw UsageError(fmt::format("{}: a count cannot be negative", what));
  if (wanted > available)
    throw InputError(fmt::format("{}: the data holds only {} record(s); ask for at most {}", what, available,
                                 available));
  std::vector<int64_t> all(static_cast<size_t>(available));
  std::iota(all.begin(), all.end(), int64_t{0});
  select::portable_shuffle(all, seed);
  all.resize(static_cast<size_t>(wanted));
  std::sort(all.begin(), all.end());
  return all;
}

Subset read_subset(const std::vector<std::string>& files, int64_t wanted, uint64_t seed, const std::string& option,
                   const config::Config& cfg, const std::string& tokenizer, int64_t vocab, dist::Communicator& comm) {
  Subset out;
  if (wanted == 0) return out;
  data::IndexOptions io;
  io.id_field = cfg.data.fields.id;
  const data::CorpusIndex index = data::CorpusIndex::open_shared(files, io, comm);
  const std::vector<int64_t> picked =
      pick_records(index.size(), wanted, seed, fmt::format("{} {} of {}", option, wanted, fmt::join(files, ", ")));
  data::SharedRead how;
  how.tokenizer = tokenizer;
  how.vocab = vocab;
  how.label = option;
  how.only = picked;
  data::ReadStats stats;
  out.samples = data::read_samples_shared(files, cfg, how, comm, &stats);
  if (out.samples.size() != picked.size())
    throw InputError(fmt::format("{} {}: {} of the picked records did not become samples ({}); fix or remove those "
                                 "lines (`ntk-select check-data` lists them) or ask for fewer",
                                 option, wanted, picked.size() - out.samples.size(), stats.summary()));
  for (const data::Sample& s : out.samples) {
    out.ids.push_back(index.id(s.index));
    bool scored = false;
    for (size_t t = 1; t < s.response_mask.size() && !scored; ++t) scored = s.response_mask[t] != 0;
    if (!scored)
      throw InputError(fmt::format("{} ({}): no response token after the first position, so its gradient is "
                                   "undefined; remove the line or use other data",
                                   index.where(s.index), out.ids.back()));
  }
  return out;
}

}  // namespace ntks::diagnose
