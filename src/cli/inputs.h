#pragma once
// Input files named by the config, resolved in one place for every command:
// the tokenizer file and the corpus file lists.

#include <string>
#include <vector>

#include "ntks/config/config.h"
#include "ntks/data/corpus_index.h"

namespace ntks::cli {

/// model.tokenizer, else <model.path>/tokenizer.json; ConfigError when the
/// config names neither.
std::string tokenizer_file(const config::Config& cfg);

/// The files of the domain set (data.domain) or of the candidate corpus
/// (data.candidates); ConfigError naming the key when it is empty.
std::vector<std::string> domain_files(const config::Config& cfg);
std::vector<std::string> candidate_files(const config::Config& cfg);

/// The value of a --dtype style option (bf16, fp16, fp32); UsageError naming
/// the option otherwise.
config::DType dtype_option(const std::string& option, const std::string& value);

/// The records of a --range option: "A:B", "A:" or ":B" within [0, n];
/// UsageError naming the option otherwise.
data::Range range_option(const std::string& text, int64_t n);

/// A --reuse option (an earlier run's folder) checked, an existing folder
/// that is not run.dir, and made absolute; UsageError otherwise.
std::string reuse_folder(const config::Config& cfg, const std::string& folder);

}  // namespace ntks::cli
