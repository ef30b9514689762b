#include "input_checks.hpp"

#include <cmath>
#include <filesystem>

#include "xgrad/errors.hpp"

namespace harness {

CLI::Validator positive_finite() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v) || !std::isfinite(v) || !(v > 0))
          return "Value " + text + " is not a finite number > 0";
        return std::string();
      },
      "POSITIVE");
}

DataFiles mnist_files(const std::string& dir, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  auto name = [&dir](const std::string& base) {
    const std::string plain = (std::filesystem::path(dir) / base).string();
    std::error_code ec;
    return std::filesystem::exists(plain + ".gz", ec) ? plain + ".gz" : plain;
  };
  return {name(prefix + "-images-idx3-ubyte"), name(prefix + "-labels-idx1-ubyte")};
}

std::size_t input_features(const ExperimentConfig& c) { return c.net == "mlp" ? 64 : 28 * 28; }

std::string check_split(const Dataset& d, const DataFiles& files, const std::string& split,
                        std::size_t features) {
  const std::string at = "--data: \"" + xgrad::printable(files.features) + "\": ";
  if (d.size() == 0) return at + "no " + split + " rows (an empty file, or one of 0 images)";
  const auto& x = d.features.data();
  const std::size_t width = x.size() / d.size();  // [N, F] or [N, C, H, W]: values per row
  if (width != features) {
    const auto side = static_cast<std::size_t>(std::lround(std::sqrt(double(width))));
    return at + split + " rows of " + std::to_string(width) + " values" +
           (side * side == width ? " (" + std::to_string(side) + "x" + std::to_string(side) + ")"
                                 : std::string()) +
           ", but the net takes " + std::to_string(features) +
           (features == 784 ? " (28x28 images)" : std::string());
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x.data()[i]))
      return at + split + " row " + std::to_string(i / width) + " holds " +
             xgrad::format_message(x.data()[i]) + " at position " + std::to_string(i % width) +
             ": values must be finite";
  }
  const auto& y = d.labels;
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (y.data()[i] < 0 || y.data()[i] >= kClasses)
      return "--data: \"" + xgrad::printable(files.labels) + "\": " + split + " row " +
             std::to_string(i) + " has label " + std::to_string(y.data()[i]) +
             ", but the net has " + std::to_string(kClasses) + " classes (0 to " +
             std::to_string(kClasses - 1) + ")";
  }
  return "";
}

}  // namespace harness
