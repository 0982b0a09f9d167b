#include "traces/replay/replay_files.hpp"

#include <H5Cpp.h>

#include <atomic>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <vector>

#include "sim/results/atomic_file.hpp"
#include "traces/replay/report.hpp"

namespace hgca::traces {

namespace {

void attr(H5::H5Object& o, const char* name, const std::string& v) {
  const H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  o.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)).write(type, v);
}
void attr(H5::H5Object& o, const char* name, std::int64_t v) {
  o.createAttribute(name, H5::PredType::STD_I64LE, H5::DataSpace(H5S_SCALAR)).write(H5::PredType::NATIVE_INT64, &v);
}
void attr(H5::H5Object& o, const char* name, double v) {
  o.createAttribute(name, H5::PredType::IEEE_F64LE, H5::DataSpace(H5S_SCALAR)).write(H5::PredType::NATIVE_DOUBLE, &v);
}

template <class T>
void dataset(H5::Group& g, const char* name, const std::vector<T>& data, std::vector<hsize_t> dims, const char* meaning) {
  H5::PredType file_type = H5::PredType::IEEE_F64LE, mem_type = H5::PredType::NATIVE_DOUBLE;
  if constexpr (std::is_same_v<T, float>) {
    file_type = H5::PredType::IEEE_F32LE;
    mem_type = H5::PredType::NATIVE_FLOAT;
  } else if constexpr (std::is_same_v<T, std::int32_t>) {
    file_type = H5::PredType::STD_I32LE;
    mem_type = H5::PredType::NATIVE_INT32;
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    file_type = H5::PredType::STD_I64LE;
    mem_type = H5::PredType::NATIVE_INT64;
  }
  H5::DataSet ds = g.createDataSet(name, file_type, H5::DataSpace(static_cast<int>(dims.size()), dims.data()));
  ds.write(data.data(), mem_type);
  attr(ds, "meaning", std::string(meaning));
}

void common_attrs(H5::Group& f, const ReplayResult& r, const std::string& trace_label) {
  attr(f, "model", r.meta.model_name);
  attr(f, "trace", trace_label);
  attr(f, "policy", r.policy);
  attr(f, "selection_method", r.selection_method);
  attr(f, "shared_kv", std::int64_t{r.shared_kv ? 1 : 0});
  attr(f, "summary_block", std::int64_t{r.summary_block});
  attr(f, "window", r.options.window);
  attr(f, "sinks", r.options.sinks);
  attr(f, "prompt_length", r.meta.prompt_length);
  attr(f, "decode_steps", r.meta.decode_steps);
  attr(f, "layers", std::int64_t{r.meta.num_layers});
  attr(f, "q_heads", std::int64_t{r.meta.num_q_heads});
  attr(f, "kv_heads", std::int64_t{r.meta.num_kv_heads});
  attr(f, "head_dim", std::int64_t{r.meta.head_dim});
}

// Builds the file with HDF5's core driver (never touching the disk), then writes the image atomically.
void write_h5_atomically(const std::string& path, const std::function<void(H5::H5File&)>& fill) {
  write_file_atomically(path, [&](std::ostream& out) {
    static std::atomic<int> serial{0};
    std::vector<char> image;
    try {
      H5::Exception::dontPrint();
      H5::FileAccPropList in_memory;
      in_memory.setCore(1 << 20, /*backing_store=*/false);
      H5::H5File file("hgca-replay-in-memory-" + std::to_string(serial++), H5F_ACC_TRUNC,
                      H5::FileCreatPropList::DEFAULT, in_memory);
      fill(file);
      file.flush(H5F_SCOPE_GLOBAL);
      const ssize_t size = H5Fget_file_image(file.getId(), nullptr, 0);
      if (size < 0) throw std::runtime_error("cannot size the HDF5 image");
      image.resize(static_cast<size_t>(size));
      if (H5Fget_file_image(file.getId(), image.data(), image.size()) != size)
        throw std::runtime_error("cannot copy the HDF5 image");
      file.close();
    } catch (const H5::Exception& e) {
      throw std::runtime_error("HDF5: " + e.getDetailMsg());
    }
    out.write(image.data(), static_cast<std::streamsize>(image.size()));
  });
}

// The paper policy's own figures (docs/REPLAY.md): sparse-set growth and the oracle at the same budget.
void write_paper_group(H5::H5File& f, const ReplayResult& r) {
  const PaperReplayData& p = *r.paper;
  const auto L = static_cast<hsize_t>(r.meta.num_layers), H = static_cast<hsize_t>(r.meta.num_q_heads),
             S = static_cast<hsize_t>(p.selection_heads), T = static_cast<hsize_t>(r.meta.decode_steps);
  H5::Group g = f.createGroup("paper");
  attr(g, "scope", p.scope);
  attr(g, "selection_heads", std::int64_t{p.selection_heads});
  attr(g, "prompt", p.prompt);
  attr(g, "prompt_queries_used", p.prompt_queries_used);
  dataset(g, "sparse_set", p.sparse_set, {L, S, T},
          "sparse-set size per [layer][selection head][step] (selection head: query head, or KV head with scope kv-head)");
  dataset(g, "kept", p.kept, {L, S, T}, "tokens the selection head kept at the step's eviction (0: none)");
  dataset(g, "gpu_tokens", p.gpu_tokens, {T}, "tokens the GPU attends at the step: recall + window + the new token");
  dataset(g, "oracle_rel_l2", p.oracle_rel_l2, {L, H, T}, "relative L2 error of the oracle at the same per-head budget");
  dataset(g, "oracle_cosine", p.oracle_cosine, {L, H, T}, "cosine similarity of the oracle at the same per-head budget");
  dataset(g, "oracle_mass", p.oracle_mass, {L, H, T}, "mass recovered by the oracle at the same per-head budget");
}

}  // namespace

void write_replay_results(const ReplayResult& r, const std::string& path, const std::string& trace_label) {
  const auto L = static_cast<hsize_t>(r.meta.num_layers), H = static_cast<hsize_t>(r.meta.num_q_heads),
             K = static_cast<hsize_t>(r.meta.num_kv_heads), T = static_cast<hsize_t>(r.meta.decode_steps);
  write_h5_atomically(path, [&](H5::H5File& f) {
    attr(f, "format", std::string(kReplayResultsFormat));
    attr(f, "format_version", std::int64_t{kReplayResultsVersion});
    common_attrs(f, r, trace_label);
    attr(f, "seconds", r.seconds);
    attr(f, "cpu_seconds", r.cpu_seconds);
    attr(f, "kv_bytes", r.kv_bytes);
    dataset(f, "rel_l2", r.rel_l2, {L, H, T}, "||hgca - exact|| / ||exact|| per [layer][q_head][step]");
    dataset(f, "cosine", r.cosine, {L, H, T}, "cosine similarity of hgca and exact outputs");
    dataset(f, "mass_recovered", r.mass, {L, H, T}, "exact attention weight of the positions hgca attended");
    dataset(f, "selected", r.selected, {L, H, T}, "CPU-resident entries the query head attended");
    dataset(f, "cpu_resident", r.cpu_resident, {T}, "CPU-resident entries (candidates) at each step");
    dataset(f, "group_selected", r.group_selected, {L, K, T}, "union of a KV group's lists per [layer][kv_head][step]");
    H5::Group cost = f.createGroup("cost");
    dataset(cost, "keys_scored", r.keys_scored, {L, K, T}, "key rows scored by the selection");
    dataset(cost, "summary_rows", r.summary_rows, {L, K, T}, "block-summary rows read by the selection");
    dataset(cost, "state_entries", r.state_entries, {L, K, T}, "accumulator entries read by the selection");
    dataset(cost, "indices", r.indices, {L, K, T}, "indices the selection produced");
    H5::Group summary = f.createGroup("summary");
    std::vector<double> rel(L * H), relmax(L * H), cos(L * H), cosmin(L * H), mass(L * H), massmin(L * H), frac(L * H);
    for (hsize_t l = 0; l < L; ++l)
      for (hsize_t h = 0; h < H; ++h) {
        const QualityStats s = summarize_quality(r, static_cast<int>(l), static_cast<int>(h));
        const size_t i = l * H + h;
        rel[i] = s.rel_l2_mean;
        relmax[i] = s.rel_l2_max;
        cos[i] = s.cosine_mean;
        cosmin[i] = s.cosine_min;
        mass[i] = s.mass_mean;
        massmin[i] = s.mass_min;
        frac[i] = s.selected_fraction;
      }
    dataset(summary, "rel_l2_mean", rel, {L, H}, "mean over steps");
    dataset(summary, "rel_l2_max", relmax, {L, H}, "max over steps");
    dataset(summary, "cosine_mean", cos, {L, H}, "mean over steps");
    dataset(summary, "cosine_min", cosmin, {L, H}, "min over steps");
    dataset(summary, "mass_mean", mass, {L, H}, "mean over steps");
    dataset(summary, "mass_min", massmin, {L, H}, "min over steps");
    dataset(summary, "selected_fraction", frac, {L, H}, "sum selected / sum CPU-resident over steps");
    if (r.paper) write_paper_group(f, r);
  });
}

void write_selection_profile(const ReplayResult& r, const std::string& path, const std::string& trace_label) {
  const auto L = static_cast<hsize_t>(r.meta.num_layers), H = static_cast<hsize_t>(r.meta.num_q_heads),
             K = static_cast<hsize_t>(r.meta.num_kv_heads);
  std::vector<double> fraction(L * H), mass(L * H), rel(L * H);
  std::vector<double> group(L * K), keys(L * K), rows(L * K), state(L * K), indices(L * K);
  for (hsize_t l = 0; l < L; ++l) {
    for (hsize_t h = 0; h < H; ++h) {
      const QualityStats s = summarize_quality(r, static_cast<int>(l), static_cast<int>(h));
      fraction[l * H + h] = s.selected_fraction;
      mass[l * H + h] = s.mass_mean;
      rel[l * H + h] = s.rel_l2_mean;
    }
    for (hsize_t k = 0; k < K; ++k) {
      const CostStats c = summarize_cost(r, static_cast<int>(l), static_cast<int>(k));
      group[l * K + k] = c.group_fraction;
      keys[l * K + k] = c.keys_scored_fraction;
      rows[l * K + k] = c.summary_rows_fraction;
      state[l * K + k] = c.state_fraction;
      indices[l * K + k] = c.indices_fraction;
    }
  }
  write_h5_atomically(path, [&](H5::H5File& f) {
    attr(f, "format", std::string(kSelectionProfileFormat));
    attr(f, "format_version", std::int64_t{kSelectionProfileVersion});
    common_attrs(f, r, trace_label);
    dataset(f, "fraction", fraction, {L, H}, "share of the CPU-resident entries the query head selects");
    dataset(f, "group_fraction", group, {L, K}, "share of the CPU-resident entries a KV group's selections cover (union)");
    dataset(f, "keys_scored_fraction", keys, {L, K}, "key rows scored per CPU-resident entry, per KV group");
    dataset(f, "summary_rows_fraction", rows, {L, K}, "block-summary rows read per CPU-resident entry, per KV group");
    dataset(f, "state_fraction", state, {L, K}, "accumulator entries read per CPU-resident entry, per KV group");
    dataset(f, "indices_fraction", indices, {L, K}, "indices produced per CPU-resident entry, per KV group");
    dataset(f, "mass_recovered", mass, {L, H}, "mean attention mass recovered (informative)");
    dataset(f, "rel_l2", rel, {L, H}, "mean relative L2 error (informative)");
  });
}

}  // namespace hgca::traces
