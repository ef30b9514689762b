#include "xgrad/quant/apot/visualization.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include "xgrad/errors.hpp"
#include "xgrad/quant/apot/quantizer.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/observers/apot_observer.hpp"
#include "xgrad/quant/observers/min_max_observer.hpp"

extern char** environ;

namespace xgrad::quant {

namespace {

constexpr const char* kOp = "quant_levels_visualization";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A gnuplot single-quoted string: a quote inside is written twice.
std::string gnuplot_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// gnuplot pipes `set output '|cmd'` and `plot '<cmd'` through a shell, and
// takes an argument starting with '-' for an option: a relative path is
// handed over as "./path" so it is only ever a file name.
std::string as_file_name(const std::string& path) {
  return !path.empty() && path[0] == '/' ? path : "./" + path;
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
  f.close();
  XGRAD_CHECK(f, IOError, kOp, ": cannot write '", path, "'");
}

struct RunResult {
  bool found = true;
  int exit_status = -1;  // valid when found
  std::string output;    // stdout and stderr together
};

// Runs argv[0] (looked up on PATH) with its output captured through a pipe; no
// shell is involved, so paths need no escaping.
RunResult run_program(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int fds[2];
  XGRAD_CHECK(pipe2(fds, O_CLOEXEC) == 0, IOError, kOp, ": pipe failed: ", std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);

  RunResult result;
  if (rc != 0) {
    close(fds[0]);
    if (rc == ENOENT) {
      result.found = false;
      return result;
    }
    throw_error<IOError>(kOp, ": cannot start '", args[0], "': ", std::strerror(rc));
  }
  char buf[4096];
  for (;;) {
    const ssize_t got = read(fds[0], buf, sizeof buf);
    if (got > 0) {
      if (result.output.size() < 65536) result.output.append(buf, std::size_t(got));
    } else if (got == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    XGRAD_CHECK(errno == EINTR, IOError, kOp, ": waitpid failed: ", std::strerror(errno));
  }
  if (WIFEXITED(status)) {
    result.exit_status = WEXITSTATUS(status);
    // 127: the exec itself failed in the child (older C libraries).
    if (result.exit_status == 127) result.found = false;
  } else {
    result.exit_status = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
  return result;
}

bool non_empty_file(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

void validate(const std::string& png_path, const LevelsPlotOptions& o, bool is_signed) {
  XGRAD_CHECK(ends_with(png_path, ".png") && png_path.size() > 4, ValueError, kOp,
              ": the output path must end in .png, got '", png_path, "'");
  XGRAD_CHECK(png_path.find_first_of(std::string("\n\r\0", 3)) == std::string::npos, ValueError,
              kOp, ": the output path contains a line break or NUL");
  // The levels are computed in float: alpha must be a normal float32 value.
  const double alpha_max = std::numeric_limits<float>::max();
  const double alpha_min = std::numeric_limits<float>::min();
  XGRAD_CHECK(o.alpha >= alpha_min && o.alpha <= alpha_max, ValueError, kOp,
              ": alpha must be finite and > 0 (within float32's normal range [", alpha_min, ", ",
              alpha_max, "]), got ", o.alpha);
  XGRAD_CHECK(o.points >= 2 && o.points <= kMaxLevelsPlotPoints, ValueError, kOp,
              ": points must be in [2, ", kMaxLevelsPlotPoints, "], got ", o.points);
  XGRAD_CHECK(o.b <= 8, ValueError, kOp,
              ": the uniform comparison uses 8-bit observers, so b <= 8, got b=", o.b);
  XGRAD_CHECK(!is_signed || o.b >= 2, ValueError, kOp, ": a signed set needs b >= 2, got b=", o.b);
}

}  // namespace

LevelsPlot quant_levels_visualization(const std::string& png_path, const LevelsPlotOptions& o) {
  const bool is_signed = o.scheme != LevelScheme::unsigned_levels;
  validate(png_path, o, is_signed);
  const float alpha = float(o.alpha);
  const float lo = is_signed ? -alpha : 0.0f;

  // APoT: an observer that has seen [lo, alpha] (validates b, k).
  APoTObserver<float> apot_observer(o.b, o.k);
  apot_observer.set_min_val(lo);
  apot_observer.set_max_val(alpha);
  const APoTQParams<float> q = apot_observer.calculate_qparams(o.scheme);

  // Uniform with the same bits: 2^b affine levels on [0, alpha], or 2^b - 1
  // symmetric levels on [-alpha, alpha] (as many as sign-magnitude APoT).
  const std::int64_t half = (std::int64_t(1) << (o.b - 1)) - 1;
  MinMaxObserver<float> uniform_observer =
      is_signed
          ? MinMaxObserver<float>(QuantDtype::qint8, QScheme::per_tensor_symmetric, -half, half)
          : MinMaxObserver<float>(QuantDtype::quint8, QScheme::per_tensor_affine, 0,
                                  (std::int64_t(1) << o.b) - 1);
  uniform_observer.set_min_val(lo);
  uniform_observer.set_max_val(alpha);
  const auto [scale, zero_point] = uniform_observer.calculate_qparams();

  xt::xarray<float> xs = xt::xarray<float>::from_shape({o.points});
  const double x0 = is_signed ? -1.1 * o.alpha : -0.1 * o.alpha, x1 = 1.1 * o.alpha;
  for (std::size_t i = 0; i < o.points; ++i)
    xs(i) = float(x0 + (x1 - x0) * double(i) / double(o.points - 1));
  const Tensor<float> x(xs);
  const Tensor<float> y_apot = quant_dequant(x, q);
  const Tensor<float> y_uniform = fake_quantize_per_tensor_affine(
      x, double(scale), zero_point, uniform_observer.quant_min(), uniform_observer.quant_max());

  // remove() below would delete an empty directory of that name.
  struct stat st;
  XGRAD_CHECK(stat(png_path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode), IOError, kOp, ": '",
              png_path, "' is a directory");

  LevelsPlot plot;
  plot.png_path = png_path;
  const std::string stem = png_path.substr(0, png_path.size() - 4);
  plot.data_path = stem + ".dat";
  plot.script_path = stem + ".gp";

  std::ostringstream describe;
  describe << "b=" << o.b << ", k=" << o.k << ", " << to_string(o.scheme) << ", alpha=" << o.alpha;
  std::ostringstream data;
  data.precision(std::numeric_limits<float>::max_digits10);
  data << "# APoT vs uniform quantization staircase (" << describe.str() << ")\n"
       << "# APoT: " << q.quantization_levels.numel() << " levels, gamma=" << q.gamma
       << "; uniform: scale=" << scale << ", zero_point=" << zero_point << ", range ["
       << uniform_observer.quant_min() << ", " << uniform_observer.quant_max() << "]\n"
       << "# x apot uniform\n";
  for (std::size_t i = 0; i < o.points; ++i)
    data << xs(i) << ' ' << y_apot.data()(i) << ' ' << y_uniform.data()(i) << '\n';
  write_file(plot.data_path, data.str());

  std::ostringstream script;
  script << "set terminal pngcairo size 1000,700 noenhanced\n"
         << "set output " << gnuplot_quote(as_file_name(png_path)) << "\n"
         << "set title "
         << gnuplot_quote("APoT vs uniform quantization levels (" + describe.str() + ")") << "\n"
         << "set xlabel 'Full precision'\nset ylabel 'Quantized'\n"
         << "set key top left\nset grid\n"
         << "plot " << gnuplot_quote(as_file_name(plot.data_path))
         << " using 1:2 with lines lw 2 title "
         << gnuplot_quote("APoT (b=" + std::to_string(o.b) + ", k=" + std::to_string(o.k) + ")")
         << ", '' using 1:3 with lines lw 2 dt 2 title "
         << gnuplot_quote("uniform (" + std::to_string(o.b) + " bits)") << "\n";
  write_file(plot.script_path, script.str());

  // A stale PNG must not pass for a fresh one.
  XGRAD_CHECK(std::remove(png_path.c_str()) == 0 || errno == ENOENT, IOError, kOp,
              ": cannot replace '", png_path, "': ", std::strerror(errno));
  const RunResult run = run_program({o.gnuplot, as_file_name(plot.script_path)});
  if (!run.found) {
    plot.note = "'" + o.gnuplot +
                "' was not found (install gnuplot-nox to render PNGs): only the data file " +
                plot.data_path + " was written";
    return plot;
  }
  XGRAD_CHECK(run.exit_status == 0, IOError, kOp, ": ", o.gnuplot, " ", plot.script_path,
              " failed (exit status ", run.exit_status, "): ", run.output);
  XGRAD_CHECK(non_empty_file(png_path), IOError, kOp, ": ", o.gnuplot, " ", plot.script_path,
              " exited with status 0 but wrote no '", png_path, "': ", run.output);
  plot.png_written = true;
  return plot;
}

}  // namespace xgrad::quant
