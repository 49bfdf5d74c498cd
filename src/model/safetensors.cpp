// SafetensorsFile: maps a file and checks every header entry against the
// file's real size before a single data byte is handed out.

#include "ntks/model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "json_strict.h"
#include "ntks/util/error.h"

namespace ntks::model {

namespace {

// The reference implementation refuses headers over 100 MB.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
// A header is object -> entry -> shape array; metadata is object -> object.
constexpr int kMaxHeaderDepth = 4;

struct DTypeInfo {
  StDType type;
  const char* name;
  std::size_t size;
};

constexpr DTypeInfo kSafetensorsDTypes[] = {
    {StDType::F32, "F32", 4}, {StDType::F16, "F16", 2}, {StDType::BF16, "BF16", 2},
    {StDType::F64, "F64", 8}, {StDType::I64, "I64", 8}, {StDType::I32, "I32", 4},
    {StDType::I16, "I16", 2}, {StDType::I8, "I8", 1},   {StDType::U8, "U8", 1},
    {StDType::BOOL, "BOOL", 1},
};

const DTypeInfo& info(StDType t) {
  for (const auto& d : kSafetensorsDTypes) {
    if (d.type == t) return d;
  }
  throw InternalError(fmt::format("unknown StDType {}", static_cast<int>(t)));
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

// A non-negative JSON integer into `out`; false for anything else.
bool as_u64(const nlohmann::json& v, std::uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<std::uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
    out = static_cast<std::uint64_t>(v.get<std::int64_t>());
    return true;
  }
  return false;
}

struct Entry {
  std::string name;
  StDType dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

// Validates one header entry; `data_size` is the number of bytes after the header.
Entry parse_entry(const std::string& path, const std::string& name, const nlohmann::json& v,
                  std::uint64_t data_size) {
  const auto where = fmt::format("{}: tensor '{}'", path, name);
  if (!v.is_object()) {
    throw InputError(fmt::format("{}: header entry is {}, expected an object with dtype, shape "
                                 "and data_offsets", where, v.type_name()));
  }
  Entry e;
  e.name = name;

  const auto dtype = v.find("dtype");
  if (dtype == v.end() || !dtype->is_string()) {
    throw InputError(fmt::format("{}: 'dtype' is missing or not a string", where));
  }
  e.dtype = parse_st_dtype(dtype->get<std::string>(), where);

  const auto shape = v.find("shape");
  if (shape == v.end() || !shape->is_array()) {
    throw InputError(fmt::format("{}: 'shape' is missing or not an array", where));
  }
  std::uint64_t elements = 1;
  bool overflow = false;
  for (const auto& dim : *shape) {
    std::uint64_t d = 0;
    if (!as_u64(dim, d) || d > static_cast<std::uint64_t>(INT64_MAX)) {
      throw InputError(fmt::format("{}: shape {} has {}, expected non-negative integers", where,
                                   shape->dump(), dim.dump()));
    }
    e.shape.push_back(static_cast<std::int64_t>(d));
    overflow = overflow || __builtin_mul_overflow(elements, d, &elements);
  }
  // A zero dimension makes the product 0 however large the others are.
  if (std::find(e.shape.begin(), e.shape.end(), 0) != e.shape.end()) {
    elements = 0;
    overflow = false;
  }
  std::uint64_t needed = 0;
  overflow = overflow || __builtin_mul_overflow(elements, st_dtype_size(e.dtype), &needed);

  const auto offsets = v.find("data_offsets");
  if (offsets == v.end() || !offsets->is_array() || offsets->size() != 2 ||
      !as_u64((*offsets)[0], e.begin) || !as_u64((*offsets)[1], e.end)) {
    throw InputError(fmt::format("{}: 'data_offsets' is {}, expected [begin, end] with "
                                 "non-negative integers", where,
                                 offsets == v.end() ? "missing" : offsets->dump()));
  }
  if (e.begin > e.end) {
    throw InputError(fmt::format("{}: data_offsets [{}, {}] end before they begin", where,
                                 e.begin, e.end));
  }
  if (e.end > data_size) {
    throw InputError(fmt::format("{}: data_offsets [{}, {}] reach past the {} data bytes of the "
                                 "file (truncated?)", where, e.begin, e.end, data_size));
  }
  if (overflow) {
    throw InputError(fmt::format("{}: {} {} is too large to address", where,
                                 st_dtype_name(e.dtype), shape_text(e.shape)));
  }
  if (e.end - e.begin != needed) {
    throw InputError(fmt::format("{}: data_offsets [{}, {}] hold {} bytes but {} {} needs {}",
                                 where, e.begin, e.end, e.end - e.begin, st_dtype_name(e.dtype),
                                 shape_text(e.shape), needed));
  }
  return e;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const nlohmann::json& v) {
  if (!v.is_object()) {
    throw InputError(fmt::format("{}: '__metadata__' is {}, expected a map of strings", path,
                                 v.type_name()));
  }
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : v.items()) {
    if (!value.is_string()) {
      throw InputError(fmt::format("{}: '__metadata__' value of '{}' is {}, expected a string",
                                   path, key, value.dump()));
    }
    out[key] = value.get<std::string>();
  }
  return out;
}

}  // namespace

StDType parse_st_dtype(const std::string& name, const std::string& context) {
  for (const auto& d : kSafetensorsDTypes) {
    if (name == d.name) return d.type;
  }
  std::vector<std::string> known;
  for (const auto& d : kSafetensorsDTypes) known.emplace_back(d.name);
  throw InputError(fmt::format("{}: dtype '{}' is not supported (supported: {})", context, name,
                               fmt::join(known, ", ")));
}

const char* st_dtype_name(StDType t) { return info(t).name; }

std::size_t st_dtype_size(StDType t) { return info(t).size; }

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;

  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw InputError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw InputError(fmt::format("{}: cannot stat: {}", path, std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(fmt::format("{}: not a regular file", path));
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    throw InputError(fmt::format("{}: {} bytes, too short for a safetensors file (the header "
                                 "length alone takes 8)", path, size));
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  ::close(fd);
  if (map == MAP_FAILED) {
    throw InputError(fmt::format("{}: cannot map {} bytes: {}", path, size,
                                 std::strerror(map_errno)));
  }
  file->map_ = map;  // unmapped by the destructor, also when a check below throws
  file->map_size_ = size;

  const auto* bytes = static_cast<const unsigned char*>(map);
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > size - 8) {
    throw InputError(fmt::format("{}: header length {} reaches past the end of the {}-byte file "
                                 "(truncated or not a safetensors file)", path, header_len, size));
  }
  if (header_len > kMaxHeaderBytes) {
    throw InputError(fmt::format("{}: header length {} exceeds the {}-byte limit", path,
                                 header_len, kMaxHeaderBytes));
  }
  const std::string_view header_text(reinterpret_cast<const char*>(bytes + 8), header_len);
  const nlohmann::json header =
      detail::parse_json_strict(header_text, path, "header", kMaxHeaderDepth);
  if (!header.is_object()) {
    throw InputError(fmt::format("{}: header is a JSON {}, expected an object", path,
                                 header.type_name()));
  }

  const std::uint64_t data_size = size - 8 - header_len;
  const unsigned char* data = bytes + 8 + header_len;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      file->metadata_ = parse_metadata(path, value);
    } else {
      entries.push_back(parse_entry(path, name, value, data_size));
    }
  }

  // Overlap: sorted by begin, each non-empty tensor must start at or after the
  // end of the previous non-empty one.
  std::vector<const Entry*> by_begin;
  for (const auto& e : entries) {
    if (e.end > e.begin) by_begin.push_back(&e);
  }
  std::sort(by_begin.begin(), by_begin.end(),
            [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  for (std::size_t i = 1; i < by_begin.size(); ++i) {
    const Entry& prev = *by_begin[i - 1];
    const Entry& cur = *by_begin[i];
    if (cur.begin < prev.end) {
      throw InputError(fmt::format("{}: tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", path,
                                   prev.name, prev.begin, prev.end, cur.name, cur.begin, cur.end));
    }
  }

  for (auto& e : entries) {
    TensorView view{e.name, e.dtype, std::move(e.shape), data + e.begin,
                    static_cast<std::size_t>(e.end - e.begin)};
    file->tensors_.emplace(e.name, std::move(view));
  }
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

const TensorView& SafetensorsFile::get(const std::string& name) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    throw InputError(fmt::format("{}: no tensor '{}' (the file holds {} tensors)", path_, name,
                                 tensors_.size()));
  }
  return it->second;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& [name, view] : tensors_) out.push_back(name);
  return out;
}

}  // namespace ntks::model
