#include "plot.hpp"

#include <cairo-svg.h>
#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "learner_descriptor.hpp"
#include "learner_operations.hpp"
#include "pictures.hpp"

namespace taskmaster::cli {
namespace {

using Y = std::vector<double>;

struct Rgb {
  double r, g, b;
};

// Matplotlib's viridis at nine evenly spaced stops: perceptually uniform and
// readable in grey and by colour-blind readers.
constexpr std::array<Rgb, 9> viridis{{{0.267, 0.005, 0.329},
                                      {0.278, 0.175, 0.483},
                                      {0.229, 0.322, 0.546},
                                      {0.173, 0.449, 0.558},
                                      {0.128, 0.567, 0.551},
                                      {0.153, 0.680, 0.504},
                                      {0.363, 0.787, 0.388},
                                      {0.678, 0.864, 0.190},
                                      {0.993, 0.906, 0.144}}};

Rgb colour_at(double t) {
  if (!std::isfinite(t)) return {0.6, 0.6, 0.6};
  t = std::clamp(t, 0.0, 1.0) * (viridis.size() - 1);
  const auto i = std::min<std::size_t>(static_cast<std::size_t>(t), viridis.size() - 2);
  const double f = t - static_cast<double>(i);
  const Rgb& a = viridis[i];
  const Rgb& b = viridis[i + 1];
  return {a.r + f * (b.r - a.r), a.g + f * (b.g - a.g), a.b + f * (b.b - a.b)};
}

// Line colours for the components of 1D outputs (Tableau 10).
constexpr std::array<Rgb, 6> palette{{{0.122, 0.467, 0.706},
                                      {1.000, 0.498, 0.055},
                                      {0.173, 0.627, 0.173},
                                      {0.839, 0.153, 0.157},
                                      {0.580, 0.404, 0.741},
                                      {0.549, 0.337, 0.294}}};

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  [[nodiscard]] bool empty() const { return !(lo <= hi); }
  /// A range fit for an axis: never empty or of zero width.
  [[nodiscard]] Range padded(double fraction) const {
    if (empty()) return {0, 1};
    if (hi == lo) return {lo - 0.5 - std::fabs(lo) * 0.05, hi + 0.5 + std::fabs(hi) * 0.05};
    const double pad = (hi - lo) * fraction;
    return {lo - pad, hi + pad};
  }
};

/// Round tick positions (1, 2 or 5 times a power of ten) covering [lo, hi].
std::vector<double> ticks(double lo, double hi, int target) {
  const double raw = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  std::vector<double> out;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    out.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return out;
}

std::string tick_label(double v) { return fmt::format("{:.6g}", v); }

/// The plotting area and its mapping from data to device coordinates.
struct Frame {
  double left, top, width, height;
  Range xs, ys;
  [[nodiscard]] double px(double x) const { return left + (x - xs.lo) / (xs.hi - xs.lo) * width; }
  [[nodiscard]] double py(double y) const {
    return top + height - (y - ys.lo) / (ys.hi - ys.lo) * height;
  }
};

void text_at(cairo_t* cr, const std::string& text, double x, double y, double align_x,
             double align_y) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, text.c_str(), &e);
  cairo_move_to(cr, x - e.x_bearing - e.width * align_x, y - e.y_bearing - e.height * align_y);
  cairo_show_text(cr, text.c_str());
}

void draw_axes(cairo_t* cr, const Frame& f, const std::string& x_label, const std::string& y_label,
               bool grid) {
  cairo_set_font_size(cr, 12);
  for (double t : ticks(f.xs.lo, f.xs.hi, 8)) {
    const double x = f.px(t);
    if (grid) {
      cairo_set_source_rgba(cr, 0, 0, 0, 0.08);
      cairo_move_to(cr, x, f.top);
      cairo_line_to(cr, x, f.top + f.height);
      cairo_stroke(cr);
    }
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_move_to(cr, x, f.top + f.height);
    cairo_line_to(cr, x, f.top + f.height + 5);
    cairo_stroke(cr);
    text_at(cr, tick_label(t), x, f.top + f.height + 8, 0.5, 0);
  }
  for (double t : ticks(f.ys.lo, f.ys.hi, 6)) {
    const double y = f.py(t);
    if (grid) {
      cairo_set_source_rgba(cr, 0, 0, 0, 0.08);
      cairo_move_to(cr, f.left, y);
      cairo_line_to(cr, f.left + f.width, y);
      cairo_stroke(cr);
    }
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_move_to(cr, f.left - 5, y);
    cairo_line_to(cr, f.left, y);
    cairo_stroke(cr);
    text_at(cr, tick_label(t), f.left - 8, y, 1, 0.5);
  }
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_rectangle(cr, f.left, f.top, f.width, f.height);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 14);
  text_at(cr, x_label, f.left + f.width / 2, f.top + f.height + 30, 0.5, 0);
  cairo_save(cr);
  cairo_translate(cr, f.left - 62, f.top + f.height / 2);
  cairo_rotate(cr, -M_PI / 2);
  text_at(cr, y_label, 0, 0, 0.5, 0.5);
  cairo_restore(cr);
}

void draw_title(cairo_t* cr, const std::string& title, double width) {
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr, 15);
  text_at(cr, title, width / 2, 12, 0.5, 0);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
}

using Curve = std::vector<std::pair<double, std::vector<double>>>;

/// Labels and style of a 1D picture.
struct CurveStyle {
  std::string x_label = "x";
  std::string y_label = "y";
  bool joined = true;  ///< a line through the points (not for independent samples)
};

/// Points (x, components of y) sorted by x, one colour per component.
void draw_curve(cairo_t* cr, const Curve& data, Range xs, const PlotSize& size,
                const std::string& title, const CurveStyle& style) {
  const std::size_t components = data.empty() ? 0 : data.front().second.size();
  Range ys;
  for (const auto& [x, y] : data) {
    for (double v : y) ys.add(v);
  }
  const Frame f{80, 45, size.width - 110.0, size.height - 110.0, xs, ys.padded(0.05)};
  draw_title(cr, title, size.width);
  draw_axes(cr, f, style.x_label, style.y_label, true);
  cairo_save(cr);
  cairo_rectangle(cr, f.left, f.top, f.width, f.height);
  cairo_clip(cr);
  for (std::size_t c = 0; c < components; ++c) {
    const Rgb colour = palette[c % palette.size()];
    cairo_set_source_rgb(cr, colour.r, colour.g, colour.b);
    cairo_set_line_width(cr, 1.6);
    bool open = false;
    for (const auto& [x, y] : data) {
      if (!style.joined) break;
      if (!std::isfinite(y[c])) {
        open = false;  // a gap where the program gave no number
        continue;
      }
      if (open) {
        cairo_line_to(cr, f.px(x), f.py(y[c]));
      } else {
        cairo_move_to(cr, f.px(x), f.py(y[c]));
      }
      open = true;
    }
    cairo_stroke(cr);
    for (const auto& [x, y] : data) {
      if (!std::isfinite(y[c])) continue;
      cairo_arc(cr, f.px(x), f.py(y[c]), 2.2, 0, 2 * M_PI);
      cairo_fill(cr);
    }
  }
  cairo_restore(cr);
  if (components > 1) {  // legend
    cairo_set_font_size(cr, 12);
    for (std::size_t c = 0; c < components && c < 12; ++c) {
      const Rgb colour = palette[c % palette.size()];
      const double y = f.top + 14 + 18.0 * static_cast<double>(c);
      cairo_set_source_rgb(cr, colour.r, colour.g, colour.b);
      cairo_rectangle(cr, f.left + f.width - 70, y - 5, 18, 4);
      cairo_fill(cr);
      cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
      text_at(cr, fmt::format("y{}", c), f.left + f.width - 46, y - 3, 0, 0.5);
    }
  }
}

void draw_1d(cairo_t* cr, const Learner1& learner, const PlotSize& size, const std::string& title) {
  draw_curve(cr, learner.data(), Range{learner.lower_bound(), learner.upper_bound()}, size, title,
             {});
}

/// The samples of a learner of one number per point, drawn as `style` says.
void draw_scalar(cairo_t* cr, const Curve& data, const CurveStyle& style, const PlotSize& size,
                 const std::string& title) {
  if (data.empty()) throw std::runtime_error("no evaluated point to plot");
  Range xs;
  for (const auto& point : data) xs.add(point.first);
  draw_curve(cr, data, xs.padded(0.0), size, title, style);
}

/// (x, {y}) for each point of a learner whose data() maps numbers to numbers.
template <class Data>
Curve scalar_curve(const Data& points) {
  Curve data;
  for (const auto& [x, y] : points)
    data.emplace_back(static_cast<double>(x), std::vector<double>{y});
  return data;
}

/// A vertical colour bar right of the frame `f`, with ticks for values `vs`.
void draw_colour_bar(cairo_t* cr, const Frame& f, const Range& vs, const std::string& label) {
  const Frame bar{f.left + f.width + 30, f.top, 18, f.height, Range{0, 1}, vs};
  cairo_pattern_t* gradient = cairo_pattern_create_linear(0, bar.top + bar.height, 0, bar.top);
  for (std::size_t i = 0; i < viridis.size(); ++i) {
    const double t = static_cast<double>(i) / (viridis.size() - 1);
    cairo_pattern_add_color_stop_rgb(gradient, t, viridis[i].r, viridis[i].g, viridis[i].b);
  }
  cairo_rectangle(cr, bar.left, bar.top, bar.width, bar.height);
  cairo_set_source(cr, gradient);
  cairo_fill_preserve(cr);
  cairo_pattern_destroy(gradient);
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 12);
  for (double t : ticks(vs.lo, vs.hi, 6)) {
    const double y = bar.py(t);
    cairo_move_to(cr, bar.left + bar.width, y);
    cairo_line_to(cr, bar.left + bar.width + 4, y);
    cairo_stroke(cr);
    text_at(cr, tick_label(t), bar.left + bar.width + 7, y, 0, 0.5);
  }
  cairo_set_font_size(cr, 13);
  text_at(cr, label, bar.left + bar.width / 2, bar.top - 8, 0.5, 1);
}

/// The largest frame with the domain's aspect ratio in the room a colour bar leaves.
Frame domain_frame(const std::array<double, 2>& xb, const std::array<double, 2>& yb,
                   const PlotSize& size) {
  const double room_w = size.width - 200.0, room_h = size.height - 110.0;
  const double dx = xb[1] - xb[0], dy = yb[1] - yb[0];
  const double scale = std::min(room_w / dx, room_h / dy);
  return {80 + (room_w - dx * scale) / 2,
          45 + (room_h - dy * scale) / 2,
          dx * scale,
          dy * scale,
          Range{xb[0], xb[1]},
          Range{yb[0], yb[1]}};
}

void draw_2d(cairo_t* cr, const Learner2& learner, const PlotSize& size, const std::string& title) {
  const auto& bounds = learner.bounds();
  const auto& points = learner.points();
  std::map<Point2, double> value_of;
  Range values;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto y = learner.value(i);
    const double v = y.empty() ? std::nan("") : y.front();
    value_of[points[i]] = v;
    values.add(v);
  }
  const Range vs = values.padded(0.0);
  const auto t_of = [&](double v) { return (v - vs.lo) / (vs.hi - vs.lo); };
  // Keep the domain's aspect ratio, within the room left by the colour bar.
  const double room_w = size.width - 200.0, room_h = size.height - 110.0;
  const double dx = bounds[0][1] - bounds[0][0], dy = bounds[1][1] - bounds[1][0];
  const double scale = std::min(room_w / dx, room_h / dy);
  const Frame f{
      80 + (room_w - dx * scale) / 2,    45 + (room_h - dy * scale) / 2,   dx * scale, dy * scale,
      Range{bounds[0][0], bounds[0][1]}, Range{bounds[1][0], bounds[1][1]}};
  draw_title(cr, title, size.width);

  cairo_pattern_t* mesh = cairo_pattern_create_mesh();
  for (const auto& tri : learner.triangles()) {
    cairo_mesh_pattern_begin_patch(mesh);
    for (std::size_t k = 0; k < 3; ++k) {
      const double px = f.px(tri[k][0]), py = f.py(tri[k][1]);
      if (k == 0) {
        cairo_mesh_pattern_move_to(mesh, px, py);
      } else {
        cairo_mesh_pattern_line_to(mesh, px, py);
      }
    }
    for (unsigned k = 0; k < 4; ++k) {
      const auto it = value_of.find(tri[k % 3]);
      const Rgb c = colour_at(it == value_of.end() ? std::nan("") : t_of(it->second));
      cairo_mesh_pattern_set_corner_color_rgb(mesh, k, c.r, c.g, c.b);
    }
    cairo_mesh_pattern_end_patch(mesh);
  }
  cairo_save(cr);
  cairo_rectangle(cr, f.left, f.top, f.width, f.height);
  cairo_clip(cr);
  cairo_set_source_rgb(cr, 0.92, 0.92, 0.92);
  cairo_paint(cr);
  cairo_set_source(cr, mesh);
  cairo_paint(cr);
  // The sample points, small enough to show where the learner looked.
  cairo_set_source_rgba(cr, 1, 1, 1, 0.55);
  const double r = points.size() > 3000 ? 0.7 : 1.1;
  for (const auto& p : points) {
    cairo_arc(cr, f.px(p[0]), f.py(p[1]), r, 0, 2 * M_PI);
    cairo_fill(cr);
  }
  cairo_restore(cr);
  cairo_pattern_destroy(mesh);
  cairo_set_line_width(cr, 1);
  draw_axes(cr, f, "x0", "x1", false);

  draw_colour_bar(cr, f, vs, learner.vdim() > 1 ? "y0" : "y");
}

/// N dimensions: the interpolated values on the plane through the centre of
/// the domain spanned by x0 and x1, with every sample projected onto it.
void draw_nd(cairo_t* cr, const LearnerN& learner, const std::vector<std::array<double, 2>>& bounds,
             const PlotSize& size, std::string title) {
  const Frame f = domain_frame(bounds[0], bounds[1], size);
  std::vector<double> centre;
  for (const auto& b : bounds) centre.push_back((b[0] + b[1]) / 2);
  for (std::size_t d = 2; d < bounds.size(); ++d)
    title += fmt::format(", x{}={:.3g}", d, centre[d]);
  draw_title(cr, title, size.width);
  // Interpolating costs a point location per cell: a coarse grid, smoothed
  // by bilinear filtering when drawn, keeps large plots quick.
  const int nx = std::clamp(static_cast<int>(f.width / 3), 1, 64);
  const int ny = std::clamp(static_cast<int>(f.height / 3), 1, 64);
  std::vector<double> grid(static_cast<std::size_t>(nx * ny), std::nan(""));
  Range values;
  std::vector<double> x = centre;
  for (int j = 0; j < ny; ++j) {
    for (int i = 0; i < nx; ++i) {
      x[0] = f.xs.lo + (i + 0.5) / nx * (f.xs.hi - f.xs.lo);
      x[1] = f.ys.hi - (j + 0.5) / ny * (f.ys.hi - f.ys.lo);
      const auto y = learner.interpolate(x);
      if (y && !y->empty()) {
        grid[static_cast<std::size_t>(j * nx + i)] = y->front();
        values.add(y->front());
      }
    }
  }
  const Range vs = values.padded(0.0);
  cairo_surface_t* image = cairo_image_surface_create(CAIRO_FORMAT_RGB24, nx, ny);
  const int stride = cairo_image_surface_get_stride(image);
  unsigned char* data = cairo_image_surface_get_data(image);
  for (int j = 0; j < ny; ++j) {
    auto* row = reinterpret_cast<std::uint32_t*>(data + j * stride);
    for (int i = 0; i < nx; ++i) {
      const Rgb c =
          colour_at((grid[static_cast<std::size_t>(j * nx + i)] - vs.lo) / (vs.hi - vs.lo));
      row[i] = (static_cast<std::uint32_t>(c.r * 255) << 16) |
               (static_cast<std::uint32_t>(c.g * 255) << 8) | static_cast<std::uint32_t>(c.b * 255);
    }
  }
  cairo_surface_mark_dirty(image);
  cairo_save(cr);
  cairo_rectangle(cr, f.left, f.top, f.width, f.height);
  cairo_clip(cr);
  cairo_translate(cr, f.left, f.top);
  cairo_scale(cr, f.width / nx, f.height / ny);
  cairo_set_source_surface(cr, image, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(image);
  cairo_save(cr);
  cairo_rectangle(cr, f.left, f.top, f.width, f.height);
  cairo_clip(cr);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.45);
  for (const auto& p : learner.points()) {
    cairo_arc(cr, f.px(p[0]), f.py(p[1]), 1.0, 0, 2 * M_PI);
    cairo_fill(cr);
  }
  cairo_restore(cr);
  cairo_set_line_width(cr, 1);
  draw_axes(cr, f, "x0", "x1", false);
  draw_colour_bar(cr, f, vs, learner.vdim() > 1 ? "y0" : "y");
}

/// A sequence's results drawn as the learner of their dimension would draw
/// them (line, triangulation or slice) over the box the points span.
void draw_sequence(cairo_t* cr, const Sequence& sequence, const PlotSize& size,
                   const std::string& title) {
  std::map<std::vector<double>, std::vector<double>> told;  // repeated points drawn once
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    if (const auto& y = sequence.result(i)) told.emplace(sequence.point(i), *y);
  }
  if (told.empty()) throw std::runtime_error("no evaluated point to plot");
  const std::size_t dims = told.begin()->first.size();
  std::vector<std::array<double, 2>> box(
      dims, {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()});
  for (const auto& [x, y] : told) {
    for (std::size_t d = 0; d < dims; ++d) {
      box[d][0] = std::min(box[d][0], x[d]);
      box[d][1] = std::max(box[d][1], x[d]);
    }
  }
  for (auto& [lo, hi] : box) {
    if (!(lo < hi)) lo -= 0.5, hi += 0.5;  // every point on one plane: give it some room
  }
  if (dims == 1) {
    Learner1 learner(box[0][0], box[0][1]);
    for (const auto& [x, y] : told) learner.tell(x[0], y);
    draw_1d(cr, learner, size, title);
  } else if (dims == 2) {
    Learner2 learner(Bounds2D{box[0], box[1]});
    for (const auto& [x, y] : told) learner.tell({x[0], x[1]}, y);
    draw_2d(cr, learner, size, title);
  } else {
    LearnerN learner(box);
    for (const auto& [x, y] : told) learner.tell(x, y);
    draw_nd(cr, learner, box, size, title);
  }
}

struct SurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextDeleter {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};

}  // namespace

void draw_curve(cairo_t* cr, const Learner1& learner, const Picture& picture) {
  draw_1d(cr, learner, picture.size, picture.title);
}

void draw_triangulation(cairo_t* cr, const Learner2& learner, const Picture& picture) {
  draw_2d(cr, learner, picture.size, picture.title);
}

void draw_slice(cairo_t* cr, const LearnerN& learner, const Picture& picture) {
  draw_nd(cr, learner, picture.config.bounds, picture.size, picture.title);
}

void draw_points(cairo_t* cr, const Sequence& sequence, const Picture& picture) {
  draw_sequence(cr, sequence, picture.size, picture.title);
}

void draw_integrand(cairo_t* cr, const IntegratorLearner& learner, const Picture& picture) {
  draw_scalar(cr, scalar_curve(learner.data()), {}, picture.size, picture.title);
}

void draw_samples(cairo_t* cr, const AverageLearner& learner, const Picture& picture) {
  // Independent samples: points against their seeds, in order, no line.
  Curve samples = scalar_curve(learner.data());
  std::sort(samples.begin(), samples.end());
  draw_scalar(cr, samples, {.x_label = "seed", .y_label = "sample", .joined = false}, picture.size,
              picture.title);
}

void draw_means(cairo_t* cr, const AverageLearner1D& learner, const Picture& picture) {
  draw_scalar(cr, scalar_curve(learner.data()), {.y_label = "mean y"}, picture.size, picture.title);
}

void plot_history(const HistoryInput& input, const std::filesystem::path& out, PlotSize size) {
  const std::string ext = out.extension().string();
  if (ext != ".png" && ext != ".svg") {
    throw UsageError(fmt::format("plot: '{}' must end in .png or .svg", out.string()));
  }
  const bool svg = ext == ".svg";
  std::unique_ptr<cairo_surface_t, SurfaceDeleter> surface(
      svg ? cairo_svg_surface_create(out.c_str(), size.width, size.height)
          : cairo_image_surface_create(CAIRO_FORMAT_ARGB32, size.width, size.height));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    throw std::runtime_error(
        fmt::format("cannot draw into {}: {}", out.string(),
                    cairo_status_to_string(cairo_surface_status(surface.get()))));
  }
  std::unique_ptr<cairo_t, ContextDeleter> context(cairo_create(surface.get()));
  cairo_t* cr = context.get();
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_line_width(cr, 1);

  const RunConfig& c = input.config;
  const auto& argv = c.command.empty() ? c.worker : c.command;
  // Name the program, not its interpreter.
  std::string program =
      argv.empty() ? "?" : std::filesystem::path(argv.front()).filename().string();
  for (const char* interpreter :
       {"python", "sh", "bash", "env", "node", "perl", "julia", "Rscript"}) {
    if (argv.size() > 1 && program.starts_with(interpreter)) {
      program = std::filesystem::path(argv[1]).filename().string();
      break;
    }
  }
  learner_named(c.learner).operations->draw(input, cr, size, program);
  context.reset();
  if (svg) {
    cairo_surface_finish(surface.get());
  } else if (cairo_surface_write_to_png(surface.get(), out.c_str()) != CAIRO_STATUS_SUCCESS) {
    throw std::runtime_error(fmt::format("cannot write {}", out.string()));
  }
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    throw std::runtime_error(
        fmt::format("cannot write {}: {}", out.string(),
                    cairo_status_to_string(cairo_surface_status(surface.get()))));
  }
}

}  // namespace taskmaster::cli

// fontconfig, which cairo uses to find fonts, keeps a cache for the life of
// the process and never frees it; in a LeakSanitizer build that would be
// reported as a leak at exit. The sanitizer runtime looks this function up;
// without a sanitizer nothing calls it.
extern "C" const char* __lsan_default_suppressions();
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }
extern "C" const char* __lsan_default_options();
extern "C" const char* __lsan_default_options() { return "print_suppressions=0"; }
