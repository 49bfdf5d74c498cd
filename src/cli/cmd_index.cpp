// `ntk-select index`: builds or validates the byte-offset index caches of
// corpus files and prints a summary; with --range, --ids or --shard it prints
// the selected records instead, so a user can see what a shard holds.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "command.h"
#include "inputs.h"
#include "ntks/data/corpus_index.h"
#include "ntks/log/log.h"
#include "ntks/util/error.h"
#include "ntks/util/strings.h"

namespace ntks::cli {
namespace {

using data::CorpusIndex;
using data::Range;

double mib(uint64_t bytes) { return bytes / double(1u << 20); }

/// Ids from --ids (comma-separated) or --ids-file (one a line), with where
/// each came from for error messages.
std::vector<std::pair<std::string, std::string>> requested_ids(const po::variables_map& args) {
  std::vector<std::pair<std::string, std::string>> ids;
  if (args.count("ids")) {
    for (std::string& id : split(args["ids"].as<std::string>(), ','))
      if (!id.empty()) ids.emplace_back(std::move(id), "--ids");
  }
  if (args.count("ids-file")) {
    const std::string path = args["ids-file"].as<std::string>();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(fmt::format("{}: cannot be read", path));
    std::string line;
    for (int64_t n = 1; std::getline(in, line); ++n) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      ids.emplace_back(line, fmt::format("{}:{}", path, n));
    }
  }
  return ids;
}

/// Collects output in a large buffer; stdout is only for the records.
class Out {
 public:
  ~Out() { flush(); }
  void line(std::string_view s) {
    buf_.append(s);
    buf_.push_back('\n');
    if (buf_.size() > (1u << 20)) flush();
  }
  void flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), stdout) != buf_.size())
      throw InputError("cannot write to stdout");
    buf_.clear();
    std::fflush(stdout);
  }

 private:
  std::string buf_;
};

void print_index_summary(const CorpusIndex& ix, double seconds, std::ostream& out) {
  uint64_t lines = 0, bytes = 0, index_bytes = 0, built_lines = 0;
  double built_seconds = 0;
  for (const data::FileIndexInfo& f : ix.file_info()) {
    out << fmt::format("{}: {} records, {} lines, {:.1f} MiB; index {:.1f} MiB {} ({})\n", f.path, f.records,
                       f.lines, mib(f.bytes), mib(f.index_bytes),
                       f.cache.empty() ? std::string("not cached") : "in " + f.cache,
                       f.built ? fmt::format("built in {:.2f} s: {}", f.seconds, f.reason)
                               : fmt::format("loaded in {:.3f} s", f.seconds));
    lines += f.lines;
    bytes += f.bytes;
    index_bytes += f.index_bytes;
    if (f.built) {
      built_lines += f.lines;
      built_seconds += f.seconds;
    }
  }
  out << fmt::format("total: {} files, {} records, {} lines, {:.1f} MiB, index {:.1f} MiB, {:.2f} s", ix.files().size(),
                     ix.size(), lines, mib(bytes), mib(index_bytes), seconds);
  if (built_lines > 0) out << fmt::format(", indexed {:.0f} lines/s", built_lines / std::max(built_seconds, 1e-9));
  out << "\n";
}

int index_main(Context& ctx) {
  const po::variables_map& args = ctx.args;
  std::vector<std::string> files;
  if (args.count("file")) files = args["file"].as<std::vector<std::string>>();
  if (files.empty()) files = ctx.cfg.data.candidates;
  if (files.empty()) throw UsageError("ntk-select index: no corpus files given (FILE... or data.candidates)");

  data::IndexOptions options;
  options.id_field = args.count("id-field") ? args["id-field"].as<std::string>() : ctx.cfg.data.fields.id;
  options.cache_dir = args["cache-dir"].as<std::string>();
  options.rebuild = args["rebuild"].as<bool>();

  const bool by_ids = args.count("ids") || args.count("ids-file");
  const bool by_range = args.count("range") > 0;
  const bool by_shard = args.count("shard") || args.count("num-shards");
  if (by_ids && (by_range || by_shard)) throw UsageError("--ids/--ids-file cannot be combined with --range or --shard");
  if (by_shard && !(args.count("shard") && args.count("num-shards")))
    throw UsageError("--shard and --num-shards go together");

  const auto t0 = std::chrono::steady_clock::now();
  CorpusIndex ix = CorpusIndex::open_shared(files, options, ctx.comm);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!ctx.comm.is_root()) return 0;  // one process prints

  if (!by_ids && !by_range && !by_shard) {
    print_index_summary(ix, seconds, std::cout);
    data::DuplicateIds dup = ix.duplicate_ids();
    if (dup.ids > 0)
      log::warn("{} ids name more than one record ({} records), e.g. {}; looking them up is an error", dup.ids,
                dup.records, join(dup.examples, "; "));
    std::cout << fmt::format("duplicate ids: {}\n", dup.ids);
    return 0;
  }

  std::ostringstream summary;
  print_index_summary(ix, seconds, summary);
  for (const std::string& l : split(summary.str(), '\n'))
    if (!l.empty()) log::info("{}", l);
  Out out;
  if (by_ids) {
    for (const auto& [id, from] : requested_ids(args)) {
      std::optional<int64_t> g = ix.find(id);
      if (!g) throw InputError(fmt::format("{}: id '{}' is not in {}", from, id, join(files, ", ")));
      out.line(ix.read(*g));
    }
    return 0;
  }
  Range range = by_range ? range_option(args["range"].as<std::string>(), ix.size()) : Range{0, ix.size()};
  if (by_shard) {
    Range s = data::shard_range(range.size(), args["shard"].as<int>(), args["num-shards"].as<int>());
    range = {range.begin + s.begin, range.begin + s.end};
  }
  log::info("records [{}, {}): {} of {}", range.begin, range.end, range.size(), ix.size());
  ix.for_each(range, [&](int64_t, std::string_view line) { out.line(line); });
  return 0;
}

}  // namespace

Command index_command() {
  Command c;
  c.name = "index";
  c.summary = "build the byte-offset index of corpus files; print ranges, ids or shards";
  c.description =
      "ntk-select index FILE... [options]   (no FILE: data.candidates of the config)\n\n"
      "Builds the index of each JSONL file (records = non-blank lines) once and caches it in\n"
      "FILE.ntksidx, or in the cache folder when the file's folder is not writable; a cache is\n"
      "rebuilt when its file changes. Without a selection it prints a summary on stdout. With\n"
      "--range, --ids/--ids-file or --shard it prints the selected records' lines on stdout\n"
      "(and the summary on stderr). Record numbers are global over the files, in order.";
  c.positional = "file";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("file", po::value<std::vector<std::string>>()->composing(), "corpus JSONL files (positional)")
        ("id-field", po::value<std::string>(), "top-level field that names a record (default data.fields.id)")
        ("cache-dir", po::value<std::string>()->default_value(""),
         "cache folder for unwritable corpus folders (default $NTKS_CACHE_DIR, else ~/.cache/ntk-select)")
        ("rebuild", po::bool_switch(), "rebuild every cache")
        ("range", po::value<std::string>(), "print the records A..B-1: A:B, A: or :B")
        ("ids", po::value<std::string>(), "print the records with these ids (comma-separated; id or file:line)")
        ("ids-file", po::value<std::string>(), "print the records with the ids in this file, one a line")
        ("shard", po::value<int>(), "print shard I (0-based) of the records (or of --range)")
        ("num-shards", po::value<int>(), "number of shards N for --shard");
  };
  c.run = index_main;
  return c;
}

}  // namespace ntks::cli
