#pragma once
// The diagnostics' plots, drawn with util/svg_plot.h's line chart.

#include <string>
#include <vector>

namespace ntks::diagnose {

/// A scatter of y against x: the points sorted by x with markers (the line
/// chart joins them), and the least-squares line through them.
std::string scatter_svg(const std::vector<double>& x, const std::vector<double>& y, const std::string& title,
                        const std::string& x_label, const std::string& y_label);

}  // namespace ntks::diagnose
