#include "plots.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "xgrad/errors.hpp"

extern char** environ;

namespace harness {
namespace {

// Runs `gnuplot script` with `dir` as its working directory (no shell; the
// scripts name their files relative to it, so the directory can be moved).
// False when gnuplot is missing.
bool run_gnuplot(const std::string& dir, const std::string& script) {
  const std::string path = dir + "/" + script;
  std::vector<char*> argv = {const_cast<char*>("gnuplot"), const_cast<char*>(script.c_str()),
                             nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return false;
  XGRAD_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, xgrad::IOError,
              "plots: gnuplot failed on \"", path, "\"");
  return true;
}

std::string q(const std::string& s) { return "'" + s + "'"; }

}  // namespace

std::string write_plots(const std::string& dir, const std::vector<Run>& runs,
                        const std::vector<std::string>& methods, int curve_seed,
                        const LevelsOverlay& overlay) {
  // Training curves of one seed: one data block per run (gnuplot `index`).
  std::ostringstream curves, curves_gp;
  curves_gp << "set terminal pngcairo size 900,540\nset output " << q("curves.png")
            << "\nset title 'Training loss (seed " << curve_seed << ")'\n"
            << "set xlabel 'epoch'\nset ylabel 'cross-entropy'\nset logscale y\nset key outside\n"
            << "plot ";
  std::size_t float_epochs = 0;
  for (const Run& r : runs) {
    if (r.seed == curve_seed && r.method == "float" && r.bits == 32)
      float_epochs = r.epoch_loss.size();
  }
  int block = 0;
  for (const Run& r : runs) {
    if (r.seed != curve_seed || r.loss_curve.empty()) continue;
    const bool float_run = r.method == "float" && r.bits == 32;
    curves << "# " << r.method << " " << r.bits << "\n";
    const double first = float_run ? 0 : double(float_epochs);
    for (const auto& [x, loss] : r.loss_curve) curves << first + x << ' ' << loss << '\n';
    curves << "\n\n";
    const std::string title =
        r.bits == 32 ? r.method : r.method + " " + std::to_string(r.bits) + "b";
    curves_gp << (block ? ", \\\n  " : "") << q("curves.dat") << " index " << block
              << " with lines lw 2 title " << q(title);
    ++block;
  }
  curves_gp << "\n";
  write_text(dir + "/curves.dat", curves.str());
  write_text(dir + "/curves.gp", curves_gp.str());

  // Accuracy against bits: one block per method, rows "bits mean sd".
  std::ostringstream acc, acc_gp;
  acc_gp << "set terminal pngcairo size 900,540\nset output " << q("accuracy.png")
         << "\nset title 'Test accuracy (mean +- sd over seeds)'\n"
         << "set xlabel 'bits (weights and activations)'\nset ylabel 'accuracy %'\n"
         << "set xrange [1.5:4.5]\nset xtics 1\nset key bottom right\nplot ";
  block = 0;
  for (const std::string& m : methods) {
    std::ostringstream rows;
    for (int bits : {2, 3, 4}) {
      const MeanSd s = mean_sd(accuracies(runs, m, bits));
      if (s.n) rows << bits << ' ' << s.mean << ' ' << s.sd << '\n';
    }
    if (rows.str().empty()) continue;
    acc << "# " << m << "\n" << rows.str() << "\n\n";
    acc_gp << (block ? ", \\\n  " : "") << q("accuracy.dat") << " index " << block
           << " with yerrorlines title " << q(m);
    ++block;
  }
  const MeanSd fl = mean_sd(accuracies(runs, "float fine-tuned", 32));
  if (fl.n) acc_gp << ", \\\n  " << fl.mean << " with lines dashtype 2 title 'float (fine-tuned)'";
  acc_gp << "\n";
  write_text(dir + "/accuracy.dat", acc.str());
  write_text(dir + "/accuracy.gp", acc_gp.str());

  // Weight histogram with both level sets drawn as vertical lines.
  std::ostringstream w, w_gp;
  double lo = 0, hi = 0;
  for (double v : overlay.weights) lo = std::min(lo, v), hi = std::max(hi, v);
  const int nbins = 120;
  const double width = hi > lo ? (hi - lo) / nbins : 1;
  std::vector<int> counts(nbins, 0);
  for (double v : overlay.weights) {
    counts[std::size_t(std::min(nbins - 1, int((v - lo) / width)))]++;
  }
  int top = 1;
  for (int c : counts) top = std::max(top, c);
  w << "# histogram: bin centre, count\n";
  for (int i = 0; i < nbins; ++i)
    w << lo + (i + 0.5) * width << ' ' << counts[std::size_t(i)] << '\n';
  w << "\n\n# APoT levels\n";
  for (double l : overlay.apot) w << l << ' ' << top << '\n';
  w << "\n\n# uniform levels\n";
  for (double l : overlay.uniform) w << l << ' ' << top << '\n';
  write_text(dir + "/weights.dat", w.str());
  w_gp
      << "set terminal pngcairo size 900,540\nset output " << q("weights.png") << "\nset title "
      << q(overlay.layer + " weights and the " + std::to_string(overlay.bits) +
           "-bit levels after QAT (seed " + std::to_string(curve_seed) + ")")
      << "\nset xlabel 'weight'\nset ylabel 'count'\nset style fill solid 0.4\n"
      << "plot " << q("weights.dat") << " index 0 with boxes lc rgb 'gray' title 'weights', \\\n  "
      << q("weights.dat") << " index 1 with impulses lw 2 lc rgb 'red' title 'APoT levels', \\\n  "
      << q("weights.dat")
      << " index 2 using 1:($2*0.8) with impulses lw 2 dt 2 lc rgb 'blue' title 'uniform levels'\n";
  write_text(dir + "/weights.gp", w_gp.str());

  for (const char* script : {"curves.gp", "accuracy.gp", "weights.gp"}) {
    if (!run_gnuplot(dir, script)) {
      return "gnuplot not found: wrote the .dat and .gp files in " + dir +
             " (apt-get install gnuplot-nox, then run gnuplot on each .gp)";
    }
  }
  return "";
}

}  // namespace harness
