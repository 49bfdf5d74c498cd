// The SVG line charts runs write beside their logs (util/svg_plot.h).

#include <gtest/gtest.h>

#include <cmath>

#include "ntks/util/svg_plot.h"
#include "test_util.h"

using ntks::testing::count_of;

namespace {

using ntks::util::PlotOptions;
using ntks::util::PlotSeries;

TEST(SvgPlot, DrawsEachSeriesWithItsPointsLegendAndEscapedText) {
  PlotSeries a{"loss <train>", "#123456", {0, 1, 2, 3}, {4, 3, 2.5, NAN}};
  PlotSeries b{"held-out & more", "red", {0, 3}, {4.2, 2.4}, true};
  PlotOptions o;
  o.title = "a \"title\"";
  const std::string svg = ntks::util::svg_line_chart({a, b}, o);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(count_of(svg, "<polyline"), 2u);
  EXPECT_EQ(count_of(svg, "<circle"), 2u);  // markers on b only
  EXPECT_NE(svg.find("loss &lt;train&gt;"), std::string::npos);
  EXPECT_NE(svg.find("held-out &amp; more"), std::string::npos);
  EXPECT_NE(svg.find("a &quot;title&quot;"), std::string::npos);
  // The NaN point is skipped: a's line has three points.
  const size_t start = svg.find("points=\"", svg.find("#123456")) + 8;
  const std::string points = svg.substr(start, svg.find('"', start) - start);
  EXPECT_EQ(count_of(points, ","), 3u) << points;
}

TEST(SvgPlot, AnEmptyChartStillRenders) {
  const std::string svg = ntks::util::svg_line_chart({PlotSeries{"none"}}, PlotOptions{"empty"});
  EXPECT_NE(svg.find("no data"), std::string::npos);
  EXPECT_EQ(count_of(svg, "<polyline"), 0u);
}

}  // namespace

namespace {

using ntks::util::HistogramOptions;
using ntks::util::HistogramSeries;
using ntks::util::ScatterSeries;

// The heights of the <rect>s inside the group of `color`, in order.
std::vector<double> bar_heights(const std::string& svg, const std::string& color) {
  std::vector<double> out;
  const size_t g = svg.find("<g fill=\"" + color + "\"");
  const size_t end = svg.find("</g>", g);
  for (size_t at = svg.find("height=\"", g); at < end; at = svg.find("height=\"", at + 1))
    out.push_back(std::stod(svg.substr(at + 8)));
  return out;
}

TEST(SvgPlot, HistogramStacksGroupsOverSharedBins) {
  HistogramOptions o;
  o.plot.title = "votes <k>";
  o.integer_bins = true;
  // 1..4: "other" has 1,1,2 and "sel" 2,4,4: bins 1, 2, 3 (empty), 4.
  const std::string svg = ntks::util::svg_histogram(
      {HistogramSeries{"other", "#999999", {1, 1, 2, NAN}}, HistogramSeries{"sel", "red", {2, 4, 4}}}, o);
  EXPECT_NE(svg.find("votes &lt;k&gt;"), std::string::npos);
  const auto other = bar_heights(svg, "#999999"), sel = bar_heights(svg, "red");
  ASSERT_EQ(other.size(), 2u);  // bins 1 and 2
  ASSERT_EQ(sel.size(), 2u);    // bins 2 and 4
  EXPECT_NEAR(other[0], 2 * other[1], 0.15);  // counts 2 and 1
  EXPECT_NEAR(sel[1], 2 * sel[0], 0.15);      // counts 1 and 2
  EXPECT_NEAR(other[0], sel[1], 0.15);        // both 2
  // The "sel" bar of bin 2 sits on the "other" bar of bin 2.
  const size_t first_sel = svg.find("<rect", svg.find("<g fill=\"red\""));
  const double y = std::stod(svg.substr(svg.find("y=\"", first_sel) + 3));
  const size_t second_other = svg.find("<rect", svg.find("<rect", svg.find("<g fill=\"#999999\"")) + 1);
  const double y_other = std::stod(svg.substr(svg.find("y=\"", second_other) + 3));
  EXPECT_NEAR(y + sel[0], y_other, 0.15);
  EXPECT_EQ(count_of(svg, "<line x1") - count_of(svg, "stroke=\"#eee\""), 2u);  // two legend entries
}

TEST(SvgPlot, HistogramOfEqualValuesAndEmptyOnesRender) {
  HistogramOptions o;
  o.bins = 10;
  const std::string same = ntks::util::svg_histogram({HistogramSeries{"a", "blue", {3, 3, 3}}}, o);
  EXPECT_EQ(bar_heights(same, "blue").size(), 1u);
  const std::string empty = ntks::util::svg_histogram({HistogramSeries{"a", "blue", {}}}, o);
  EXPECT_NE(empty.find("no data"), std::string::npos);
  EXPECT_EQ(empty.find("nan"), std::string::npos);
}

TEST(SvgPlot, ScatterDrawsEveryFinitePointWithHoverText) {
  ScatterSeries a{"cloud", "#aaaaaa", {0, 1, 2, NAN}, {0, 1, 4, 1}};
  ScatterSeries b{"best & co", "red", {1}, {2}, 3.0, 0.9, {"#1 <id>"}};
  PlotOptions o;
  o.title = "map";
  const std::string svg = ntks::util::svg_scatter({a, b}, o);
  EXPECT_EQ(count_of(svg, "<circle"), 4u);
  EXPECT_NE(svg.find("<title>#1 &lt;id&gt;</title>"), std::string::npos);
  EXPECT_NE(svg.find("best &amp; co"), std::string::npos);
  EXPECT_NE(svg.find("fill-opacity=\"0.9\""), std::string::npos);
  // Drawn in order: the red group after the grey one, the legend after both.
  EXPECT_LT(svg.find("#aaaaaa\" fill-opacity"), svg.find("red\" fill-opacity"));
  EXPECT_LT(svg.find("red\" fill-opacity"), svg.find(">cloud</text>"));
  EXPECT_NE(ntks::util::svg_scatter({}, o).find("no data"), std::string::npos);
}

}  // namespace
