// train_tokenizer: count, merge, write, with timings and one summary line.

#include "ntks/tokenizer/bpe_trainer.h"

#include <chrono>
#include <filesystem>

#include "ntks/log/log.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "ntks/util/strings.h"

namespace ntks::tokenizer {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TrainSummary train_tokenizer(const std::vector<std::string>& inputs, const std::string& out_dir,
                             const BpeTrainerOptions& options) {
  if (inputs.empty()) throw UsageError("no input files: name JSONL files with --input or as arguments");
  const auto start = std::chrono::steady_clock::now();
  TrainSummary s;
  const WordCounts counts = count_files(inputs, options);
  s.count_seconds = seconds_since(start);
  s.documents = counts.documents;
  s.pre_tokens = counts.pre_tokens;
  s.unique_words = static_cast<int64_t>(counts.words.size());
  if (counts.words.empty())
    throw InputError(fmt::format("{}: no text to train on ({} records, none with any text)", join(inputs, ", "),
                                 counts.documents));
  log::info0("counted {} pre-tokens ({} distinct) in {} records in {:.1f} s", s.pre_tokens, s.unique_words,
             s.documents, s.count_seconds);

  const auto merge_start = std::chrono::steady_clock::now();
  const BpeModel model = train_bpe(counts, options);
  s.merge_seconds = seconds_since(merge_start);
  s.merges = static_cast<int64_t>(model.merges.size());
  s.vocab_size = model.vocab_size();

  const std::filesystem::path dir(out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError(fmt::format("{}: cannot create the output folder ({})", out_dir, ec.message()));
  write_file_atomic((dir / "tokenizer.json").string(), tokenizer_json(model));
  write_file_atomic((dir / "tokenizer_config.json").string(), tokenizer_config_json(model));
  s.seconds = seconds_since(start);
  return s;
}

}  // namespace ntks::tokenizer
