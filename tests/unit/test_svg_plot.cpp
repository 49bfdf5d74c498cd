// The SVG line charts runs write beside their logs (util/svg_plot.h).

#include <gtest/gtest.h>

#include <cmath>

#include "ntks/util/svg_plot.h"

namespace {

using ntks::util::PlotOptions;
using ntks::util::PlotSeries;

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(SvgPlot, DrawsEachSeriesWithItsPointsLegendAndEscapedText) {
  PlotSeries a{"loss <train>", "#123456", {0, 1, 2, 3}, {4, 3, 2.5, NAN}};
  PlotSeries b{"held-out & more", "red", {0, 3}, {4.2, 2.4}, true};
  PlotOptions o;
  o.title = "a \"title\"";
  const std::string svg = ntks::util::svg_line_chart({a, b}, o);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(count(svg, "<polyline"), 2u);
  EXPECT_EQ(count(svg, "<circle"), 2u);  // markers on b only
  EXPECT_NE(svg.find("loss &lt;train&gt;"), std::string::npos);
  EXPECT_NE(svg.find("held-out &amp; more"), std::string::npos);
  EXPECT_NE(svg.find("a &quot;title&quot;"), std::string::npos);
  // The NaN point is skipped: a's line has three points.
  const size_t start = svg.find("points=\"", svg.find("#123456")) + 8;
  const std::string points = svg.substr(start, svg.find('"', start) - start);
  EXPECT_EQ(count(points, ","), 3u) << points;
}

TEST(SvgPlot, AnEmptyChartStillRenders) {
  const std::string svg = ntks::util::svg_line_chart({PlotSeries{"none"}}, PlotOptions{"empty"});
  EXPECT_NE(svg.find("no data"), std::string::npos);
  EXPECT_EQ(count(svg, "<polyline"), 0u);
}

}  // namespace
