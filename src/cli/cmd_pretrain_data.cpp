// `ntk-select pretrain-data`: the pretraining corpus from Debian's English
// text packages, without the demo's samples.

#include <chrono>
#include <iostream>

#include "command.h"
#include "ntks/corpora/pretrain_corpus.h"
#include "ntks/log/log.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "ntks/util/strings.h"

namespace ntks::cli {
namespace {

namespace cp = corpora;

std::string megabytes(uint64_t bytes) { return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6); }

std::string summary(const cp::PretrainCorpus& c, const std::string& out, double seconds) {
  std::string s = fmt::format("{:<9} {:>9} {:>10} {:>9} {:>9} {:>6} {:>7} {:>7}\n", "source", "documents", "text",
                              "excluded", "duplicate", "empty", "invalid", "capped");
  cp::SourceCount total;
  for (const cp::SourceCount& x : c.counts) {
    s += fmt::format("{:<9} {:>9} {:>10} {:>9} {:>9} {:>6} {:>7} {:>7}\n", x.source, x.documents, megabytes(x.bytes),
                     x.excluded, x.duplicate, x.empty, x.invalid, x.capped);
    total.documents += x.documents, total.bytes += x.bytes, total.excluded += x.excluded;
    total.duplicate += x.duplicate, total.empty += x.empty, total.invalid += x.invalid, total.capped += x.capped;
  }
  s += fmt::format("{:<9} {:>9} {:>10} {:>9} {:>9} {:>6} {:>7} {:>7}\n", "total", total.documents,
                   megabytes(total.bytes), total.excluded, total.duplicate, total.empty, total.invalid, total.capped);
  if (c.excluded.files.empty()) {
    s += "excluded: nothing (no --exclude)\n";
  } else {
    s += fmt::format("excluded: {} samples from {} files, {} WordNet synsets; documents checked against {} strings\n",
                     c.excluded.samples, c.excluded.files.size(), c.excluded.synsets.size(), c.excluded_strings);
  }
  s += fmt::format("wrote {} documents ({} of text) to {} in {:.1f} s\n", total.documents, megabytes(total.bytes), out,
                   seconds);
  return s;
}

int pretrain_data_main(Context& ctx) {
  const auto& a = ctx.args;
  if (!ctx.comm.is_root()) return 0;  // one writer
  if (!a.count("out")) throw UsageError("--out is required: the JSONL file to write");
  const auto start = std::chrono::steady_clock::now();
  cp::PretrainOptions opt;
  opt.sources = split(a["sources"].as<std::string>(), ',');
  if (a["sources"].as<std::string>() == "all") opt.sources = cp::pretrain_sources();
  if (a.count("exclude")) opt.exclude = a["exclude"].as<std::vector<std::string>>();
  opt.max_bytes = a["max-bytes"].as<uint64_t>();
  opt.seed = a["seed"].as<uint64_t>();
  opt.wordnet_dir = a["wordnet"].as<std::string>();
  opt.dictd_dir = a["dictd"].as<std::string>();
  opt.fortunes_dir = a["fortunes"].as<std::string>();

  const cp::PretrainCorpus corpus = cp::build_pretrain_corpus(opt);
  for (const std::string& s : corpus.skipped) log::warn("{}", s);
  std::string text;
  for (const cp::Document& d : corpus.documents) text += cp::document_json_line(d);
  const std::string out = a["out"].as<std::string>();
  write_file_atomic(out, text);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << summary(corpus, out, seconds);
  return 0;
}

}  // namespace

Command pretrain_data_command() {
  Command c;
  c.name = "pretrain-data";
  c.summary = "write a pretraining corpus (JSONL) of English text from Debian packages, without the demo's samples";
  c.description =
      "Reads English text that Debian ships and writes one document a line, {\"id\", \"source\",\n"
      "\"text\"}, for `ntk-select pretrain`. Sources (--sources) and their packages:\n"
      "  wordnet   a short text per WordNet 3.0 synset: words, gloss, examples  wordnet-base\n"
      "  gcide     GCIDE entries (Webster 1913 and later) without markup and    dict-gcide\n"
      "            without the senses GCIDE took from WordNet\n"
      "  jargon    the Jargon File                                              dict-jargon\n"
      "  foldoc    the Free On-line Dictionary of Computing                     dict-foldoc\n"
      "  devil     The Devil's Dictionary (Ambrose Bierce)                      dict-devil\n"
      "  fortunes  fortune cookies                                              fortunes, fortunes-min\n"
      "A model pretrained on it must not have seen the samples it is later judged on: with\n"
      "--exclude DEMO_DIR, the WordNet synsets behind the folder's samples (domain.jsonl,\n"
      "pool.jsonl, test.jsonl) give no document, and any document that contains one of the\n"
      "samples' instruction, input or output texts, or a gloss or example sentence of one of\n"
      "those synsets (20 bytes or longer; whitespace runs compared as one space), is dropped.\n"
      "Texts that repeat an earlier document are kept once. Documents of all sources are then\n"
      "shuffled by --seed; the same inputs give the same bytes. Entries that are not UTF-8 are\n"
      "left out with a warning naming them; a missing file names the package to install.\n"
      "\n"
      "  ntk-select demo-data --domain medicine --out demo-data\n"
      "  ntk-select pretrain-data --out corpus.jsonl --exclude demo-data\n"
      "  ntk-select pretrain-data --out small.jsonl --sources wordnet,devil --max-bytes 5000000";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("out", po::value<std::string>(), "the JSONL file to write (atomically: the old file or the whole new one)")
        ("sources", po::value<std::string>()->default_value("all"),
         "comma-separated sources to read: wordnet, gcide, jargon, foldoc, devil, fortunes; or all")
        ("exclude", po::value<std::vector<std::string>>()->multitoken()->composing(),
         "demo-data output folders (their domain.jsonl, pool.jsonl, test.jsonl) or JSONL files of samples "
         "whose texts, and WordNet synsets (ids wn-<pos><offset>-...), the corpus must not contain; repeatable")
        ("max-bytes", po::value<uint64_t>()->default_value(0),
         "keep documents in shuffled order while their text stays within this many bytes; 0: all")
        ("seed", po::value<uint64_t>()->default_value(1), "seed of the shuffle and of the WordNet text forms")
        ("wordnet", po::value<std::string>()->default_value("/usr/share/wordnet"),
         "folder of the WordNet 3.0 files data.noun, data.verb, data.adj, data.adv (wordnet-base)")
        ("dictd", po::value<std::string>()->default_value("/usr/share/dictd"),
         "folder of the dictd databases NAME.index and NAME.dict.dz (dict-gcide, dict-jargon, dict-foldoc, "
         "dict-devil)")
        ("fortunes", po::value<std::string>()->default_value("/usr/share/games/fortunes"),
         "folder of the fortune files (fortunes, fortunes-min); *.dat and *.u8 are not read");
  };
  c.run = pretrain_data_main;
  return c;
}

}  // namespace ntks::cli
