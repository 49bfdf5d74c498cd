#include "ntks/diagnose/plots.h"

#include <algorithm>
#include <numeric>

#include "ntks/util/svg_plot.h"

namespace ntks::diagnose {

std::string scatter_svg(const std::vector<double>& x, const std::vector<double>& y, const std::string& title,
                        const std::string& x_label, const std::string& y_label) {
  std::vector<size_t> order(std::min(x.size(), y.size()));
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  util::PlotSeries points;
  points.label = "pairs";
  points.markers = true;
  for (size_t i : order) points.x.push_back(x[i]), points.y.push_back(y[i]);
  // Least squares y = a + b x.
  const auto n = static_cast<double>(order.size());
  double mx = 0, my = 0, sxx = 0, sxy = 0;
  for (size_t i : order) mx += x[i] / n, my += y[i] / n;
  for (size_t i : order) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
  std::vector<util::PlotSeries> series = {points};
  if (order.size() >= 2 && sxx > 0) {
    util::PlotSeries fit;
    fit.label = "least squares";
    fit.color = "#d62728";
    const double b = sxy / sxx, a = my - b * mx;
    fit.x = {points.x.front(), points.x.back()};
    fit.y = {a + b * fit.x[0], a + b * fit.x[1]};
    series.push_back(fit);
  }
  util::PlotOptions o;
  o.title = title;
  o.x_label = x_label;
  o.y_label = y_label;
  return util::svg_line_chart(series, o);
}

}  // namespace ntks::diagnose
