// `ntk-select report` through the real binary on a tiny model and demo-like
// data (records with a topic, a labels.json beside the pool): every section
// with the run's own numbers, the page loads nothing from anywhere, the
// sections of a run stopped early or of another method say "not available",
// folders that are no run are errors, and a headless Chromium renders the
// page (plots visible, no console message). Plus the PCA and HTML helpers.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ntks/report/html.h"
#include "ntks/report/pca.h"
#include "ntks/store/array_file.h"
#include "ntks/util/svg_plot.h"
#include "run_fixture.h"
#include "test_util.h"

using ntks::testing::count_of;

namespace {

using namespace ntks;
using namespace ntks::testing::run;
using ntks::testing::run_command;
namespace fs = std::filesystem;

const std::vector<std::string> kTopics = {"medicine", "law", "general"};

// 30 records as demo-data writes them (id, instruction, input, output, topic,
// topics); every instruction holds characters HTML must escape.
std::string pool_text(const std::string& prefix, int n, int topic_offset) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    const std::string topic = kTopics[static_cast<size_t>((i + topic_offset) % 3)];
    nlohmann::ordered_json j;
    j["id"] = fmt::format("{}{}", prefix, i);
    j["instruction"] = fmt::format("q{}{} <i>&amp\"", i, std::string(static_cast<size_t>(i % 5), '?'));
    j["input"] = "";
    j["output"] = fmt::format("a{} {}", i, i % 3 ? "mg" : "no");
    j["topic"] = topic;
    j["topics"] = topic == "general" ? std::vector<std::string>{} : std::vector<std::string>{topic};
    out += j.dump() + "\n";
  }
  return out;
}

std::vector<std::string> nonempty_lines(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// The body of <section id="ID"> ... </section>.
std::string section(const std::string& html, const std::string& id) {
  const size_t at = html.find("<section id=\"" + id + "\">");
  if (at == std::string::npos) return "";
  return html.substr(at, html.find("</section>", at) - at);
}

// Nothing that would load from elsewhere: the only "http" is the SVG namespace.
void expect_self_contained(const std::string& html) {
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(count_of(html, "http://"), count_of(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  for (const char* bad : {"src=\"http", "href=\"http", "src='http", "href='http", "src=\"//", "href=\"//", "<script",
                          "<link", "<iframe", "<img", "@import", "url("})
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
}

struct ReportSelected {
  std::string id;
  double score = 0;
  int64_t rank = 0;
};

// The selected rows of RUN/select/scores.h5, best first.
std::vector<ReportSelected> read_selected(const std::string& run) {
  const store::ArrayFileReader r(run + "/select/scores.h5");
  const auto ids = r.read_strings("ids");
  const auto scores = r.read_double("scores");
  const auto rank = r.read_int64("rank");
  std::vector<ReportSelected> out;
  for (size_t i = 0; i < ids.size(); ++i)
    if (rank[i] > 0) out.push_back({ids[i], scores[i], rank[i]});
  std::sort(out.begin(), out.end(), [](const ReportSelected& a, const ReportSelected& b) { return a.rank < b.rank; });
  return out;
}

// One full run on the demo-like pool, shared by the tests that read its page.
class ReportCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fixture_ = std::make_unique<RunFixture>();
    fs::create_directories(fixture_->dir.file("demo"));
    pool_ = fixture_->dir.write("demo/pool.jsonl", pool_text("p", 30, 0));
    fixture_->dir.write("demo/labels.json",
                        R"({"topic": "medicine", "members": ["medicine"], "pool_base_rate": 0.3333})");
    run_ = fixture_->run_dir("full");
    auto r = fixture_->ntks("full", fmt::format("run --set data.candidates=[{}]", pool_));
    run_output_ = r.output;
    ASSERT_EQ(r.status, 0) << r.output;
  }
  static void TearDownTestSuite() { fixture_.reset(); }

  static std::unique_ptr<RunFixture> fixture_;
  static std::string pool_, run_, run_output_;
};
std::unique_ptr<RunFixture> ReportCli::fixture_;
std::string ReportCli::pool_, ReportCli::run_, ReportCli::run_output_;

TEST_F(ReportCli, RunWritesThePageWithEverySectionAndTheRunsOwnNumbers) {
  const std::string page = run_ + "/report.html";
  ASSERT_TRUE(fs::exists(page)) << run_output_;
  EXPECT_NE(run_output_.find("report: " + page), std::string::npos) << run_output_;
  const std::string html = read_file(page);
  expect_self_contained(html);
  EXPECT_LT(html.size(), 200u * 1024) << "the page should stay small";
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* id : {"stages", "forecast", "scores", "knn", "composition", "map", "samples", "diagnostics"})
    EXPECT_FALSE(section(html, id).empty()) << id;

  // Forecast: what embed and grads forecast after their first block (of 4 records).
  const std::string forecast = section(html, "forecast");
  EXPECT_NE(forecast.find("<td>first block</td><td>embed</td><td>embed candidates</td><td class=\"num\">30</td>"),
            std::string::npos)
      << forecast;
  const auto grads_forecast = nlohmann::json::parse(read_file(run_ + "/forecast/grads.json"));
  EXPECT_NE(forecast.find(fmt::format("<td>first block</td><td>grads</td><td>grads candidates</td><td class=\"num\">{}</td>",
                                      grads_forecast["stages"][0]["samples"].get<int>())),
            std::string::npos)
      << forecast;
  EXPECT_NE(forecast.find("first block: 4 records in "), std::string::npos) << forecast;

  // Stages: each ran, with the counts of its manifest.
  const std::string stages = section(html, "stages");
  for (const auto& s : kStages) EXPECT_NE(stages.find("<td>" + s + "</td><td>ran</td>"), std::string::npos) << s;
  EXPECT_NE(stages.find("candidates 30, domain 6"), std::string::npos) << stages;  // embed
  EXPECT_NE(stages.find("samples/s"), std::string::npos);
  EXPECT_NE(stages.find("BLAS: OpenBLAS "), std::string::npos) << stages;  // the kernels that computed it
  const auto manifest = nlohmann::json::parse(read_file(run_ + "/manifest.json"));
  EXPECT_NE(stages.find(manifest["config_hash"].get<std::string>()), std::string::npos);

  // Scores: 6 selected of the pre-selected (those with at least one vote:
  // at most preselect.size 12), which are the scored ones.
  const std::vector<ReportSelected> sel = read_selected(run_);
  ASSERT_EQ(sel.size(), 6u);
  const size_t pre = nonempty_lines(run_ + "/preselect/preselected_ids.txt").size();
  ASSERT_GE(pre, 6u);
  EXPECT_NE(html.find(fmt::format("<b>6</b> selected of {} scored", pre)), std::string::npos);
  const std::string scores = section(html, "scores");
  EXPECT_NE(scores.find(fmt::format("{} candidates scored", pre)), std::string::npos) << scores;
  EXPECT_EQ(count_of(scores, "<svg"), 1u);
  EXPECT_EQ(scores.find("not available"), std::string::npos) << scores;
  double lo = sel[0].score;
  for (const ReportSelected& s : sel) lo = std::min(lo, s.score);
  EXPECT_NE(scores.find(fmt::format("<td>selected</td><td class=\"num\">6</td><td class=\"num\">{:.6g}</td>", lo)),
            std::string::npos)
      << scores;

  // kNN: the pre-selection's size and its vote counts.
  const std::string knn = section(html, "knn");
  EXPECT_NE(knn.find(fmt::format("{} candidates pre-selected of 30 embedded, 6 of them selected", pre)),
            std::string::npos)
      << knn;
  EXPECT_NE(knn.find("5 nearest"), std::string::npos);
  EXPECT_EQ(count_of(knn, "<svg"), 1u);

  // Composition: one file, every selected from it; labels against the pool.
  const std::string comp = section(html, "composition");
  EXPECT_NE(comp.find(fmt::format("<td>{}</td><td class=\"num\">30</td><td class=\"num\">{}</td><td "
                                  "class=\"num\">6</td><td class=\"num\">100.0%</td>",
                                  pool_, pre)),
            std::string::npos)
      << comp;
  std::map<std::string, int> topic_of_id, selected_by_topic;
  for (const std::string& line : nonempty_lines(pool_)) {
    const auto j = nlohmann::json::parse(line);
    topic_of_id[j["id"]] = static_cast<int>(std::find(kTopics.begin(), kTopics.end(), j["topic"]) - kTopics.begin());
  }
  const std::vector<std::string> ids = nonempty_lines(run_ + "/select/selected_ids.txt");
  ASSERT_EQ(ids.size(), 6u);
  EXPECT_EQ(ids[0], sel[0].id);
  for (const std::string& id : ids) ++selected_by_topic[kTopics[static_cast<size_t>(topic_of_id.at(id))]];
  EXPECT_NE(comp.find("Field <code>topic</code>"), std::string::npos) << comp;
  for (const auto& t : kTopics)
    EXPECT_NE(comp.find(fmt::format("<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1f}%</td><td "
                                    "class=\"num\">33.3%</td>",
                                    t, selected_by_topic[t], 100.0 * selected_by_topic[t] / 6)),
              std::string::npos)
        << t << "\n"
        << comp;
  const int on = selected_by_topic["medicine"];
  EXPECT_NE(comp.find(fmt::format("{} of 6 selected are on the domain's topic (<b>{:.1f}%</b>)", on, 100.0 * on / 6)),
            std::string::npos)
      << comp;

  // Map: one scatter with the four groups.
  const std::string map = section(html, "map");
  EXPECT_EQ(count_of(map, "<svg"), 1u);
  for (const char* g : {"candidates (30)", "pre-selected", "domain", "selected"})
    EXPECT_NE(map.find(std::string(">") + g + "</text>"), std::string::npos) << g;
  EXPECT_EQ(count_of(map, "<circle"), 30u + pre + 6 + 6);
  EXPECT_NE(map.find(fmt::format("#1 {} (", sel[0].id)), std::string::npos);  // hover text of the best

  // Samples: the best one with its score, its text escaped.
  const std::string samples = section(html, "samples");
  EXPECT_NE(samples.find(fmt::format("<td class=\"num\">1</td><td>{}</td><td class=\"num\">{:.8g}</td>", sel[0].id,
                                     sel[0].score)),
            std::string::npos)
      << samples;
  const std::string best_n = sel[0].id.substr(1);
  EXPECT_NE(samples.find("q" + best_n), std::string::npos);
  EXPECT_NE(samples.find("&lt;i&gt;&amp;amp&quot;"), std::string::npos) << samples;
  EXPECT_EQ(html.find("<i>"), std::string::npos);
  EXPECT_NE(samples.find("All selected samples are shown"), std::string::npos);  // 6 <= 10

  EXPECT_NE(section(html, "diagnostics").find("not available: "), std::string::npos);
}

TEST_F(ReportCli, DiagnosticsJsonAndSvgAreEmbeddedWithoutScriptsOrRemoteReferences) {
  fs::create_directories(run_ + "/diagnose");
  write_file_atomic(run_ + "/diagnose/stability.json",
                    R"({"what": "stability", "cosine_final": 0.9312, "steps": 50, "ok": true,
                        "kernel": {"frobenius": 12.5, "deep": {"x": 1}}, "curve": [1, 2, 3]})");
  util::PlotOptions o;
  o.title = "kernel cosine over steps";
  std::string svg = util::svg_line_chart({util::PlotSeries{"cosine", "#1f77b4", {0, 1, 2}, {1, 0.95, 0.93}}}, o);
  svg.insert(svg.find("</svg>"), "<script>alert(1)</script><image href=\"http://example.invalid/x.png\"/>");
  write_file_atomic(run_ + "/diagnose/stability.svg", "<?xml version=\"1.0\"?>\n" + svg);
  const std::string out = fixture_->dir.file("diag.html");
  auto r = run_command(fmt::format("{} report {} --out {} 2>&1", NTKS_BINARY, run_, out));
  fs::remove_all(run_ + "/diagnose");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("report: " + out), std::string::npos) << r.output;
  const std::string html = read_file(out);
  expect_self_contained(html);
  const std::string diag = section(html, "diagnostics");
  EXPECT_EQ(diag.find("not available"), std::string::npos) << diag;
  EXPECT_NE(diag.find("<td>cosine_final</td><td class=\"num\">0.9312</td>"), std::string::npos) << diag;
  EXPECT_NE(diag.find("<td>steps</td><td class=\"num\">50</td>"), std::string::npos);
  EXPECT_NE(diag.find("<td>ok</td><td class=\"num\">true</td>"), std::string::npos);
  EXPECT_NE(diag.find("<td>kernel.frobenius</td><td class=\"num\">12.5</td>"), std::string::npos);
  EXPECT_EQ(diag.find("curve"), std::string::npos);                     // not a scalar
  EXPECT_EQ(diag.find("deep.x"), std::string::npos);                    // one level of nesting only
  EXPECT_NE(diag.find("kernel cosine over steps"), std::string::npos);  // the plot, inline
  EXPECT_EQ(diag.find("<?xml"), std::string::npos);
  EXPECT_EQ(diag.find("alert(1)"), std::string::npos);
  EXPECT_EQ(diag.find("example.invalid"), std::string::npos);
  EXPECT_NE(diag.find("<image data-removed=\"\"/>"), std::string::npos) << diag;
  EXPECT_NE(diag.find("stability.svg"), std::string::npos);
}

TEST_F(ReportCli, HeadlessChromiumRendersThePlotsWithoutConsoleMessages) {
  if (run_command("command -v chromium >/dev/null 2>&1").status != 0)
    GTEST_SKIP() << "chromium is not installed (cluster/install-deps installs it)";
  const std::string page = run_ + "/report.html", shot = fixture_->dir.file("shot.png");
  const std::string chromium = fmt::format(
      "timeout 120 chromium --headless --disable-gpu --no-sandbox --no-first-run --user-data-dir={} "
      "--enable-logging=stderr --v=0",
      fixture_->dir.file("chromium-profile"));
  auto r = run_command(fmt::format("{} --screenshot={} --window-size=1200,3000 file://{} 2>&1", chromium, shot, page));
  ASSERT_EQ(r.status, 0) << r.output;
  // Console messages (script errors, failed loads) appear as ":CONSOLE" log lines.
  EXPECT_EQ(r.output.find(":CONSOLE"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Uncaught"), std::string::npos) << r.output;
  ASSERT_TRUE(fs::exists(shot)) << r.output;
  EXPECT_GT(fs::file_size(shot), 20000u);
  // Decoded: not blank, and the plots' colours are there (selected red, domain blue, others grey).
  auto stats = run_command(fmt::format("/usr/bin/python3 {}/tests/scripts/png_stats.py {} d62728 1f77b4 9aa5b1 2>&1",
                                       NTKS_SOURCE_DIR, shot));
  ASSERT_EQ(stats.status, 0) << stats.output;
  const auto j = nlohmann::json::parse(stats.output);
  EXPECT_EQ(j["width"], 1200);
  EXPECT_EQ(j["height"], 3000);
  EXPECT_GT(j["non_white"].get<double>(), 0.02) << stats.output;
  EXPECT_GT(j["grey_std"].get<double>(), 10) << stats.output;
  EXPECT_GT(j["colours"]["d62728"].get<int>(), 500) << stats.output;
  EXPECT_GT(j["colours"]["1f77b4"].get<int>(), 20) << stats.output;
  EXPECT_GT(j["colours"]["9aa5b1"].get<int>(), 500) << stats.output;

  // The rendered DOM holds every section and plot; and the console check does
  // see an error when there is one (the same page with a broken script).
  std::string broken = read_file(page);
  broken.insert(broken.find("</body>"), "<script>no_such_function();</script>");
  const std::string bad = fixture_->dir.write("broken.html", broken);
  auto dom = run_command(fmt::format("{} --dump-dom file://{} 2>&1", chromium, bad));
  ASSERT_EQ(dom.status, 0) << dom.output;
  EXPECT_NE(dom.output.find("Uncaught ReferenceError"), std::string::npos) << dom.output;
  EXPECT_NE(dom.output.find(":CONSOLE"), std::string::npos);
  for (const char* id : {"stages", "scores", "knn", "composition", "map", "samples", "diagnostics"})
    EXPECT_NE(dom.output.find(fmt::format("<section id=\"{}\">", id)), std::string::npos) << id;
  EXPECT_EQ(count_of(dom.output, "<svg"), 3u);
}

TEST(ReportCliEarly, ARunStoppedAfterEmbedSaysWhatIsNotAvailable) {
  RunFixture f;
  auto r = f.ntks("early", "run --to embed");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string page = f.run_dir("early") + "/report.html";
  EXPECT_NE(r.output.find("report: " + page), std::string::npos) << r.output;
  const std::string html = read_file(page);
  expect_self_contained(html);
  EXPECT_NE(html.find("no RUN/manifest.json: the run has not completed"), std::string::npos);
  const std::string stages = section(html, "stages");
  // No RUN/manifest.json: the stage manifests say which stages completed.
  EXPECT_NE(stages.find("<td>embed</td><td>complete</td>"), std::string::npos) << stages;
  EXPECT_NE(stages.find("<td>grads</td><td>no manifest</td>"), std::string::npos) << stages;
  for (const char* id : {"scores", "knn", "composition", "samples", "diagnostics"})
    EXPECT_NE(section(html, id).find("<p class=\"na\">not available: "), std::string::npos) << id;
  EXPECT_NE(section(html, "scores").find("the score and select stages have not run"), std::string::npos);
  EXPECT_NE(section(html, "knn").find("preselected.h5 is missing"), std::string::npos);
  // The map has the embeddings already: candidates and domain, no selection.
  const std::string map = section(html, "map");
  EXPECT_EQ(count_of(map, "<svg"), 1u);
  EXPECT_EQ(count_of(map, "<circle"), 30u + 6);
  EXPECT_NE(map.find("not available: the selected points"), std::string::npos);
}

TEST(ReportCliMethods, KnnOnTwoFilesCountsEachFileAndSaysThereAreNoNtkScores) {
  RunFixture f;
  fs::create_directories(f.dir.file("demo"));
  const std::string pool = f.dir.write("demo/pool.jsonl", pool_text("p", 30, 0));
  const std::string extra = f.dir.write("extra.jsonl", pool_text("z", 10, 1));
  auto r = f.ntks("knn", fmt::format("run --set select.method=knn --set data.candidates=[{},{}]", pool, extra));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string run = f.run_dir("knn");
  const std::string html = read_file(run + "/report.html");
  expect_self_contained(html);
  EXPECT_NE(section(html, "scores").find("not available: NTK scores: select.method is knn"), std::string::npos);
  EXPECT_NE(html.find("select.method <b>knn</b>"), std::string::npos);
  std::map<char, int> pre, sel;
  for (const std::string& id : nonempty_lines(run + "/preselect/preselected_ids.txt")) ++pre[id[0]];
  for (const std::string& id : nonempty_lines(run + "/select/selected_ids.txt")) ++sel[id[0]];
  const std::string comp = section(html, "composition");
  for (const auto& [file, prefix, n] : {std::tuple{pool, 'p', 30}, std::tuple{extra, 'z', 10}})
    EXPECT_NE(comp.find(fmt::format("<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
                                    "class=\"num\">{}</td>",
                                    file, n, pre[prefix], sel[prefix])),
              std::string::npos)
        << file << "\n"
        << comp;
  EXPECT_EQ(comp.find("On-topic share"), std::string::npos) << "only for a corpus that is one demo pool";
}

TEST(ReportCliErrors, AFolderThatIsNoRunIsAnErrorNamingIt) {
  ntks::testing::TempDir dir;
  auto missing = run_command(fmt::format("{} report {} 2>&1", NTKS_BINARY, dir.file("nope")));
  EXPECT_EQ(missing.status, 1) << missing.output;
  EXPECT_NE(missing.output.find(dir.file("nope") + ": no such run folder"), std::string::npos) << missing.output;
  fs::create_directories(dir.file("empty/embed"));
  auto empty = run_command(fmt::format("{} report {} 2>&1", NTKS_BINARY, dir.file("empty")));
  EXPECT_EQ(empty.status, 1) << empty.output;
  EXPECT_NE(empty.output.find(dir.file("empty") + ": no manifest.json"), std::string::npos) << empty.output;
  EXPECT_FALSE(fs::exists(dir.file("empty/report.html")));
  auto two = run_command(fmt::format("{} report a b 2>&1", NTKS_BINARY));
  EXPECT_EQ(two.status, 2) << two.output;
  auto help = run_command(fmt::format("{} report --help 2>&1", NTKS_BINARY));
  EXPECT_EQ(help.status, 0) << help.output;
  for (const char* opt : {"--out", "--map-points", "--label-sample", "--samples", "not available"})
    EXPECT_NE(help.output.find(opt), std::string::npos) << opt;
}

TEST(ReportPca, FindsTheTwoAxesOfAnElongatedCloud) {
  // Points 10 + 3 s u + t v + 0.01 c w in 5 dimensions, with s, t and c of
  // mean 0 and exactly uncorrelated (signs of a Walsh pattern in groups of 4,
  // magnitudes constant per group): PC 1 = u with variance var(3 s), PC 2 = v.
  const int64_t n = 400, dim = 5;
  const std::vector<double> u = {0.6, 0.8, 0, 0, 0}, v = {0, 0, 0.6, -0.8, 0};
  std::vector<float> rows;
  std::vector<double> s(n), t(n);
  for (int64_t i = 0; i < n; ++i) {
    const double a = i % 2 ? 1 : -1, b = (i / 2) % 2 ? 1 : -1;
    const double g = static_cast<double>(i / 4);
    s[i] = a * (1 + 0.5 * std::sin(g)), t[i] = b * (1 + 0.3 * std::cos(g));
    for (int64_t j = 0; j < dim; ++j)
      rows.push_back(static_cast<float>(10 + 3 * s[i] * u[j] + t[i] * v[j] + (j == 4 ? 0.01 * a * b : 0)));
  }
  const report::Pca2 p = report::pca2(rows, n, dim);
  auto var = [&](const std::vector<double>& x) {
    double m = 0, q = 0;
    for (double a : x) m += a;
    m /= n;
    for (double a : x) q += (a - m) * (a - m);
    return q / (n - 1);
  };
  std::vector<double> ss(n), st(n);
  for (int64_t i = 0; i < n; ++i) ss[i] = 3 * s[i], st[i] = t[i];
  EXPECT_NEAR(p.variance[0], var(ss), 1e-3 * var(ss));
  EXPECT_NEAR(p.variance[1], var(st), 1e-3 * var(st));
  // The coordinates are the centred projections, up to each axis' sign.
  double c1 = 0, c2 = 0;
  for (int64_t i = 0; i < n; ++i) c1 += p.x[i] * ss[i], c2 += p.y[i] * st[i];
  const double sign1 = c1 > 0 ? 1 : -1, sign2 = c2 > 0 ? 1 : -1;
  double m1 = 0, m2 = 0;
  for (int64_t i = 0; i < n; ++i) m1 += ss[i] / n, m2 += st[i] / n;
  for (int64_t i = 0; i < n; i += 37) {
    EXPECT_NEAR(sign1 * p.x[i], ss[i] - m1, 1e-3);
    EXPECT_NEAR(sign2 * p.y[i], st[i] - m2, 1e-3);
  }
  EXPECT_GT(p.total_variance, p.variance[0] + p.variance[1] - 1e-9);
  // Deterministic, and degenerate inputs give zeros rather than NaN.
  const report::Pca2 again = report::pca2(rows, n, dim);
  EXPECT_EQ(again.x, p.x);
  const report::Pca2 flat = report::pca2(std::vector<float>(20, 1.0f), 4, 5);
  for (double x : flat.x) EXPECT_EQ(x, 0);
  EXPECT_EQ(report::pca2({1, 2, 3}, 1, 3).x, std::vector<double>{0});
}

TEST(ReportHtml, EscapesShortensAndFormats) {
  EXPECT_EQ(report::escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  EXPECT_EQ(report::shorten("abc", 5), "abc");
  EXPECT_EQ(report::shorten("a\tb\ncdef", 5), "a b c\u2026");
  EXPECT_EQ(report::shorten("\u00e9\u00e9\u00e9", 3), "\u00e9\u2026");  // never cuts inside a character
  EXPECT_EQ(report::number(12), "12");
  EXPECT_EQ(report::number(0.123456789, 4), "0.1235");
  EXPECT_EQ(report::number(NAN), "\u2013");
  EXPECT_EQ(report::not_available("x < y"), "<p class=\"na\">not available: x &lt; y</p>\n");
  const std::string t = report::table({"a", "n"}, {{"x", "1"}}, {1});
  EXPECT_NE(t.find("<th class=\"num\">n</th>"), std::string::npos);
  EXPECT_NE(t.find("<td>x</td><td class=\"num\">1</td>"), std::string::npos);
  const std::string p = report::page("T & U", "sub", {{"s1", "One", "<p>body</p>"}});
  EXPECT_NE(p.find("<title>T &amp; U</title>"), std::string::npos);
  EXPECT_NE(p.find("<a href=\"#s1\">One</a>"), std::string::npos);
  EXPECT_NE(p.find("<section id=\"s1\">\n<h2>One</h2>\n<p>body</p>"), std::string::npos);
}

}  // namespace
