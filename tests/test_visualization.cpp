// quant_levels_visualization: the data file always holds the APoT and uniform
// staircases as the quantizers compute them; the PNG is rendered when gnuplot
// is installed (skipped with a message otherwise); a missing or failing
// gnuplot is reported, bad options rejected.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xgrad/quant/apot/quantizer.hpp"
#include "xgrad/quant/apot/visualization.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"

BOOST_AUTO_TEST_SUITE(test_visualization)

using namespace xgrad;
using namespace xgrad::quant;
namespace fs = std::filesystem;
using xgrad_test::equal_arrays;

using xgrad_test::mentions;
using xgrad_test::TempDir;

namespace {

struct DataFile {
  std::vector<std::string> comments;
  xt::xarray<float> x, apot, uniform;
};

DataFile read_data(const std::string& path) {
  std::ifstream f(path);
  BOOST_REQUIRE_MESSAGE(f.good(), "cannot open " << path);
  DataFile d;
  std::vector<float> x, a, u;
  std::string line;
  while (std::getline(f, line)) {
    if (!line.empty() && line[0] == '#') {
      d.comments.push_back(line);
      continue;
    }
    std::istringstream row(line);
    float xv, av, uv;
    BOOST_REQUIRE_MESSAGE(static_cast<bool>(row >> xv >> av >> uv), "bad row: " << line);
    x.push_back(xv);
    a.push_back(av);
    u.push_back(uv);
  }
  const auto to_array = [](const std::vector<float>& v) {
    xt::xarray<float> out = xt::xarray<float>::from_shape({v.size()});
    std::copy(v.begin(), v.end(), out.begin());
    return out;
  };
  d.x = to_array(x);
  d.apot = to_array(a);
  d.uniform = to_array(u);
  return d;
}

bool starts_with_png_signature(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char sig[8] = {};
  f.read(sig, 8);
  return f.gcount() == 8 && std::string(sig, 8) == std::string("\x89PNG\r\n\x1a\n", 8);
}

bool gnuplot_missing(const LevelsPlot& plot) {
  return !plot.png_written && plot.note.find("not found") != std::string::npos;
}

// The data file's columns recomputed with the quantizers' own API.
void check_columns_against_quantizers(const DataFile& d, const LevelsPlotOptions& o) {
  const bool is_signed = o.scheme != LevelScheme::unsigned_levels;
  const float alpha = float(o.alpha);
  APoTObserver<float> obs(o.b, o.k);
  obs.set_min_val(is_signed ? -alpha : 0.f);
  obs.set_max_val(alpha);
  const auto expected_apot = quant_dequant(Tensor<float>(d.x), obs.calculate_qparams(o.scheme));
  BOOST_TEST(equal_arrays(d.apot, expected_apot.data()));
}

}  // namespace

BOOST_AUTO_TEST_CASE(data_file_holds_both_staircases_for_unsigned_levels) {
  TempDir dir;
  LevelsPlotOptions o;  // b=4, k=2, unsigned, alpha=1
  o.points = 4001;
  const auto plot = quant_levels_visualization((dir / "levels.png"), o);
  BOOST_TEST(plot.data_path == (dir / "levels.dat"));
  BOOST_TEST(plot.script_path == (dir / "levels.gp"));
  const DataFile d = read_data(plot.data_path);
  BOOST_TEST(d.comments.size() == 3u);
  BOOST_TEST(d.comments.back() == "# x apot uniform");
  BOOST_REQUIRE(d.x.size() == 4001u);
  // x spans [-0.1, 1.1] alpha, increasing.
  BOOST_TEST(d.x(0) == -0.1f);
  BOOST_TEST(d.x(4000) == 1.1f);
  for (std::size_t i = 1; i < d.x.size(); ++i) BOOST_TEST_REQUIRE(d.x(i) > d.x(i - 1));
  check_columns_against_quantizers(d, o);
  // Uniform 4-bit affine on [0, 1]: scale = 1/15 (float32), zero_point 0.
  const auto expected_uniform =
      fake_quantize_per_tensor_affine(Tensor<float>(d.x), 1.f / 15.f, 0, 0, 15);
  BOOST_TEST(equal_arrays(d.uniform, expected_uniform.data()));
  // Fine sampling visits every one of the 16 levels of each staircase,
  // clipped at 0 below and at the top level above.
  const std::set<float> apot_values(d.apot.begin(), d.apot.end());
  const std::set<float> uniform_values(d.uniform.begin(), d.uniform.end());
  BOOST_TEST(apot_values.size() == 16u);
  BOOST_TEST(uniform_values.size() == 16u);
  BOOST_TEST(*apot_values.begin() == 0.f);
  BOOST_TEST(*apot_values.rbegin() == 1.f);  // the top APoT level is alpha
}

BOOST_AUTO_TEST_CASE(data_file_for_sign_magnitude_is_symmetric) {
  TempDir dir;
  LevelsPlotOptions o;
  o.b = 4;
  o.k = 1;
  o.alpha = 2.0;
  o.scheme = LevelScheme::sign_magnitude;
  o.points = 2001;
  const auto plot = quant_levels_visualization((dir / "signed.png"), o);
  const DataFile d = read_data(plot.data_path);
  BOOST_TEST(d.x(0) == -2.2f);
  BOOST_TEST(d.x(2000) == 2.2f);
  check_columns_against_quantizers(d, o);
  // 2^4 - 1 = 15 distinct values each, symmetric around 0.
  const std::set<float> apot_values(d.apot.begin(), d.apot.end());
  const std::set<float> uniform_values(d.uniform.begin(), d.uniform.end());
  BOOST_TEST(apot_values.size() == 15u);
  BOOST_TEST(uniform_values.size() == 15u);
  for (float v : apot_values) BOOST_TEST(apot_values.count(-v) == 1u);
  for (float v : uniform_values) BOOST_TEST(uniform_values.count(-v) == 1u);
  BOOST_TEST(*apot_values.rbegin() == 2.f);
}

BOOST_AUTO_TEST_CASE(png_is_rendered_when_gnuplot_is_installed) {
  TempDir dir;
  // A quote in the name exercises the script's quoting.
  const auto plot = quant_levels_visualization((dir / "it's levels.png"));
  if (gnuplot_missing(plot)) {
    BOOST_TEST_MESSAGE("gnuplot is not installed: PNG check skipped (" << plot.note << ")");
    return;
  }
  BOOST_TEST(plot.png_written);
  BOOST_TEST(plot.note.empty());
  BOOST_TEST(starts_with_png_signature(plot.png_path));
}

BOOST_AUTO_TEST_CASE(missing_gnuplot_leaves_only_the_data_file) {
  TempDir dir;
  LevelsPlotOptions o;
  o.gnuplot = "xgrad-no-such-gnuplot-program";
  const auto plot = quant_levels_visualization((dir / "levels.png"), o);
  BOOST_TEST(!plot.png_written);
  BOOST_TEST(plot.note.find("only the data file") != std::string::npos);
  BOOST_TEST(fs::exists(plot.data_path));
  BOOST_TEST(!fs::exists(plot.png_path));
}

BOOST_AUTO_TEST_CASE(failing_gnuplot_is_an_io_error) {
  TempDir dir;
  LevelsPlotOptions o;
  o.gnuplot = "false";  // exits with status 1
  BOOST_CHECK_EXCEPTION(quant_levels_visualization((dir / "levels.png"), o), IOError,
                        mentions<IOError>("exit status 1"));
}

BOOST_AUTO_TEST_CASE(gnuplot_writing_no_png_is_an_io_error) {
  TempDir dir;
  LevelsPlotOptions o;
  o.gnuplot = "true";  // exits with status 0 and writes nothing
  BOOST_CHECK_EXCEPTION(quant_levels_visualization((dir / "levels.png"), o), IOError,
                        mentions<IOError>("wrote no"));
}

// gnuplot runs `set output '|cmd'` and `plot '<cmd'` through a shell and
// reads a leading '-' as an option: relative names like these must stay
// plain file names.
BOOST_AUTO_TEST_CASE(relative_names_gnuplot_would_interpret_stay_file_names) {
  TempDir dir;
  struct Cwd {
    fs::path old = fs::current_path();
    explicit Cwd(const fs::path& to) { fs::current_path(to); }
    ~Cwd() { fs::current_path(old); }
  } cwd(dir.path);
  for (const std::string name : {"|touch piped.png", "<touch piped.png", "-dash.png"}) {
    BOOST_TEST_CONTEXT(name) {
      const auto plot = quant_levels_visualization(name);
      BOOST_TEST(fs::exists(dir.path / (name.substr(0, name.size() - 4) + ".dat")));
      if (gnuplot_missing(plot)) {
        BOOST_TEST_MESSAGE("gnuplot is not installed: PNG check skipped");
        continue;
      }
      BOOST_TEST(plot.png_written);
      BOOST_TEST(starts_with_png_signature((dir.path / name).string()));
      BOOST_TEST(!fs::exists(dir.path / "piped.png"));  // no shell ran
    }
  }
}

BOOST_AUTO_TEST_CASE(stale_png_is_not_reported_as_rendered) {
  TempDir dir;
  const std::string png = (dir / "levels.png");
  std::ofstream(png) << "old";
  LevelsPlotOptions o;
  o.gnuplot = "xgrad-no-such-gnuplot-program";
  const auto plot = quant_levels_visualization(png, o);
  BOOST_TEST(!plot.png_written);
  BOOST_TEST(!fs::exists(png));
}

BOOST_AUTO_TEST_CASE(bad_options_are_rejected) {
  TempDir dir;
  const std::string png = (dir / "levels.png");
  BOOST_CHECK_EXCEPTION(quant_levels_visualization((dir / "levels.svg")), ValueError,
                        mentions<ValueError>(".png"));
  BOOST_CHECK_THROW(quant_levels_visualization((dir / "a\nb.png")), ValueError);
  LevelsPlotOptions o;
  o.alpha = 0;
  BOOST_CHECK_EXCEPTION(quant_levels_visualization(png, o), ValueError,
                        mentions<ValueError>("alpha"));
  o = LevelsPlotOptions();
  o.alpha = std::nan("");
  BOOST_CHECK_THROW(quant_levels_visualization(png, o), ValueError);
  // Beyond float32's normal range: the levels could not be computed.
  for (const double alpha : {1e300, 1e-60, -1.0, HUGE_VAL}) {
    BOOST_TEST_CONTEXT("alpha = " << alpha) {
      o = LevelsPlotOptions();
      o.alpha = alpha;
      BOOST_CHECK_EXCEPTION(quant_levels_visualization(png, o), ValueError,
                            mentions<ValueError>("alpha"));
    }
  }
  o = LevelsPlotOptions();
  o.points = 1;
  BOOST_CHECK_EXCEPTION(quant_levels_visualization(png, o), ValueError,
                        mentions<ValueError>("points"));
  o.points = kMaxLevelsPlotPoints + 1;  // refused before allocating
  BOOST_CHECK_EXCEPTION(quant_levels_visualization(png, o), ValueError,
                        mentions<ValueError>("points"));
  o.points = std::size_t(-1);
  BOOST_CHECK_THROW(quant_levels_visualization(png, o), ValueError);
  o = LevelsPlotOptions();
  o.b = 12;
  o.k = 4;
  BOOST_CHECK_EXCEPTION(quant_levels_visualization(png, o), ValueError,
                        mentions<ValueError>("b <= 8"));
  o = LevelsPlotOptions();
  o.b = 5;  // not a multiple of k = 2
  BOOST_CHECK_THROW(quant_levels_visualization(png, o), ValueError);
  BOOST_TEST(!fs::exists((dir / "levels.dat")));  // nothing written on bad options
}

BOOST_AUTO_TEST_CASE(directory_named_like_the_png_is_an_io_error_and_kept) {
  TempDir dir;
  fs::create_directory((dir / "levels.png"));
  BOOST_CHECK_EXCEPTION(quant_levels_visualization((dir / "levels.png")), IOError,
                        mentions<IOError>("is a directory"));
  BOOST_TEST(fs::is_directory((dir / "levels.png")));
  BOOST_TEST(!fs::exists((dir / "levels.dat")));
}

BOOST_AUTO_TEST_CASE(unwritable_location_is_an_io_error) {
  BOOST_CHECK_EXCEPTION(quant_levels_visualization("/nonexistent-xgrad-dir/levels.png"), IOError,
                        mentions<IOError>("/nonexistent-xgrad-dir/levels.dat"));
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  r.push_back({"quant_levels_visualization: bad extension",
               raises<ValueError>("quant_levels_visualization", {".png", "got 'plot.jpg'"}),
               [] { quant_levels_visualization("plot.jpg"); }});
  r.push_back({"quant_levels_visualization: alpha 0",
               raises<ValueError>("quant_levels_visualization", {"alpha", "got 0"}), [] {
                 LevelsPlotOptions o;
                 o.alpha = 0;
                 quant_levels_visualization("plot.png", o);
               }});
  r.push_back({"quant_levels_visualization: one point",
               raises<ValueError>("quant_levels_visualization", {"points", "got 1"}), [] {
                 LevelsPlotOptions o;
                 o.points = 1;
                 quant_levels_visualization("plot.png", o);
               }});
}

BOOST_AUTO_TEST_SUITE_END()  // test_visualization
