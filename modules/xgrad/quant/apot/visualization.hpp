// The quantization staircase, APoT beside uniform: xgrad's equivalent of
// PyTorch's APoT `quant_levels_visualization` (which plots with matplotlib).
//
//   auto plot = quant_levels_visualization("apot_levels.png");  // b=4, k=2
//   if (!plot.png_written) std::cout << plot.note << "\n";
//
// Always writes a text data file (the PNG path with ".dat" instead of ".png"):
// comment lines starting with '#', then one row per sample "x apot uniform",
// where apot = quant_dequant(x) with APoTObserver(b, k)'s qparams for the
// range and uniform = fake_quantize_per_tensor_affine(x) with a
// MinMaxObserver's qparams for the same range and number of bits (2^b levels,
// affine, for unsigned sets; 2^b - 1 levels, symmetric, for signed ones).
// Samples span [-0.1 alpha, 1.1 alpha] (unsigned) or [-1.1 alpha, 1.1 alpha]
// (signed) so the clipping shows.
//
// Then renders the PNG with gnuplot (a ".gp" script next to it, run as a
// subprocess without a shell; relative paths are passed to gnuplot as
// "./path", so names starting with '|', '<' or '-' stay file names). If gnuplot is not installed,
// png_written is false and `note` says that only the data file was written; if gnuplot runs but
// fails (non-zero exit, or no PNG written), IOError with its messages.
//
// Differences from PyTorch: no matplotlib window; the uniform staircase is
// drawn too; the x range covers the clipping regions and negative values.
#pragma once

#include <cstddef>
#include <string>

#include "xgrad/quant/levels/apot_codebook.hpp"

namespace xgrad::quant {

// More samples than this would only make the data file huge.
inline constexpr std::size_t kMaxLevelsPlotPoints = 1000000;

struct LevelsPlotOptions {
  int b = 4;
  int k = 2;
  double alpha = 1.0;  // > 0, a normal float32 value (levels are float)
  LevelScheme scheme = LevelScheme::unsigned_levels;
  std::size_t points = 1001;        // 2 .. kMaxLevelsPlotPoints
  std::string gnuplot = "gnuplot";  // program, looked up on PATH
};

struct LevelsPlot {
  std::string data_path;    // always written
  std::string script_path;  // the gnuplot script, always written
  std::string png_path;     // the requested PNG path
  bool png_written = false;
  std::string note;  // why there is no PNG, empty when there is one
};

// png_path must end in ".png" and contain no newline. ValueError for bad
// options (b, k as APoTObserver; b <= 8 for the uniform comparison; alpha;
// points); IOError when a file cannot be written or gnuplot fails.
LevelsPlot quant_levels_visualization(const std::string& png_path,
                                      const LevelsPlotOptions& options = {});

}  // namespace xgrad::quant
