// The experiment's figures: data files (always) and gnuplot scripts, rendered
// to PNG when gnuplot is installed.
//   curves:    training loss against epochs, float run then each QAT branch;
//   accuracy:  test accuracy (mean +- sd over seeds) against bits per method;
//   histogram: a layer's float weights with the APoT and uniform levels on top.
#pragma once

#include <string>
#include <vector>

#include "results.hpp"

namespace harness {

struct LevelsOverlay {
  std::string layer;  // "fc1"
  int bits = 4;
  std::vector<double> weights;        // the layer's float weights
  std::vector<double> apot, uniform;  // the weight levels each method uses, in weight units
};

// Writes <dir>/curves.{dat,gp}, accuracy.{dat,gp}, weights.{dat,gp} and, when
// gnuplot runs, the PNGs. Returns a note for the user ("" or why no PNG).
// IOError when a file cannot be written or gnuplot fails.
std::string write_plots(const std::string& dir, const std::vector<Run>& runs,
                        const std::vector<std::string>& methods, int curve_seed,
                        const LevelsOverlay& overlay);

}  // namespace harness
