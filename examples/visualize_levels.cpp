// The APoT quantization staircase beside the uniform one (PyTorch's
// quant_levels_visualization): writes apot_levels.png (4-bit APoT, k=2,
// unsigned, as for activations) and apot_levels_signed.png (4-bit
// sign-magnitude APoT, k=2, as for weights: the paper's {0, .1, .2, .3, .4, .6, .8, 1}), each with
// its .dat data file, into the directory given as the first argument (default: the current one,
// which must exist and be writable: checked before anything is written). --help for the options.
// Without gnuplot only the data files are written, and the program says so.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "cli_paths.hpp"
#include "xgrad/quant/apot/visualization.hpp"

using namespace xgrad::quant;

int main(int argc, char** argv) {
  CLI::App app{"Writes the APoT and uniform quantization staircases (PNG via gnuplot, and data)."};
  std::string out_dir = ".";
  app.add_option("directory", out_dir, "Output directory")
      ->check(examples::writable_directory())
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const std::string dir = out_dir + "/";
  try {
    LevelsPlotOptions unsigned_plot;  // b=4, k=2, unsigned, alpha=1
    LevelsPlotOptions signed_plot;
    signed_plot.scheme = LevelScheme::sign_magnitude;
    const std::pair<const char*, LevelsPlotOptions> plots[] = {
        {"apot_levels.png", unsigned_plot}, {"apot_levels_signed.png", signed_plot}};
    for (const auto& [name, options] : plots) {
      const LevelsPlot plot = quant_levels_visualization(dir + name, options);
      std::printf("data: %s\n", plot.data_path.c_str());
      if (plot.png_written)
        std::printf("plot: %s\n", plot.png_path.c_str());
      else
        std::printf("no plot: %s\n", plot.note.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "visualize_levels: %s\n", e.what());
    return 1;
  }
  return 0;
}
