// `ntk-select check-data`: reads the domain set and the candidates exactly as
// the stages will (index, record layout, chat template, tokenizer, bad-input
// policy) and reports what it found, so a user learns about bad lines, token
// lengths and truncation before a long run, not in the middle of it.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "inputs.h"
#include "ntks/config/enums.h"
#include "ntks/data/corpus_index.h"
#include "ntks/data/sample_reader.h"
#include "ntks/log/log.h"
#include "ntks/log/progress.h"
#include "ntks/tokenizer/tokenizer.h"
#include "ntks/util/error.h"

namespace ntks::cli {
namespace {

nlohmann::json stats_to_json(const data::ReadStats& s) {
  return {{"records", s.records}, {"samples", s.samples},     {"skipped", s.skipped},
          {"truncated", s.truncated}, {"dropped", s.dropped}, {"tokens", s.tokens},
          {"reasons", s.reasons}};
}

data::ReadStats stats_from_json(const nlohmann::json& j) {
  data::ReadStats s;
  s.records = j.at("records");
  s.samples = j.at("samples");
  s.skipped = j.at("skipped");
  s.truncated = j.at("truncated");
  s.dropped = j.at("dropped");
  s.tokens = j.at("tokens");
  s.reasons = j.at("reasons").get<std::map<std::string, int64_t>>();
  return s;
}

struct Part {
  std::string name;  ///< "domain" or "candidates"
  std::vector<std::string> files;
};

// Reads this rank's share of one part; returns the merged stats on rank 0.
data::ReadStats check_part(Context& ctx, const Part& part, const tokenizer::Tokenizer& tok) {
  const auto& a = ctx.args;
  log::StageScope stage("check-data");
  data::IndexOptions io;
  io.id_field = ctx.cfg.data.fields.id;
  const data::CorpusIndex index = data::CorpusIndex::open_shared(part.files, io, ctx.comm);
  data::Range range{0, index.size()};
  if (a.count("range")) range = range_option(a["range"].as<std::string>(), index.size());
  if (a.count("shard")) {
    const data::Range s = data::shard_range(range.size(), a["shard"].as<int>(), a["num-shards"].as<int>());
    range = {range.begin + s.begin, range.begin + s.end};
  }
  const data::Range mine = data::shard_range(range.size(), ctx.comm.rank(), ctx.comm.size());
  range = {range.begin + mine.begin, range.begin + mine.end};

  std::string prefix = a["skipped"].as<std::string>().empty()
                           ? (std::filesystem::path(ctx.cfg.run.dir) / "check-data" / ("skipped-" + part.name)).string()
                           : a["skipped"].as<std::string>() + "-" + part.name;
  if (a.count("shard"))  // array tasks of one job must not overwrite each other's files
    prefix += fmt::format("-shard-{:05d}-of-{:05d}", a["shard"].as<int>(), a["num-shards"].as<int>());
  const std::string skip_path =
      ctx.comm.size() == 1 ? prefix + ".jsonl"
                           : fmt::format("{}-{:05d}-of-{:05d}.jsonl", prefix, ctx.comm.rank(), ctx.comm.size());
  std::filesystem::create_directories(std::filesystem::path(skip_path).parent_path());
  data::SkipLog skip_log(skip_path);

  std::ofstream out;
  if (a.count("output")) {
    const std::string path = a["output"].as<std::string>() + "." + part.name + ".jsonl";
    out.open(path, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(fmt::format("{}: cannot be written", path));
  }
  const bool with_ids = a.count("with-ids") > 0;

  data::SampleReader reader(index, ctx.cfg, tok, &skip_log);
  log::info0("{}: {} records in {} file(s), template {}, rank 0 reads [{}, {})", part.name, index.size(),
             part.files.size(), config::to_string(reader.chat_template()), range.begin, range.end);
  log::ProgressOptions progress_options;
  progress_options.unit = "records";
  log::Progress progress(part.name, range.size(), progress_options);
  int64_t last = range.begin;
  reader.read(range, [&](data::Sample&& s) {
    progress.advance(s.index - last + 1);
    last = s.index + 1;
    if (!out.is_open()) return;
    int64_t response = 0;
    for (uint8_t m : s.response_mask) response += m;
    nlohmann::json j = {{"index", s.index},   {"id", s.id},
                        {"hash", fmt::format("{:016x}", s.content_hash)},
                        {"tokens", s.ids.size()}, {"response_tokens", response}, {"truncated", s.truncated}};
    if (with_ids) {
      j["ids"] = s.ids;
      j["response_mask"] = s.response_mask;
    }
    out << j.dump() << '\n';
  });
  progress.advance(range.end - last);
  progress.finish();
  skip_log.close();
  if (out.is_open() && !out.flush()) throw InputError("--output: write failed");

  const data::ReadStats& local = reader.stats();
  if (local.skipped + local.dropped > 0)
    log::warn("{}: {} line(s) skipped or dropped: see {}", part.name, local.skipped + local.dropped, skip_path);
  const auto all = ctx.comm.gatherv_bytes(stats_to_json(local).dump(), 0);
  data::ReadStats merged;
  if (ctx.comm.is_root())
    for (const std::string& s : all) merged.merge(stats_from_json(nlohmann::json::parse(s)));
  return merged;
}

int check_data_main(Context& ctx) {
  const auto& a = ctx.args;
  if (a.count("shard") != a.count("num-shards")) throw UsageError("--shard and --num-shards go together");
  const std::string which = a["which"].as<std::string>();
  if (which != "domain" && which != "candidates" && which != "all")
    throw UsageError(fmt::format("--which {}: expected domain, candidates or all", which));
  if (which == "all" && (a.count("range") || a.count("shard")))
    throw UsageError("--range and --shard select candidates: use them with --which candidates");
  if (a.count("output") && ctx.comm.size() > 1)
    throw UsageError("--output writes one file: run one process (use --shard to check a part)");

  std::vector<Part> parts;
  if (which != "candidates") parts.push_back({"domain", domain_files(ctx.cfg)});
  if (which != "domain") parts.push_back({"candidates", candidate_files(ctx.cfg)});
  const auto tok = tokenizer::Tokenizer::load(tokenizer_file(ctx.cfg));
  for (const Part& part : parts) {
    const data::ReadStats s = check_part(ctx, part, tok);
    if (ctx.comm.is_root()) std::cout << part.name << ": " << s.summary() << std::endl;
  }
  return 0;
}

}  // namespace

Command check_data_command() {
  Command c;
  c.name = "check-data";
  c.summary = "read the domain set and candidates as the stages will and report bad lines and lengths";
  c.description =
      "Indexes the files (cached beside them), parses every record (data.format, data.fields),\n"
      "applies the chat template (model.template) and the tokenizer (model.tokenizer or\n"
      "<model.path>/tokenizer.json), and applies data.on_error and data.overlong. Prints one\n"
      "summary line per part on stdout: records, samples, tokens, truncated, skipped and\n"
      "dropped lines by reason. Lines that do not become samples go to the skip file(s) with\n"
      "their file, line and reason. Under mpirun every rank checks its share.";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("which", po::value<std::string>()->default_value("all"), "domain, candidates or all")
        ("range", po::value<std::string>(), "candidates: global records A:B only")
        ("shard", po::value<int>(), "candidates: shard I (0-based) of --num-shards, within --range")
        ("num-shards", po::value<int>(), "candidates: number of shards")
        ("skipped", po::value<std::string>()->default_value(""),
         "prefix of the skip files; default RUN/check-data/skipped (RUN = run.dir): "
         "PREFIX-domain.jsonl and PREFIX-candidates.jsonl, with -shard-I-of-N for --shard and "
         "-RANK-of-SIZE under mpirun")
        ("output", po::value<std::string>(),
         "also write one JSONL line per sample (index, id, content hash, token counts) to "
         "OUTPUT.domain.jsonl / OUTPUT.candidates.jsonl (one process only)")
        ("with-ids", "with --output: include the token ids and the response mask");
  };
  c.run = check_data_main;
  return c;
}

}  // namespace ntks::cli
