// Logging prefix, rank-0-only lines, warn_once, and the progress reporter
// (driven by an injected clock: no sleeping, no timing dependence).

#include <gtest/gtest.h>

#include <sstream>

#include "ntks/log/log.h"
#include "ntks/log/progress.h"
#include "ntks/util/error.h"

namespace nlog = ntks::log;

namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { nlog::set_sink(&out_); }
  void TearDown() override {
    nlog::set_sink(nullptr);
    nlog::set_rank(0, 1);
    nlog::set_level(nlog::Level::Info);
  }
  std::ostringstream out_;
};

TEST_F(LogTest, EveryLineCarriesRankSizeAndStage) {
  nlog::set_rank(2, 3);
  {
    nlog::StageScope s("embed");
    nlog::info("wrote {} rows", 5);
  }
  nlog::info("after");
  std::string text = out_.str();
  EXPECT_NE(text.find("[2/3] [embed] wrote 5 rows\n"), std::string::npos) << text;
  EXPECT_NE(text.find("[2/3] after\n"), std::string::npos) << text;
}

TEST_F(LogTest, StageScopesNest) {
  nlog::StageScope outer("run");
  {
    nlog::StageScope inner("grads");
    EXPECT_EQ(nlog::stage(), "grads");
  }
  EXPECT_EQ(nlog::stage(), "run");
}

TEST_F(LogTest, Rank0OnlyHelpersAreSilentElsewhere) {
  nlog::set_rank(1, 2);
  nlog::info0("only on rank 0");
  nlog::warn0("only on rank 0 too");
  EXPECT_EQ(out_.str(), "");
  nlog::set_rank(0, 2);
  nlog::info0("now");
  nlog::warn0("careful");
  EXPECT_NE(out_.str().find("[0/2] now"), std::string::npos);
  EXPECT_NE(out_.str().find("[0/2] warning: careful"), std::string::npos);
}

TEST_F(LogTest, LevelsFilterAndWarnOnceWarnsOnce) {
  nlog::set_level(nlog::Level::Warn);
  nlog::info("hidden");
  nlog::warn_once("k1", "first");
  nlog::warn_once("k1", "first");
  nlog::warn_once("k2", "second");
  std::string text = out_.str();
  EXPECT_EQ(text.find("hidden"), std::string::npos);
  EXPECT_EQ(text.find("first"), text.rfind("first"));
  EXPECT_NE(text.find("second"), std::string::npos);
  nlog::set_level(nlog::Level::Error);  // --log-level error silences it too
  nlog::warn_once("k3", "third");
  EXPECT_EQ(out_.str().find("third"), std::string::npos);
  EXPECT_THROW(nlog::parse_level("loud"), ntks::UsageError);
  EXPECT_EQ(nlog::parse_level("debug"), nlog::Level::Debug);
}

TEST(Duration, Formats) {
  EXPECT_EQ(nlog::format_duration(0), "0s");
  EXPECT_EQ(nlog::format_duration(59.4), "59s");
  EXPECT_EQ(nlog::format_duration(185), "3m05s");
  EXPECT_EQ(nlog::format_duration(3720), "1h02m");
  EXPECT_EQ(nlog::format_duration(-1), "?");
}

struct FakeClock {
  double t = 100;
  std::function<double()> fn() {
    return [this] { return t; };
  }
};

TEST(Progress, RateAndEta) {
  FakeClock clock;
  std::ostringstream out;
  nlog::Progress p("embed", 1000, {"samples", 10, true, 0, clock.fn(), &out});
  clock.t += 10;
  p.advance(250);
  EXPECT_DOUBLE_EQ(p.rate(), 25);
  EXPECT_DOUBLE_EQ(p.eta(), 30);
  EXPECT_EQ(p.status_line(), "embed 250/1000 (25.0%) 25.0 samples/s ETA 30s");
}

TEST(Progress, NonTtyPrintsALineEveryIntervalThenASummary) {
  FakeClock clock;
  std::ostringstream out;
  {
    nlog::Progress p("grads", 100, {"samples", 10, true, 0, clock.fn(), &out});
    for (int i = 0; i < 100; ++i) {
      clock.t += 1;  // one sample per second: a line every 10 samples
      p.advance();
    }
    p.finish();
    p.finish();  // idempotent
  }
  std::string text = out.str();
  int lines = 0;
  for (char ch : text) lines += ch == '\n';
  EXPECT_EQ(lines, 11) << text;  // 10 progress lines + 1 summary
  EXPECT_NE(text.find("grads 10/100 (10.0%) 1.0 samples/s ETA 1m30s"), std::string::npos) << text;
  EXPECT_NE(text.find("grads done: 100 samples in 1m40s (1.0 samples/s)"), std::string::npos) << text;
}

TEST(Progress, UnknownTotalHasNoEtaAndOtherRanksStaySilent) {
  FakeClock clock;
  std::ostringstream out;
  nlog::Progress p("index", -1, {"lines", 5, true, 0, clock.fn(), &out});
  clock.t += 2;
  p.advance(10);
  EXPECT_EQ(p.status_line(), "index 10 5.0 lines/s");
  EXPECT_LT(p.eta(), 0);

  nlog::set_rank(1, 2);
  std::ostringstream quiet;
  {
    nlog::Progress q("index", 10, {"lines", 1, true, 0, clock.fn(), &quiet});
    clock.t += 5;
    q.advance(10);
  }
  nlog::set_rank(0, 1);
  EXPECT_EQ(quiet.str(), "");
}

}  // namespace
