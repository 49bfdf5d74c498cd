// RowReuse: a sorted (key, file, row) table over earlier feature files.

#include "ntks/features/row_reuse.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ntks/log/log.h"
#include "ntks/util/error.h"

namespace ntks::features {

std::string row_identity(const std::string& metadata_json) {
  nlohmann::json j = nlohmann::json::parse(metadata_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return metadata_json;
  j.erase("corpus");
  // Which records a stage took (its id list or pre-selection) says nothing
  // about how each row was computed.
  if (j.contains("stage") && j["stage"].is_object()) {
    j["stage"].erase("ids");
    j["stage"].erase("preselected");
  }
  return j.dump();
}

struct RowReuse::Impl {
  struct Entry {
    uint64_t key;
    uint32_t file;
    uint32_t row;
  };
  std::vector<store::FeatureReader> files;
  std::vector<Entry> entries;  // sorted by key
  int64_t dim = 0;
};

RowReuse::RowReuse() : impl_(std::make_unique<Impl>()) {}
RowReuse::RowReuse(RowReuse&&) noexcept = default;
RowReuse& RowReuse::operator=(RowReuse&&) noexcept = default;
RowReuse::~RowReuse() = default;

RowReuse RowReuse::open(const std::vector<std::string>& files, const store::FeatureFileSpec& spec) {
  RowReuse out;
  Impl& r = *out.impl_;
  r.dim = spec.dim;
  const std::string want = row_identity(spec.metadata_json);
  for (const std::string& path : files) {
    try {
      store::FeatureReader f(path);
      std::string why;
      if (f.kind() != spec.kind) {
        why = fmt::format("holds {}, not {}", f.kind(), spec.kind);
      } else if (f.dim() != spec.dim || f.dtype() != spec.dtype) {
        why = fmt::format("dim {} {}, not {} {}", f.dim(), store::to_string(f.dtype()), spec.dim,
                          store::to_string(spec.dtype));
      } else if (row_identity(f.metadata_json()) != want) {
        why = "made with another model, adapter, template or stage settings";
      } else if (f.rows() > static_cast<int64_t>(UINT32_MAX)) {
        why = "over 2^32 rows";
      }
      if (!why.empty()) {
        log::info("reuse: {} not used: {}", path, why);
        continue;
      }
      const auto file = static_cast<uint32_t>(r.files.size());
      const std::vector<uint64_t> keys = f.keys(0, f.rows());
      for (size_t i = 0; i < keys.size(); ++i) r.entries.push_back({keys[i], file, static_cast<uint32_t>(i)});
      r.files.push_back(std::move(f));
    } catch (const InputError& e) {
      log::warn("reuse: {} not used: {}", path, e.what());
    }
  }
  // Ties (equal content in several rows) keep the first file's first row.
  std::stable_sort(r.entries.begin(), r.entries.end(),
                   [](const Impl::Entry& a, const Impl::Entry& b) { return a.key < b.key; });
  return out;
}

bool RowReuse::empty() const { return impl_->entries.empty(); }
int64_t RowReuse::rows() const { return static_cast<int64_t>(impl_->entries.size()); }

std::vector<bool> RowReuse::find(const std::vector<uint64_t>& keys, float* out) const {
  const Impl& r = *impl_;
  std::vector<bool> found(keys.size(), false);
  if (r.entries.empty()) return found;
  struct Hit {
    uint32_t file, row;
    size_t slot;
  };
  std::vector<Hit> hits;
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto it = std::lower_bound(r.entries.begin(), r.entries.end(), keys[i],
                                     [](const Impl::Entry& e, uint64_t k) { return e.key < k; });
    if (it == r.entries.end() || it->key != keys[i]) continue;
    hits.push_back({it->file, it->row, i});
    found[i] = true;
  }
  // Runs of consecutive rows of one file are read with one call.
  std::sort(hits.begin(), hits.end(),
            [](const Hit& a, const Hit& b) { return a.file != b.file ? a.file < b.file : a.row < b.row; });
  std::vector<float> buf;
  for (size_t a = 0; a < hits.size();) {
    size_t b = a + 1;
    while (b < hits.size() && hits[b].file == hits[a].file && hits[b].row == hits[b - 1].row + 1) ++b;
    const auto n = static_cast<int64_t>(b - a);
    buf.resize(static_cast<size_t>(n * r.dim));
    r.files[hits[a].file].read_rows(hits[a].row, n, buf.data());
    for (size_t h = a; h < b; ++h)
      std::copy_n(buf.data() + (h - a) * r.dim, r.dim, out + hits[h].slot * r.dim);
    a = b;
  }
  return found;
}

}  // namespace ntks::features
