#pragma once
// safetensors files: memory-mapped, validated reading; writing.
//
// Format: 8-byte little-endian header length N, N bytes of JSON header
// {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]},
//  "__metadata__": {"k": "v"}}, then the data; offsets are relative to byte
// 8 + N. Every header entry is validated before any data is touched (offsets
// inside the file, dtype size x shape == byte length, no overlap, bounded
// header size), so a corrupt or hostile file gives an InputError naming the
// file and tensor, never an out-of-bounds read.
//
// No torch here: tensors are raw views into the mapping; model/weights.h
// turns them into at::Tensor without copying.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ntks::model {

enum class StDType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL };

/// "F32" -> StDType::F32; throws InputError for names this tool cannot use.
StDType parse_st_dtype(const std::string& name, const std::string& context);
const char* st_dtype_name(StDType t);
std::size_t st_dtype_size(StDType t);

/// One tensor of a mapped file (valid while its SafetensorsFile lives).
struct TensorView {
  std::string name;
  StDType dtype;
  std::vector<std::int64_t> shape;
  const void* data;     ///< inside the mapping
  std::size_t nbytes;
};

class SafetensorsFile {
 public:
  /// Maps and validates the file; throws InputError naming `path` (and the tensor).
  static std::shared_ptr<SafetensorsFile> open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  /// Throws InputError naming the file if absent.
  const TensorView& get(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;
  std::string path_;
  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

/// All tensors of a checkpoint folder: model.safetensors, or the shards listed
/// in model.safetensors.index.json ("weight_map": name -> shard file).
class WeightStore {
 public:
  /// `path` is a folder (model.safetensors, else model.safetensors.index.json),
  /// a single .safetensors file (e.g. adapter_model.safetensors), or an index
  /// .json file. Every shard the index names must exist and hold the tensors
  /// it assigns to them; a tensor in two shards is refused. Throws InputError.
  static WeightStore open(const std::string& path);
  bool has(const std::string& name) const;
  /// Throws InputError "<folder>: tensor 'x' is missing".
  const TensorView& get(const std::string& name) const;
  std::vector<std::string> names() const;
  /// Keeps the mappings alive (tensors made from views hold one).
  std::shared_ptr<const void> keep_alive() const { return files_; }

 private:
  std::string root_;
  std::shared_ptr<std::vector<std::shared_ptr<SafetensorsFile>>> files_;
  std::map<std::string, const SafetensorsFile*> where_;
};

/// A tensor to write: raw little-endian bytes of dtype x shape.
struct TensorBytes {
  std::string name;
  StDType dtype;
  std::vector<std::int64_t> shape;
  std::string bytes;
};

/// Writes one safetensors file atomically (written as "<path>.partial", then renamed).
/// Tensors are laid out in the given order after a header padded with spaces
/// to a multiple of 8 bytes. A tensor whose bytes do not match dtype x shape,
/// or a repeated name, is an InternalError; a failed write an InputError.
void write_safetensors(const std::string& path, const std::vector<TensorBytes>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

/// Writes `tensors` as `shards` files model-0000i-of-0000n.safetensors plus
/// model.safetensors.index.json in `dir` (shards == 1: model.safetensors).
/// Shards are contiguous runs of `tensors` of roughly equal bytes, none empty
/// (so shards <= tensors.size()); each carries `metadata`; the index, written
/// last, has metadata.total_size. The other layout's file (a stale index or
/// model.safetensors) is removed, since readers would prefer it.
void write_checkpoint(const std::string& dir, const std::vector<TensorBytes>& tensors, int shards,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace ntks::model
