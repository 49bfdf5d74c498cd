// `ntk-select demo-data`: real-text demo data from WordNet, and the on-topic
// share of a selection made from it.

#include <filesystem>
#include <iostream>

#include "command.h"
#include "ntks/corpora/wordnet_demo.h"
#include "ntks/log/log.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::cli {
namespace {

namespace wn = corpora::wordnet;

double parse_share(const std::string& s) {
  if (s == "natural") return -1;
  size_t used = 0;
  double v = -1;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
  }
  if (used != s.size() || !(v >= 0 && v <= 1))
    throw UsageError(fmt::format("--on-topic-share '{}': expected a number from 0 to 1, or natural", s));
  return v;
}

size_t count_at_least(const po::variables_map& a, const char* name, int64_t least) {
  const int64_t v = a[name].as<int64_t>();
  if (v < least) throw UsageError(fmt::format("--{} must be at least {}, got {}", name, least, v));
  return static_cast<size_t>(v);
}

int list_topics(const wn::Database& db) {
  std::cout << "Named topics (the paper's domains; --domain NAME takes their fields and sub-fields):\n";
  const auto named = wn::named_topics();
  const auto named_sizes = wn::topic_sizes(db, named);
  for (const auto& [name, n] : named_sizes) {
    std::string roots;
    for (const std::string& r : wn::topic_roots(name)) roots += (roots.empty() ? "" : ", ") + r;
    std::cout << fmt::format("  {:<12} {:>6} synsets   fields: {}\n", name, n, roots);
  }
  std::cout << "WordNet topic domains (--domain NAME takes the domain and the domains under it), by size:\n";
  auto sizes = wn::topic_sizes(db, wn::all_topic_names(db));
  std::stable_sort(sizes.begin(), sizes.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  for (const auto& [name, n] : sizes) std::cout << fmt::format("  {:<28} {:>6}\n", name, n);
  return 0;
}

int demo_data_main(Context& ctx) {
  const auto& a = ctx.args;
  if (!ctx.comm.is_root()) return 0;  // one writer; the data are small
  const std::string out = a.count("out") ? a["out"].as<std::string>() : "";
  if (a.count("report")) {
    if (out.empty()) throw UsageError("--report needs --out: the folder demo-data wrote");
    std::cout << wn::format_share(wn::on_topic_report(out, a["report"].as<std::string>())) << "\n";
    return 0;
  }
  const std::string dir = a["wordnet"].as<std::string>();
  const wn::Database db = wn::Database::load(dir);
  log::info("read {} synsets from {}", db.synsets().size(), dir);
  if (a.count("list-topics")) return list_topics(db);
  if (out.empty()) throw UsageError("--out is required (or --list-topics)");
  if (!a.count("domain")) throw UsageError("--domain is required (--list-topics lists the topics)");

  wn::DemoOptions opt;
  opt.topic = a["domain"].as<std::string>();
  opt.domain_size = count_at_least(a, "domain-size", 1);
  opt.pool_size = count_at_least(a, "pool-size", 1);
  opt.test_size = count_at_least(a, "test-size", 0);
  opt.on_topic_share = parse_share(a["on-topic-share"].as<std::string>());
  opt.seed = a["seed"].as<uint64_t>();
  const wn::DemoSet set = wn::draw_demo_set(db, opt);

  auto jsonl = [](const std::vector<wn::Sample>& samples) {
    std::string text;
    for (const wn::Sample& s : samples) text += wn::sample_json_line(s);
    return text;
  };
  std::filesystem::create_directories(out);
  // labels.json last: the report reads it, so its presence means the set is whole.
  write_file_atomic(out + "/domain.jsonl", jsonl(set.domain));
  write_file_atomic(out + "/pool.jsonl", jsonl(set.pool));
  write_file_atomic(out + "/test.jsonl", jsonl(set.test));
  write_file_atomic(out + "/labels.json", wn::labels_json(set, opt, dir));
  log::info("topic {} ({} WordNet domains): {} domain samples in {}/domain.jsonl; pool of {} with {} on-topic ({:.1f}%) in "
            "{}/pool.jsonl; {} held-out on-topic test samples in {}/test.jsonl; {} eligible on-topic synsets, {} "
            "off-topic, {} mixed left out",
            opt.topic, set.members.size(), set.domain.size(), out, set.pool.size(), set.pool_on_topic,
            100.0 * static_cast<double>(set.pool_on_topic) / static_cast<double>(set.pool.size()), out,
            set.test.size(), out, set.on_topic_synsets, set.off_topic_synsets, set.mixed_synsets);
  return 0;
}

}  // namespace

Command demo_data_command() {
  Command c;
  c.name = "demo-data";
  c.summary =
      "make a domain set, a candidate pool and a held-out test set of instruction samples from WordNet (demo); "
      "report on-topic share";
  c.description =
      "Turns WordNet synsets (Debian: apt-get install wordnet-base) into alpaca-style JSONL\n"
      "samples (instruction, input, output, id, topic, topics): the meaning of a word, an example\n"
      "sentence, the word for a definition, synonyms, what it is a kind of, its opposite.\n"
      "Each synset gives at most one sample. A sample's topic is the topic domain WordNet gives\n"
      "its synset (pointer ';c'), or, where it has none, that of its nearest hypernyms up to 3\n"
      "steps away; otherwise 'general'. --domain medicine takes the domains medicine and\n"
      "medical_science and every domain under them (surgery, pathology, ...).\n"
      "Writes OUT/domain.jsonl (--domain-size on-topic samples), OUT/pool.jsonl (the candidate\n"
      "pool: --pool-size samples, --on-topic-share of them on-topic, no synset shared with the\n"
      "domain set), OUT/test.jsonl (--test-size held-out on-topic samples for evaluating a model\n"
      "fine-tuned on a selection: synsets in neither of the others; the domain set and pool are\n"
      "the same whatever its size) and OUT/labels.json (topic fields, pool base rate, counts).\n"
      "Each test line is also a multiple-choice question for `ntk-select evaluate`: \"options\" holds\n"
      "its output and 3 distractors (outputs of other test samples of the same kind, or of pool\n"
      "samples of that kind when there are too few), \"answer\" the index of the true one; both drawn\n"
      "with the seed.\n"
      "The same seed gives the same bytes. Samples whose synset is labelled both on- and\n"
      "off-topic are left out.\n"
      "\n"
      "  ntk-select demo-data --domain medicine --out demo-data\n"
      "  ntk-select demo-data --list-topics\n"
      "  ntk-select demo-data --out demo-data --report RUN/select/selected_ids.txt";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("wordnet", po::value<std::string>()->default_value("/usr/share/wordnet"),
         "folder of the WordNet 3.0 files data.noun, data.verb, data.adj, data.adv")
        ("out", po::value<std::string>(), "output folder (with --report: the folder demo-data wrote)")
        ("domain", po::value<std::string>(),
         "topic of the domain set: medicine, finance, law, psychology, or any WordNet topic domain "
         "(see --list-topics)")
        ("domain-size", po::value<int64_t>()->default_value(200), "samples in OUT/domain.jsonl")
        ("pool-size", po::value<int64_t>()->default_value(5000), "samples in OUT/pool.jsonl")
        ("test-size", po::value<int64_t>()->default_value(200),
         "held-out on-topic samples in OUT/test.jsonl (0: an empty file)")
        ("on-topic-share", po::value<std::string>()->default_value("0.05"),
         "share of the pool that is on-topic (0 to 1), or 'natural': the topic's share among all eligible "
         "WordNet synsets")
        ("seed", po::value<uint64_t>()->default_value(1), "seed of the draw and of each sample's template")
        ("list-topics", "print the topics and their sizes (eligible on-topic synsets), then exit")
        ("report", po::value<std::string>(),
         "instead of making data: read selected ids (one per line, e.g. RUN/select/selected_ids.txt) and print "
         "'on-topic: X of M selected (Y%) vs pool base rate Z%' using --out's pool.jsonl and labels.json");
  };
  c.run = demo_data_main;
  return c;
}

}  // namespace ntks::cli
