#pragma once
// Self-contained SVG line charts (no scripts, no external fonts or files),
// for the plots runs leave beside their logs: a browser or an image viewer
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

}  // namespace ntks::util
