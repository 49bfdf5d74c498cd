// The id of a record: its top-level id field, found with a SAX parse that
// stops as soon as the field's value is seen (ids usually come first, so
// most of a long line is never parsed).

#include <xxh3.h>

#include <nlohmann/json.hpp>

#include "data/index_file.h"

namespace ntks::data::detail {
namespace {

using json = nlohmann::json;

/// Follows the parse just far enough to see the top-level field. Returning
/// false stops the parse.
class IdFinder {
 public:
  explicit IdFinder(const std::string& field) : field_(field) {}
  std::string id;

  bool null() { return other(); }
  bool boolean(bool) { return other(); }
  bool number_integer(json::number_integer_t v) { return value(std::to_string(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return value(std::to_string(v)); }
  bool number_float(json::number_float_t, const std::string&) { return other(); }
  bool string(std::string& s) { return value(std::move(s)); }
  bool binary(json::binary_t&) { return other(); }
  bool start_object(std::size_t) {
    if (!other()) return false;
    ++depth_;
    return true;
  }
  bool end_object() {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) {
    if (depth_ == 0) return false;  // not an object: no fields at all
    if (!other()) return false;
    ++depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool key(std::string& k) {
    if (depth_ == 1) wanted_ = k == field_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

 private:
  /// A value that cannot be an id: when it is the field's, the record has none.
  bool other() {
    if (depth_ == 0) return true;  // the top-level object itself
    return !(depth_ == 1 && wanted_);
  }
  bool value(std::string v) {
    if (depth_ == 0) return false;  // a bare string or number is not an object
    if (depth_ == 1 && wanted_) {
      id = std::move(v);
      return false;
    }
    return true;
  }

  const std::string& field_;
  int depth_ = 0;
  bool wanted_ = false;
};

std::function<uint64_t(std::string_view)>& hash_hook() {
  static std::function<uint64_t(std::string_view)> hook;
  return hook;
}

}  // namespace

std::string extract_id(std::string_view line, const std::string& field) {
  IdFinder finder(field);
  json::sax_parse(line.begin(), line.end(), &finder);
  return finder.id;
}

uint64_t xxh3(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

uint64_t id_hash(std::string_view id) {
  if (hash_hook()) return hash_hook()(id);
  return xxh3(id);
}

uint64_t id_hash_kind() { return hash_hook() ? 0 : 1; }

void set_id_hash_for_testing(std::function<uint64_t(std::string_view)> hash) { hash_hook() = std::move(hash); }

}  // namespace ntks::data::detail
