#include "ntks/util/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ntks::util {
namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

/// About `n` round tick values (1, 2 or 5 x 10^k apart) covering [lo, hi].
std::vector<double> ticks(double lo, double hi, int n) {
  const double span = hi - lo;
  const double raw = span / std::max(1, n);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double f : {1.0, 2.0, 5.0, 10.0})
    if (f * mag >= raw) {
      step = f * mag;
      break;
    }
  std::vector<double> out;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push_back(std::abs(t) < step * 1e-9 ? 0 : t);
  return out;
}

std::string tick_text(double v) {
  if (v != 0 && (std::abs(v) >= 1e5 || std::abs(v) < 1e-3)) return fmt::format("{:.0e}", v);
  return fmt::format("{:g}", v);
}

// The plot area of a chart and the mapping of data to pixels.
struct Frame {
  double left = 70, right = 20, top = 40, bottom = 55;
  double pw = 0, ph = 0;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;  ///< data ranges (y in log10 when log_y)
  bool log_y = false;

  explicit Frame(const PlotOptions& o) : pw(o.width - left - right), ph(o.height - top - bottom), log_y(o.log_y) {}
  double ty(double y) const { return log_y ? std::log10(y) : y; }
  double px(double x) const { return left + (x - x0) / (x1 - x0) * pw; }
  double py(double y) const { return top + (1 - (ty(y) - y0) / (y1 - y0)) * ph; }
};

// The document's start: size, white background, title.
std::string open_svg(const PlotOptions& o) {
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      o.width, o.height);
  svg += fmt::format("<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n", o.width / 2.0,
                     escape(o.title));
  return svg;
}

// The plot area's outline, grid lines with tick labels, and the axis labels.
std::string axes(const Frame& f, const PlotOptions& o) {
  const double left = f.left, top = f.top, pw = f.pw, ph = f.ph;
  std::string svg = fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>\n",
                                left, top, pw, ph);
  for (double t : ticks(f.x0, f.x1, 6)) {
    const double x = left + (t - f.x0) / (f.x1 - f.x0) * pw;
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#eee\"/>"
                       "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
                       x, top, top + ph, top + ph + 16, tick_text(t));
  }
  for (double t : ticks(f.y0, f.y1, 6)) {
    const double y = top + (1 - (t - f.y0) / (f.y1 - f.y0)) * ph;
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#eee\"/>"
                       "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
                       left, y, left + pw, left - 6, y + 4, tick_text(o.log_y ? std::pow(10.0, t) : t));
  }
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", left + pw / 2, o.height - 12,
                     escape(o.x_label));
  svg += fmt::format("<text transform=\"translate(16,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                     top + ph / 2, escape(o.y_label));
  return svg;
}

// One legend line at the plot area's top right, `row` lines down.
std::string legend_entry(const Frame& f, const std::string& color, const std::string& label, int row) {
  const double y = f.top + 16 + 18.0 * row;
  return fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" stroke-width=\"3\"/>"
                     "<text x=\"{4}\" y=\"{5}\">{6}</text>\n",
                     f.left + f.pw - 150, y, f.left + f.pw - 130, escape(color), f.left + f.pw - 124, y + 4,
                     escape(label));
}

// A legend of `rows` lines drawn over the data: a white box behind the entries.
std::string legend_box(const Frame& f, size_t rows) {
  if (rows == 0) return "";
  return fmt::format("<rect x=\"{}\" y=\"{}\" width=\"150\" height=\"{}\" fill=\"white\" fill-opacity=\"0.85\"/>\n",
                     f.left + f.pw - 156, f.top + 5, 18.0 * rows + 4);
}

std::string no_data(const Frame& f) {
  return fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#888\">no data</text>\n",
                     f.left + f.pw / 2, f.top + f.ph / 2);
}

// Ranges of the finite points of x/y series, padded as a line chart pads them;
// false when there is none (the frame then spans [0, 1]).
template <class Series>
bool fit_points(Frame& f, const std::vector<Series>& series) {
  auto usable = [&](double x, double y) { return std::isfinite(x) && std::isfinite(y) && (!f.log_y || y > 0); };
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const Series& s : series)
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (usable(s.x[i], s.y[i])) {
        x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
        y0 = std::min(y0, f.ty(s.y[i])), y1 = std::max(y1, f.ty(s.y[i]));
      }
  const bool empty = !(x0 <= x1);
  if (empty) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y0 -= 0.5, y1 += 0.5;
  const double pad = (y1 - y0) * 0.05;
  f.x0 = x0, f.x1 = x1, f.y0 = y0 - pad, f.y1 = y1 + pad;
  return !empty;
}

}  // namespace

std::string svg_line_chart(const std::vector<PlotSeries>& series, const PlotOptions& o) {
  Frame f(o);
  auto usable = [&](double x, double y) { return std::isfinite(x) && std::isfinite(y) && (!o.log_y || y > 0); };
  const bool empty = !fit_points(f, series);
  std::string svg = open_svg(o) + axes(f, o);
  int row = 0;
  for (const PlotSeries& s : series) {
    std::string points;
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (usable(s.x[i], s.y[i])) points += fmt::format("{:.1f},{:.1f} ", f.px(s.x[i]), f.py(s.y[i]));
    if (!points.empty())
      svg += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>\n", escape(s.color),
                         points);
    if (s.markers)
      for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
        if (usable(s.x[i], s.y[i]))
          svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", f.px(s.x[i]), f.py(s.y[i]),
                             escape(s.color));
    svg += legend_entry(f, s.color, s.label, row++);
  }
  if (empty) svg += no_data(f);
  svg += "</svg>\n";
  return svg;
}

std::string svg_histogram(const std::vector<HistogramSeries>& series, const HistogramOptions& o) {
  PlotOptions po = o.plot;
  po.log_y = false;
  Frame f(po);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const HistogramSeries& s : series)
    for (double v : s.values)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  const bool empty = !(lo <= hi);
  // Bin edges: edge0 + k * width, k = 0 .. bins.
  int bins = std::max(1, o.bins);
  double edge0 = 0, width = 1;
  if (empty) {
    bins = 1;
  } else if (o.integer_bins) {
    const double a = std::floor(lo), b = std::floor(hi);  // values are whole; floor keeps stray fractions in a bin
    const double span = b - a + 1;
    width = std::max(1.0, std::ceil(span / bins));
    bins = static_cast<int>(std::ceil(span / width));
    edge0 = a - 0.5;
  } else {
    if (hi == lo) lo -= 0.5, hi += 0.5;
    edge0 = lo;
    width = (hi - lo) / bins;
  }
  auto bin_of = [&](double v) {
    const auto k = static_cast<long>(std::floor((v - edge0) / width));
    return static_cast<size_t>(std::clamp<long>(k, 0, bins - 1));
  };
  std::vector<std::vector<double>> counts(series.size(), std::vector<double>(static_cast<size_t>(bins), 0));
  std::vector<double> total(static_cast<size_t>(bins), 0);
  for (size_t s = 0; s < series.size(); ++s)
    for (double v : series[s].values)
      if (std::isfinite(v)) ++counts[s][bin_of(v)], ++total[bin_of(v)];
  const double top = empty ? 1 : *std::max_element(total.begin(), total.end());
  f.x0 = edge0, f.x1 = edge0 + bins * width;
  f.y0 = 0, f.y1 = top * 1.05;
  std::string svg = open_svg(po) + axes(f, po);
  std::vector<double> base(static_cast<size_t>(bins), 0);
  for (size_t s = 0; s < series.size(); ++s) {
    svg += fmt::format("<g fill=\"{}\" stroke=\"white\" stroke-width=\"0.5\">", escape(series[s].color));
    for (size_t k = 0; k < static_cast<size_t>(bins); ++k) {
      const double n = counts[s][k];
      if (n == 0) continue;
      const double xa = f.px(edge0 + k * width), xb = f.px(edge0 + (k + 1) * width);
      const double ya = f.py(base[k] + n), yb = f.py(base[k]);
      svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"/>", xa, ya, xb - xa, yb - ya);
      base[k] += n;
    }
    svg += "</g>\n";
  }
  svg += legend_box(f, series.size());
  for (size_t s = 0; s < series.size(); ++s) svg += legend_entry(f, series[s].color, series[s].label, static_cast<int>(s));
  if (empty) svg += no_data(f);
  svg += "</svg>\n";
  return svg;
}

std::string svg_scatter(const std::vector<ScatterSeries>& series, const PlotOptions& o) {
  Frame f(o);
  auto usable = [&](double x, double y) { return std::isfinite(x) && std::isfinite(y) && (!o.log_y || y > 0); };
  const bool empty = !fit_points(f, series);
  // Pad x as y is padded, so that no dot is cut at the frame.
  const double pad = (f.x1 - f.x0) * 0.05;
  f.x0 -= pad, f.x1 += pad;
  std::string svg = open_svg(o) + axes(f, o);
  for (const ScatterSeries& s : series) {
    svg += fmt::format("<g fill=\"{}\" fill-opacity=\"{:g}\">", escape(s.color), s.opacity);
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!usable(s.x[i], s.y[i])) continue;
      const std::string title = i < s.titles.size() && !s.titles[i].empty()
                                    ? fmt::format("<title>{}</title>", escape(s.titles[i]))
                                    : std::string();
      if (title.empty())
        svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{:g}\"/>", f.px(s.x[i]), f.py(s.y[i]), s.radius);
      else
        svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{:g}\">{}</circle>", f.px(s.x[i]), f.py(s.y[i]),
                           s.radius, title);
    }
    svg += "</g>\n";
  }
  svg += legend_box(f, series.size());
  for (size_t k = 0; k < series.size(); ++k) svg += legend_entry(f, series[k].color, series[k].label, static_cast<int>(k));
  if (empty) svg += no_data(f);
  svg += "</svg>\n";
  return svg;
}

}  // namespace ntks::util
