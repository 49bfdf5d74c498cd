#pragma once
// YAML <-> Config: loading with file:line errors, --set overrides, the
// commented dump, validation and the stable hash.
//
// Priority: defaults < --config file < --set, applied in that order. An
// unknown key is an error naming the nearest valid key; a value of the wrong
// type names the key, its file and line, and the expected type.

#include <string>
#include <vector>

#include "ntks/config/config.h"

namespace ntks::config {

/// Defaults, then the file (if not empty), then each "a.b=value" in order;
/// then validate(). Throws ConfigError.
Config load(const std::string& file, const std::vector<std::string>& sets);

/// Applies a YAML document; `source` names it in errors (a path or "--set ...").
void apply_yaml(Config& cfg, const std::string& yaml_text, const std::string& source);
void apply_yaml_file(Config& cfg, const std::string& path);
/// Applies one "a.b=value" override; the value is parsed as YAML ("[a, b]" is a list).
void apply_set(Config& cfg, const std::string& assignment);

/// Range and consistency checks; the message names the key(s).
void validate(const Config& cfg);

/// The resolved config as YAML, with a comment per key when `comments`.
std::string dump_yaml(const Config& cfg, bool comments = true);

/// One "key=value" line per key in schema order, values in canonical form:
/// the basis of the hash, independent of key order and formatting in the file.
std::string canonical_text(const Config& cfg);
/// 16 hex digits (XXH3-64 of canonical_text).
std::string hash(const Config& cfg);

/// Every dotted key ("grads.dim"), in schema order.
std::vector<std::string> all_keys();

}  // namespace ntks::config
