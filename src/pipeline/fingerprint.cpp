// File fingerprints for stage manifests: the corpus index's file identity
// (size, mtime, head/tail XXH3) plus a whole-file XXH3 for small files.

#include "ntks/pipeline/fingerprint.h"

#include <xxhash.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "data/index_file.h"
#include "ntks/util/error.h"

namespace ntks::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBlock = 1u << 20;

uint64_t whole_file_hash(const std::string& path, uint64_t size) {
  data::detail::ReadFd fd(path);
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  std::string buf(kBlock, '\0');
  try {
    for (uint64_t at = 0; at < size; at += kBlock) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kBlock, size - at));
      data::detail::pread_exact(fd.get(), path, buf.data(), n, at);
      XXH3_64bits_update(state, buf.data(), n);
    }
  } catch (...) {
    XXH3_freeState(state);
    throw;
  }
  const uint64_t h = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return h;
}

}  // namespace

bool FileFingerprint::same_content(const FileFingerprint& o) const {
  return exists == o.exists && size == o.size && whole == o.whole && hash == o.hash;
}

bool FileFingerprint::unchanged(const FileFingerprint& o) const {
  return path == o.path && same_content(o) && (whole || mtime_ns == o.mtime_ns);
}

FileFingerprint fingerprint_file(const std::string& path) {
  FileFingerprint fp;
  std::error_code ec;
  fp.path = fs::absolute(path, ec).lexically_normal().string();
  if (ec) fp.path = path;
  if (!fs::is_regular_file(path, ec)) return fp;
  fp.exists = true;
  const data::detail::FileIdentity id = data::detail::full_identity(path);
  fp.size = id.size;
  fp.mtime_ns = id.mtime_ns;
  if (id.size <= kFullHashBytes) {
    fp.whole = true;
    fp.hash = fmt::format("{:016x}", whole_file_hash(path, id.size));
  } else {
    const uint64_t both[2] = {id.head_hash, id.tail_hash};
    fp.hash = fmt::format("{:016x}", XXH3_64bits(both, sizeof both));
  }
  return fp;
}

std::string model_digest(const std::string& folder) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && (name == "config.json" || e.path().extension() == ".safetensors"))
      files.push_back(e.path().string());
  }
  if (files.empty()) return "missing";
  std::sort(files.begin(), files.end());
  std::string text;
  for (const std::string& f : files) {
    const FileFingerprint fp = fingerprint_file(f);
    text += fmt::format("{} {} {}\n", fs::path(f).filename().string(), fp.size, fp.hash);
  }
  return fmt::format("{:016x}", XXH3_64bits(text.data(), text.size()));
}

}  // namespace ntks::pipeline
