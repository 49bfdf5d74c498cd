// WeightStore: one name -> tensor view over a checkpoint that may be split
// into shards. The index is checked against the shards it names, so a missing
// shard or a tensor the index misplaces is reported before any model code runs.

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "json_strict.h"
#include "ntks/model/safetensors.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "ntks/util/strings.h"

namespace ntks::model {

namespace {

namespace fs = std::filesystem;

constexpr const char* kSingleName = "model.safetensors";
constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr int kMaxIndexDepth = 8;
constexpr std::uintmax_t kMaxIndexBytes = 100'000'000;

std::string read_index(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) throw InputError(fmt::format("{}: cannot read: {}", path, ec.message()));
  if (size > kMaxIndexBytes) {
    throw InputError(fmt::format("{}: {} bytes, larger than any plausible index", path, size));
  }
  return read_file(path);
}

// A shard named by the index must be a plain file name (or relative path) in
// the checkpoint folder, never a way out of it.
void check_shard_name(const std::string& index, const std::string& tensor, const std::string& shard) {
  const fs::path p(shard);
  bool ok = !shard.empty() && p.is_relative();
  for (const auto& part : p) ok = ok && part != "..";
  if (!ok) {
    throw InputError(fmt::format("{}: tensor '{}' is assigned to shard '{}', which is not a file "
                                 "name inside the checkpoint folder", index, tensor, shard));
  }
}

}  // namespace

WeightStore WeightStore::open(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw InputError(fmt::format("{}: no such file or directory", path));

  WeightStore store;
  store.root_ = path;
  store.files_ = std::make_shared<std::vector<std::shared_ptr<SafetensorsFile>>>();

  std::string index_path;
  if (fs::is_directory(status)) {
    // Same preference as transformers: the single file first, then the index.
    const fs::path single = fs::path(path) / kSingleName;
    if (fs::is_regular_file(single, ec)) {
      store.files_->push_back(SafetensorsFile::open(single.string()));
    } else if (fs::is_regular_file(fs::path(path) / kIndexName, ec)) {
      index_path = (fs::path(path) / kIndexName).string();
    } else {
      // Name the weight files that are there: an adapter, or a .bin checkpoint.
      std::vector<std::string> found;
      bool any_safetensors = false;
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        const std::string name = entry.path().filename().string();
        const bool st = ends_with(name, ".safetensors");
        any_safetensors = any_safetensors || st;
        if (st || ends_with(name, ".bin") || ends_with(name, ".pt") || ends_with(name, ".pth")) {
          found.push_back(name);
        }
      }
      std::sort(found.begin(), found.end());
      throw InputError(fmt::format(
          "{}: no {} or {} in this folder{}", path, kSingleName, kIndexName,
          found.empty() ? std::string()
                        : fmt::format(" (it has {}{})", fmt::join(found, ", "),
                                      any_safetensors
                                          ? "; pass a .safetensors file's path to use it"
                                          : "; only safetensors checkpoints can be read")));
    }
  } else if (ends_with(path, ".json")) {
    index_path = path;
  } else {
    store.files_->push_back(SafetensorsFile::open(path));
  }

  if (index_path.empty()) {
    const SafetensorsFile* file = store.files_->front().get();
    for (const auto& name : file->names()) store.where_[name] = file;
    return store;
  }

  const nlohmann::json index =
      detail::parse_json_strict(read_index(index_path), index_path, "index", kMaxIndexDepth);
  if (!index.is_object()) {
    throw InputError(fmt::format("{}: index is a JSON {}, expected an object with 'weight_map'",
                                 index_path, index.type_name()));
  }
  const auto map = index.find("weight_map");
  if (map == index.end() || !map->is_object()) {
    throw InputError(fmt::format("{}: 'weight_map' is missing or not a map of tensor -> shard",
                                 index_path));
  }
  if (map->empty()) throw InputError(fmt::format("{}: 'weight_map' lists no tensors", index_path));

  // shard file name -> tensors the index assigns to it
  std::map<std::string, std::vector<std::string>> by_shard;
  for (const auto& [tensor, shard] : map->items()) {
    if (!shard.is_string()) {
      throw InputError(fmt::format("{}: tensor '{}' is assigned to {}, expected a shard file name",
                                   index_path, tensor, shard.dump()));
    }
    check_shard_name(index_path, tensor, shard.get<std::string>());
    by_shard[shard.get<std::string>()].push_back(tensor);
  }

  const fs::path folder = fs::path(index_path).parent_path();
  std::map<const SafetensorsFile*, std::string> shard_name;
  for (const auto& [shard, tensors] : by_shard) {
    const fs::path shard_path = folder / shard;
    if (!fs::is_regular_file(shard_path, ec)) {
      throw InputError(fmt::format("{}: tensor '{}' is assigned to shard '{}', which does not exist "
                                   "({})", index_path, tensors.front(), shard, shard_path.string()));
    }
    store.files_->push_back(SafetensorsFile::open(shard_path.string()));
    const SafetensorsFile* file = store.files_->back().get();
    shard_name[file] = shard;
    for (const auto& tensor : tensors) {
      if (!file->has(tensor)) {
        throw InputError(fmt::format("{}: tensor '{}' is assigned to shard '{}', which does not "
                                     "contain it", index_path, tensor, shard));
      }
      store.where_[tensor] = file;
    }
  }
  // A tensor stored in two shards would be loaded twice by transformers, the
  // last one winning; that is ambiguous, so refuse it. Tensors the index
  // forgot are still served, as transformers loads them too.
  for (const auto& file : *store.files_) {
    for (const auto& name : file->names()) {
      const auto [it, inserted] = store.where_.emplace(name, file.get());
      if (!inserted && it->second != file.get()) {
        throw InputError(fmt::format("{}: tensor '{}' is stored in two shards, '{}' and '{}'",
                                     index_path, name, shard_name[it->second],
                                     shard_name[file.get()]));
      }
    }
  }
  return store;
}

bool WeightStore::has(const std::string& name) const { return where_.count(name) != 0; }

const TensorView& WeightStore::get(const std::string& name) const {
  const auto it = where_.find(name);
  if (it == where_.end()) throw InputError(fmt::format("{}: tensor '{}' is missing", root_, name));
  return it->second->get(name);
}

std::vector<std::string> WeightStore::names() const {
  std::vector<std::string> out;
  out.reserve(where_.size());
  for (const auto& [name, file] : where_) out.push_back(name);
  return out;
}

}  // namespace ntks::model
