#pragma once
// The lines of a JSONL file, parsed (tests of commands that write JSONL).

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "ntks/util/files.h"

namespace ntks::testing {

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(ntks::read_file(path));
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace ntks::testing
