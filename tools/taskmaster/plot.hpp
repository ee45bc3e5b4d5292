#pragma once
// `taskmaster plot`: the picture of the learned function, drawn with cairo.

#include <filesystem>

#include "history_input.hpp"

namespace taskmaster::cli {

/// The picture's size: pixels for PNG, points for SVG.
///
/// @code
/// taskmaster::cli::PlotSize size{.width = 1200, .height = 800};
/// @endcode
struct PlotSize {
  int width = 900;
  int height = 600;
};

/// Draws what `input` recorded into `out` (.png or .svg): 1D as one line
/// with points per output component, 2D as the triangulation coloured by
/// value (first component) with a colour bar and the sample points, ND as
/// the slice through the centre spanned by x0 and x1.
///
/// @code
/// taskmaster::cli::plot_history(taskmaster::cli::HistoryInput::read("run.jsonl"), "run.png", {});
/// @endcode
void plot_history(const HistoryInput& input, const std::filesystem::path& out, PlotSize size);

}  // namespace taskmaster::cli
