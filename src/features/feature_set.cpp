#include "ntks/features/feature_set.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::features {

namespace fs = std::filesystem;

std::string shard_file(const std::string& dir, const std::string& prefix, int shard, int num_shards) {
  return (fs::path(dir) / fmt::format("{}-{:05d}-of-{:05d}.h5", prefix, shard, num_shards)).string();
}

bool write_feature_set_index(const std::string& dir, const std::string& prefix, int num_shards) {
  nlohmann::json shards = nlohmann::json::array();
  std::string metadata;
  int64_t total = 0, dim = 0;
  for (int s = 0; s < num_shards; ++s) {
    const std::string path = shard_file(dir, prefix, s, num_shards);
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return false;
    store::FeatureReader r(path);
    if (s == 0) {
      metadata = r.metadata_json();
      dim = r.dim();
    } else if (r.metadata_json() != metadata || r.dim() != dim) {
      throw InputError(fmt::format("{}: written with other inputs or settings than {} (delete the stale "
                                   "shards or rerun with --force)",
                                   path, shard_file(dir, prefix, 0, num_shards)));
    }
    shards.push_back({{"file", fs::path(path).filename().string()}, {"rows", r.rows()}});
    total += r.rows();
  }
  const nlohmann::json index = {{"format", "ntks-feature-set"}, {"version", 1},  {"rows", total},
                                {"dim", dim},                   {"shards", shards}, {"metadata", metadata}};
  write_file_atomic((fs::path(dir) / (prefix + ".json")).string(), index.dump(2) + "\n");
  return true;
}

struct FeatureSet::Impl {
  std::vector<store::FeatureReader> shards;
  std::vector<int64_t> starts;  // first row of each shard, plus the total
  int64_t dim = 0;
  std::string metadata;

  // Calls fn(shard, local begin, count, offset in the request) for the pieces of [begin, begin+count).
  template <class F>
  void pieces(int64_t begin, int64_t count, F fn) const {
    NTKS_CHECK(begin >= 0 && count >= 0 && begin + count <= starts.back(), "rows [{}, {}) outside [0, {})", begin,
               begin + count, starts.back());
    for (size_t s = 0; s < shards.size() && count > 0; ++s) {
      if (begin >= starts[s + 1]) continue;
      const int64_t local = begin - starts[s], n = std::min(count, starts[s + 1] - begin);
      fn(s, local, n);
      begin += n;
      count -= n;
    }
  }
  template <class T, class Get>
  std::vector<T> gather(int64_t begin, int64_t count, Get get) const {
    std::vector<T> out;
    out.reserve(static_cast<size_t>(count));
    pieces(begin, count, [&](size_t s, int64_t local, int64_t n) {
      auto part = get(shards[s], local, n);
      out.insert(out.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    });
    return out;
  }
};

FeatureSet::FeatureSet(const std::string& index_path) : impl_(std::make_unique<Impl>()) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(index_path));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not a feature set index ({})", index_path, e.what()));
  }
  if (!j.is_object() || j.value("format", "") != "ntks-feature-set" || !j.contains("shards"))
    throw InputError(fmt::format("{}: not a feature set index", index_path));
  const fs::path dir = fs::path(index_path).parent_path();
  impl_->starts.push_back(0);
  impl_->metadata = j.value("metadata", "");
  impl_->dim = j.value("dim", int64_t{0});
  for (const auto& s : j["shards"]) {
    const std::string path = (dir / s.at("file").get<std::string>()).string();
    impl_->shards.emplace_back(path);
    if (impl_->shards.back().rows() != s.at("rows").get<int64_t>() || impl_->shards.back().dim() != impl_->dim)
      throw InputError(fmt::format("{}: has {} rows of dim {}, the index {} recorded {} of dim {} (rerun the stage)",
                                   path, impl_->shards.back().rows(), impl_->shards.back().dim(), index_path,
                                   s.at("rows").get<int64_t>(), impl_->dim));
    impl_->starts.push_back(impl_->starts.back() + impl_->shards.back().rows());
  }
}

FeatureSet::FeatureSet(FeatureSet&&) noexcept = default;
FeatureSet::~FeatureSet() = default;

int64_t FeatureSet::rows() const { return impl_->starts.back(); }
int64_t FeatureSet::reused_rows() const {
  int64_t n = 0;
  for (const store::FeatureReader& r : impl_->shards) n += r.reused_rows();
  return n;
}
int64_t FeatureSet::dim() const { return impl_->dim; }
const std::string& FeatureSet::metadata_json() const { return impl_->metadata; }

void FeatureSet::read_rows(int64_t begin, int64_t count, float* out) const {
  int64_t done = 0;
  impl_->pieces(begin, count, [&](size_t s, int64_t local, int64_t n) {
    impl_->shards[s].read_rows(local, n, out + done * impl_->dim);
    done += n;
  });
}

std::vector<uint64_t> FeatureSet::keys(int64_t begin, int64_t count) const {
  return impl_->gather<uint64_t>(begin, count, [](const store::FeatureReader& r, int64_t b, int64_t n) { return r.keys(b, n); });
}
std::vector<std::string> FeatureSet::ids(int64_t begin, int64_t count) const {
  return impl_->gather<std::string>(begin, count, [](const store::FeatureReader& r, int64_t b, int64_t n) { return r.ids(b, n); });
}
std::vector<int64_t> FeatureSet::indices(int64_t begin, int64_t count) const {
  return impl_->gather<int64_t>(begin, count, [](const store::FeatureReader& r, int64_t b, int64_t n) { return r.indices(b, n); });
}
std::vector<int64_t> FeatureSet::tokens(int64_t begin, int64_t count) const {
  return impl_->gather<int64_t>(begin, count, [](const store::FeatureReader& r, int64_t b, int64_t n) { return r.tokens(b, n); });
}

}  // namespace ntks::features
