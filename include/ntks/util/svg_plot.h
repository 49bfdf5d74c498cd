#pragma once
// Self-contained SVG charts (no scripts, no external fonts or files) — line
// charts, stacked histograms and scatter plots — for the plots runs leave
// beside their logs and for `ntk-select report`: a browser or an image viewer
// shows them as they are.

#include <string>
#include <vector>

namespace ntks::util {

struct PlotSeries {
  std::string label;
  std::string color = "#1f77b4";      ///< CSS colour of the line and markers
  std::vector<double> x, y;           ///< same length; non-finite points are skipped
  bool markers = false;               ///< a dot at every point (sparse series)
};

struct PlotOptions {
  std::string title;
  std::string x_label, y_label;
  int width = 720, height = 420;      ///< pixels
  bool log_y = false;                 ///< logarithmic y axis (all y > 0)
};

/// The SVG document of a line chart of `series` (axes with rounded ticks, a
/// legend). An empty chart (no finite point) still renders, with its title.
std::string svg_line_chart(const std::vector<PlotSeries>& series, const PlotOptions& options);

/// One group of a histogram ("selected", "not selected"); groups are stacked
/// in order, the first at the bottom, over bins shared by all of them.
struct HistogramSeries {
  std::string label;
  std::string color = "#1f77b4";  ///< CSS colour of its bars
  std::vector<double> values;     ///< non-finite values are skipped
};

struct HistogramOptions {
  PlotOptions plot;               ///< title, axis labels, size (log_y is ignored)
  int bins = 30;                  ///< equal-width bins over the range of every group's values
  /// Bins centred on whole numbers (vote counts): one per integer, or ceil(range / bins)
  /// integers wide when the range holds more than `bins` of them.
  bool integer_bins = false;
};

/// The SVG document of a stacked histogram (bars with a thin white outline,
/// a legend). An empty one (no finite value) still renders, with its title.
std::string svg_histogram(const std::vector<HistogramSeries>& series, const HistogramOptions& options);

struct ScatterSeries {
  std::string label;
  std::string color = "#1f77b4";  ///< CSS fill of its dots
  std::vector<double> x, y;       ///< same length; non-finite points are skipped
  double radius = 2.5;            ///< pixels
  double opacity = 0.7;           ///< fill opacity, so that dense clouds show their density
  /// Hover text per point (an SVG <title>); empty: none. Adds bytes: keep it for few points.
  std::vector<std::string> titles;
};

/// The SVG document of a scatter plot of `series`, drawn in order (the last on
/// top), with axes and a legend. An empty one still renders, with its title.
std::string svg_scatter(const std::vector<ScatterSeries>& series, const PlotOptions& options);

}  // namespace ntks::util
