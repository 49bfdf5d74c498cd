// The resolved config as commented YAML, its canonical text and its hash.

#include <fmt/format.h>
#include <xxhash.h>

#include "key_list.h"
#include "ntks/config/load.h"
#include "values.h"

namespace ntks::config {
namespace {

class Dumper {
 public:
  Dumper(std::string& out, int depth, bool comments) : out_(out), depth_(depth), comments_(comments) {}

  template <class T>
  void field(const char* key, T& value, const char* doc) {
    line(fmt::format("{}: {}", key, values::format(value)), doc);
  }
  template <class S>
  void group(const char* key, S& s, const char* doc) {
    line(fmt::format("{}:", key), doc);
    Dumper sub(out_, depth_ + 1, comments_);
    schema::visit(sub, s);
  }

 private:
  void line(const std::string& text, const char* doc) {
    out_ += std::string(2 * depth_, ' ') + text;
    if (comments_ && doc && *doc) out_ += "  # " + std::string(doc);
    out_ += '\n';
  }
  std::string& out_;
  int depth_;
  bool comments_;
};

class Canonical {
 public:
  Canonical(std::string& out, std::string prefix) : out_(out), prefix_(std::move(prefix)) {}

  template <class T>
  void field(const char* key, T& value, const char*) {
    out_ += prefix_ + key + "=" + values::format(value) + "\n";
  }
  template <class S>
  void group(const char* key, S& s, const char*) {
    Canonical sub(out_, prefix_ + key + ".");
    schema::visit(sub, s);
  }

 private:
  std::string& out_;
  std::string prefix_;
};

}  // namespace

std::string dump_yaml(const Config& cfg, bool comments) {
  Config copy = cfg;  // visitors take non-const references
  std::string out;
  if (comments) out += fmt::format("# ntk-select resolved config, hash {}\n", hash(cfg));
  Dumper dumper(out, 0, comments);
  schema::visit(dumper, copy);
  return out;
}

std::string canonical_text(const Config& cfg) {
  Config copy = cfg;
  std::string out;
  Canonical canon(out, "");
  schema::visit(canon, copy);
  return out;
}

std::string hash(const Config& cfg) {
  std::string text = canonical_text(cfg);
  return fmt::format("{:016x}", XXH3_64bits(text.data(), text.size()));
}

std::vector<std::string> all_keys() {
  Config c;
  schema::KeyLister lister;
  schema::visit(lister, c);
  return lister.keys;
}

}  // namespace ntks::config
