// Applies YAML documents and --set overrides onto a Config, with errors that
// name the key, the file:line:column (or the --set argument) and what was
// expected.

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "key_list.h"
#include "ntks/config/load.h"
#include "ntks/util/error.h"
#include "ntks/util/strings.h"
#include "values.h"

namespace ntks::config {
namespace {

class Reader {
 public:
  Reader(YAML::Node node, std::string prefix, const std::string& source, bool has_lines)
      : node_(std::move(node)), prefix_(std::move(prefix)), source_(source), has_lines_(has_lines) {}

  template <class T>
  void field(const char* key, T& value, const char*) {
    const YAML::Node child = node_[key];
    if (!child.IsDefined()) return;
    read(child, prefix_ + key, value);
  }

  template <class S>
  void group(const char* key, S& s, const char*) {
    const YAML::Node child = node_[key];
    if (!child.IsDefined() || child.IsNull()) return;
    std::string path = prefix_ + key;
    if (!child.IsMap())
      fail(child, path, fmt::format("expected a map of keys ({}), got {}",
                                    join(schema::own_keys<S>(), ", "), describe(child)));
    Reader sub(child, path + ".", source_, has_lines_);
    sub.check_keys(schema::own_keys<S>());
    schema::visit(sub, s);
  }

  /// Every key of this map must be one of `known`, and appear once.
  void check_keys(const std::vector<std::string>& known) const {
    std::set<std::string> seen;
    for (const auto& kv : node_) {
      const YAML::Node& k = kv.first;
      if (!k.IsScalar()) fail(k, prefix_ + "?", "keys must be plain names");
      std::string name = k.Scalar();
      std::string path = prefix_ + name;
      if (!seen.insert(name).second) fail(k, path, "the key appears twice");
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string hint = nearest(path, all_keys());
        fail(k, path, fmt::format("did you mean '{}'?", hint), "unknown config key");
      }
    }
  }

 private:
  template <class T>
  void read(const YAML::Node& node, const std::string& path, T& value) const {
    if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      std::vector<std::string> out;
      if (node.IsSequence()) {
        for (const auto& item : node) {
          if (!item.IsScalar()) fail(item, path, "expected a list of strings, got a list holding " + describe(item));
          out.push_back(item.Scalar());
        }
      } else if (node.IsScalar()) {
        out.push_back(node.Scalar());  // a single value is a one-element list
      } else if (!node.IsNull()) {
        fail(node, path, "expected a list of strings, got " + describe(node));
      }
      value = std::move(out);
    } else {
      if (node.IsNull() && std::is_same_v<T, std::string>) {
        value = T{};
        return;
      }
      if (!node.IsScalar() || !values::parse(node.Scalar(), value))
        fail(node, path, fmt::format("expected {}, got {}", values::expected<T>(), describe(node)));
    }
  }

  static std::string describe(const YAML::Node& n) {
    if (n.IsMap()) return "a map";
    if (n.IsSequence()) return "a list";
    if (n.IsNull()) return "nothing (null)";
    return "'" + n.Scalar() + "'";
  }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& path, const std::string& what,
                         const char* kind = "config key") const {
    std::string where = source_;
    if (has_lines_) {
      YAML::Mark m = at.Mark();
      if (m.line >= 0) where += fmt::format(":{}:{}", m.line + 1, m.column + 1);
    }
    throw ConfigError(fmt::format("{} '{}' ({}): {}", kind, path, where, what));
  }

  YAML::Node node_;
  std::string prefix_;
  const std::string& source_;
  bool has_lines_;
};

void apply_node(Config& cfg, const YAML::Node& root, const std::string& source, bool has_lines) {
  if (!root.IsDefined() || root.IsNull()) return;  // an empty file changes nothing
  if (!root.IsMap())
    throw ConfigError(fmt::format("{}: a config must be a map of sections (run, model, ...)", source));
  Reader reader(root, "", source, has_lines);
  reader.check_keys(schema::own_keys<Config>());
  schema::visit(reader, cfg);
}

YAML::Node parse_yaml(const std::string& text, const std::string& source) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}:{}: not valid YAML: {}", source, e.mark.line + 1,
                                  e.mark.column + 1, e.msg));
  }
}

}  // namespace

void apply_yaml(Config& cfg, const std::string& yaml_text, const std::string& source) {
  apply_node(cfg, parse_yaml(yaml_text, source), source, true);
}

void apply_yaml_file(Config& cfg, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("config file '{}' cannot be read", path));
  std::stringstream ss;
  ss << in.rdbuf();
  apply_yaml(cfg, ss.str(), path);
}

void apply_set(Config& cfg, const std::string& assignment) {
  std::string source = "--set " + assignment;
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(fmt::format("{}: expected KEY=VALUE, e.g. --set grads.dim=4096", source));
  std::vector<std::string> path = split(assignment.substr(0, eq), '.');
  for (const auto& p : path)
    if (p.empty()) throw ConfigError(fmt::format("{}: empty part in key '{}'", source, assignment.substr(0, eq)));
  // Build {a: {b: VALUE}} and apply it like a file, so --set gets the same
  // checks; the value is YAML, so lists work: --set data.candidates=[a,b].
  YAML::Node value = parse_yaml(assignment.substr(eq + 1), source);
  YAML::Node root = value;
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    YAML::Node parent(YAML::NodeType::Map);
    parent[*it] = root;
    root.reset(parent);  // rebind; operator= would overwrite the shared node

  }
  apply_node(cfg, root, source, false);
}

Config load(const std::string& file, const std::vector<std::string>& sets) {
  Config cfg;
  if (!file.empty()) apply_yaml_file(cfg, file);
  for (const auto& s : sets) apply_set(cfg, s);
  validate(cfg);
  return cfg;
}

}  // namespace ntks::config
