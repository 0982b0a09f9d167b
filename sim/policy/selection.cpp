#include "sim/policy/selection.hpp"

#include <H5Cpp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

namespace hgca {

namespace {

// SplitMix64: a tiny generator whose output is fixed by the seed on every platform (std:: distributions
// are not), so per-head draws are the same everywhere.
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return ((next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }  // (0, 1)
  double normal() {  // Box-Muller, one value per call
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

}  // namespace

namespace {

// One [layers][heads] float64 dataset of shares in [0, 1], mapped onto `layers` x `heads` by relative depth
// and relative index. Returns false when the dataset is absent and `optional`.
bool read_mapped(H5::H5File& f, const std::string& path, const char* name, int layers, int heads, bool optional,
                 std::vector<double>& out) {
  if (!f.nameExists(name)) {
    if (optional) return false;
    throw std::runtime_error(path + ": selection profile has no dataset '" + name +
                             "'; expected [layers][heads] float64");
  }
  std::vector<double> src;
  hsize_t dims[2] = {0, 0};
  try {
    H5::DataSet ds = f.openDataSet(name);
    H5::DataSpace sp = ds.getSpace();
    if (sp.getSimpleExtentNdims() != 2)
      throw std::runtime_error(path + ": '" + name + "' must be 2-D [layers][heads]");
    sp.getSimpleExtentDims(dims);
    if (dims[0] == 0 || dims[1] == 0) throw std::runtime_error(path + ": '" + name + "' is empty");
    src.resize(dims[0] * dims[1]);
    ds.read(src.data(), H5::PredType::NATIVE_DOUBLE);
  } catch (const H5::Exception& e) {
    throw std::runtime_error(path + ": cannot read '" + name + "' (" + e.getDetailMsg() + ")");
  }
  for (double v : src)
    if (!(v >= 0.0 && v <= 1.0))
      throw std::runtime_error(path + ": '" + name + "' holds a value outside [0, 1] (or NaN)");
  const int Ls = static_cast<int>(dims[0]), Hs = static_cast<int>(dims[1]);
  out.assign(static_cast<size_t>(layers) * heads, 0.0);
  for (int l = 0; l < layers; ++l) {
    const int ls = static_cast<int>(static_cast<int64_t>(l) * Ls / layers);
    for (int h = 0; h < heads; ++h) {
      const int hs = static_cast<int>(static_cast<int64_t>(h) * Hs / heads);
      out[static_cast<size_t>(l) * heads + h] = src[static_cast<size_t>(ls) * Hs + hs];
    }
  }
  return true;
}

}  // namespace

SelectionProfile read_selection_profile_file(const std::string& path, const ModelShape& model) {
  H5::Exception::dontPrint();
  SelectionProfile p;
  std::unique_ptr<H5::H5File> f;
  try {
    f = std::make_unique<H5::H5File>(path, H5F_ACC_RDONLY);
  } catch (const H5::Exception& e) {
    throw std::runtime_error(path + ": cannot read selection profile (" + e.getDetailMsg() + ")");
  }
  read_mapped(*f, path, "fraction", model.layers, model.q_heads, false, p.fraction);
  read_mapped(*f, path, "group_fraction", model.layers, model.kv_heads, true, p.group_fraction);
  return p;
}

std::vector<double> read_selection_profile(const std::string& path, const ModelShape& model) {
  return read_selection_profile_file(path, model).fraction;
}

SelectionModel::SelectionModel(const SelectionSpec& spec, const ModelShape& model, uint64_t seed)
    : spec_(spec), layers_(model.layers), q_heads_(model.q_heads), group_(model.q_heads / model.kv_heads) {
  const size_t n = static_cast<size_t>(layers_) * q_heads_;
  switch (spec.source) {
    case SelectionSource::Fraction:
      fraction_.assign(n, spec.fraction);
      break;
    case SelectionSource::TopK:
      fraction_.assign(n, -1.0);
      break;
    case SelectionSource::Distribution: {
      SplitMix64 rng{seed ^ 0x5E1EC7104ull};
      fraction_.resize(n);
      for (double& f : fraction_)
        f = std::clamp(spec.median_fraction * std::exp(spec.sigma * rng.normal()), spec.min_fraction,
                       spec.max_fraction);
      break;
    }
    case SelectionSource::Profile: {
      SelectionProfile p = read_selection_profile_file(spec.profile_path, model);
      fraction_ = std::move(p.fraction);
      group_fraction_ = std::move(p.group_fraction);
      break;
    }
  }
}

double SelectionModel::entries(int layer, int head, double cpu_entries) const {
  if (cpu_entries <= 0) return 0;
  if (spec_.source == SelectionSource::TopK) return std::min<double>(static_cast<double>(spec_.top_k), cpu_entries);
  return std::ceil(fraction_[static_cast<size_t>(layer) * q_heads_ + head] * cpu_entries);
}

double SelectionModel::group_entries(int layer, int kv_head, double cpu_entries) const {
  double m = 0;
  for (int h = kv_head * group_; h < (kv_head + 1) * group_; ++h) m = std::max(m, entries(layer, h, cpu_entries));
  if (!group_fraction_.empty() && cpu_entries > 0)
    m = std::max(m, std::ceil(group_fraction_[static_cast<size_t>(layer) * (q_heads_ / group_) + kv_head] * cpu_entries));
  return m;
}

}  // namespace hgca
