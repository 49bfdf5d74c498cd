// Contiguous shards of a global index, and opening an index on every rank
// with rank 0 building the caches first.

#include <algorithm>

#include "ntks/data/corpus_index.h"
#include "ntks/dist/communicator.h"
#include "ntks/util/error.h"

namespace ntks::data {

Range shard_range(int64_t n, int shard, int num_shards) {
  if (num_shards < 1) throw UsageError(fmt::format("number of shards {}: expected at least 1", num_shards));
  if (shard < 0 || shard >= num_shards)
    throw UsageError(fmt::format("shard {} of {}: expected a shard in [0, {})", shard, num_shards, num_shards));
  if (n < 0) throw UsageError(fmt::format("cannot shard {} records", n));
  const int64_t base = n / num_shards, extra = n % num_shards;
  const int64_t begin = shard * base + std::min<int64_t>(shard, extra);
  return {begin, begin + base + (shard < extra ? 1 : 0)};
}

CorpusIndex CorpusIndex::open_shared(const std::vector<std::string>& files, const IndexOptions& options,
                                     dist::Communicator& comm) {
  // Rank 0 validates and (re)builds every cache while the others wait for its
  // verdict: "" on success, else the error's kind and text.
  std::string verdict;
  std::optional<CorpusIndex> root_index;
  if (comm.is_root()) {
    try {
      root_index.emplace(open(files, options));
    } catch (const UsageError& e) {
      verdict = std::string("U") + e.what();
    } catch (const Error& e) {
      verdict = std::string("I") + e.what();
    } catch (const std::exception& e) {
      verdict = std::string("E") + e.what();
    }
  }
  comm.broadcast_bytes(verdict, 0);
  if (!verdict.empty()) {
    std::string text = verdict.substr(1);
    if (verdict[0] == 'U') throw UsageError(text);
    if (verdict[0] == 'I') throw InputError(text);
    throw InternalError(fmt::format("rank 0 failed to index the corpus: {}", text));
  }
  if (root_index) return std::move(*root_index);
  // The caches are fresh now; a rank that sees another file system (a
  // node-local folder) builds its own, but never because of --rebuild.
  IndexOptions load = options;
  load.rebuild = false;
  return open(files, load);
}

}  // namespace ntks::data
