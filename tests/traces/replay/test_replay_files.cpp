// Replay outputs: the results file, the selection profile as the simulator reads it (sim/policy/selection.cpp),
// atomic writes, and a trace written with write_trace replaying exactly like the one in memory.
#include <gtest/gtest.h>

#include <H5Cpp.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "sim/policy/selection.hpp"
#include "traces/replay/random_trace.hpp"
#include "traces/replay/replay.hpp"
#include "traces/replay/replay_files.hpp"
#include "traces/replay/report.hpp"

namespace hgca::traces {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("hgca_replay_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const char* name) const { return (path / name).string(); }
};

TraceMeta meta() {
  TraceMeta m;
  m.model_name = "tiny-traced";
  m.num_layers = 2;
  m.num_q_heads = 4;
  m.num_kv_heads = 2;
  m.head_dim = 8;
  m.prompt_length = 30;
  m.decode_steps = 5;
  return m;
}

ReplayResult run(const TraceSource& t, const std::string& spec, bool shared = false) {
  ReplayOptions o;
  o.window = 6;
  o.sinks = 1;
  return replay(t, *make_policy(spec, {shared}), o);
}

template <class T>
std::vector<T> read_all(H5::H5File& f, const char* name, const H5::PredType& type, std::vector<hsize_t>& dims) {
  H5::DataSet ds = f.openDataSet(name);
  H5::DataSpace sp = ds.getSpace();
  dims.resize(static_cast<size_t>(sp.getSimpleExtentNdims()));
  sp.getSimpleExtentDims(dims.data());
  std::vector<T> v(static_cast<size_t>(sp.getSimpleExtentNpoints()));
  ds.read(v.data(), type);
  return v;
}

std::string string_attr(H5::H5Object& o, const char* name) {
  std::string s;
  H5::Attribute a = o.openAttribute(name);
  a.read(a.getStrType(), s);
  return s;
}

TEST(ReplayFiles, ResultsHoldEveryFigure) {
  TempDir dir;
  const InMemoryTrace t = random_trace(meta(), 5);
  const ReplayResult r = run(t, "topp:p=0.9");
  const std::string path = dir.file("out.h5");
  write_replay_results(r, path, "mem");
  H5::H5File f(path, H5F_ACC_RDONLY);
  EXPECT_EQ(string_attr(f, "format"), "hgca-replay-results");
  EXPECT_EQ(string_attr(f, "policy"), "topp:p=0.9");
  EXPECT_EQ(string_attr(f, "selection_method"), "key-scan");
  std::vector<hsize_t> dims;
  EXPECT_EQ(read_all<float>(f, "rel_l2", H5::PredType::NATIVE_FLOAT, dims), r.rel_l2);
  EXPECT_EQ(dims, (std::vector<hsize_t>{2, 4, 5}));
  EXPECT_EQ(read_all<float>(f, "mass_recovered", H5::PredType::NATIVE_FLOAT, dims), r.mass);
  EXPECT_EQ(read_all<std::int32_t>(f, "selected", H5::PredType::NATIVE_INT32, dims), r.selected);
  EXPECT_EQ(read_all<std::int64_t>(f, "cost/keys_scored", H5::PredType::NATIVE_INT64, dims), r.keys_scored);
  EXPECT_EQ(dims, (std::vector<hsize_t>{2, 2, 5}));
  const auto frac = read_all<double>(f, "summary/selected_fraction", H5::PredType::NATIVE_DOUBLE, dims);
  EXPECT_EQ(frac[1 * 4 + 2], summarize_quality(r, 1, 2).selected_fraction);
}

TEST(ReplayFiles, ProfileDrivesTheSimulatorsSelectionModel) {
  TempDir dir;
  const InMemoryTrace t = random_trace(meta(), 6);
  const ReplayResult r = run(t, "topk:frac=0.2,share=union", true);
  const std::string path = dir.file("profile.h5");
  write_selection_profile(r, path, "mem");

  // Read back onto the traced shape itself: the per-head shares replay measured.
  ModelShape same;
  same.layers = 2;
  same.q_heads = 4;
  same.kv_heads = 2;
  const SelectionProfile p = read_selection_profile_file(path, same);
  ASSERT_EQ(p.fraction.size(), 8u);
  ASSERT_EQ(p.group_fraction.size(), 4u);
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 4; ++h) {
      // Sum selected / sum CPU-resident, by hand from the per-step figures.
      double sel = 0, n = 0;
      for (int s = 0; s < 5; ++s) {
        sel += r.selected[r.head_index(l, h, s)];
        n += static_cast<double>(r.cpu_resident[static_cast<size_t>(s)]);
      }
      EXPECT_DOUBLE_EQ(p.fraction[static_cast<size_t>(l * 4 + h)], sel / n);
      EXPECT_GE(p.fraction[static_cast<size_t>(l * 4 + h)], 0.2 - 1e-12);  // a union holds at least each head's 20%
    }
    for (int k = 0; k < 2; ++k) EXPECT_DOUBLE_EQ(p.group_fraction[static_cast<size_t>(l * 2 + k)], summarize_cost(r, l, k).group_fraction);
  }

  // Onto a larger simulated model: 4 layers x 8 query heads (4 KV heads) by relative depth and index.
  ModelShape big;
  big.layers = 4;
  big.q_heads = 8;
  big.kv_heads = 4;
  SelectionSpec spec;
  spec.source = SelectionSource::Profile;
  spec.profile_path = path;
  spec.granularity = SelectionGranularity::KvHead;
  const SelectionModel model(spec, big, 1);
  // simulated layer 3 -> traced layer 1; query head 5 -> traced head 2; KV head 3 -> traced KV head 1
  EXPECT_EQ(model.fractions()[3 * 8 + 5], p.fraction[1 * 4 + 2]);
  EXPECT_EQ(model.entries(3, 5, 10000), std::ceil(p.fraction[1 * 4 + 2] * 10000));
  EXPECT_EQ(model.group_entries(3, 3, 10000), std::ceil(p.group_fraction[1 * 2 + 1] * 10000));

  H5::H5File f(path, H5F_ACC_RDONLY);
  EXPECT_EQ(string_attr(f, "format"), "hgca-selection-profile");
  EXPECT_EQ(string_attr(f, "policy"), "topk:frac=0.2,share=union");
  EXPECT_EQ(string_attr(f, "model"), "tiny-traced");
}

TEST(ReplayFiles, FailedWritesLeaveNoFile) {
  TempDir dir;
  const ReplayResult r = run(random_trace(meta(), 7), "topk:k=2");
  const std::string blocked = dir.file("not-a-dir");
  { std::ofstream(blocked) << "x"; }
  const std::string path = blocked + "/out.h5";  // parent is a regular file
  try {
    write_replay_results(r, path, "mem");
    FAIL() << "write into a file's 'directory' succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_THROW(write_selection_profile(r, path, "mem"), std::runtime_error);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 1);  // no temporaries
}

TEST(ReplayFiles, AWrittenTraceReplaysLikeTheOneInMemory) {
  TempDir dir;
  const InMemoryTrace t = random_trace(meta(), 8);
  const std::string path = dir.file("trace.h5");
  write_trace(t, path);  // float32 storage: the values read back are the same
  const auto file = open_trace(path);
  for (const char* spec : {"topk:k=3", "block:size=4,k=1", "h2o:k=2"}) {
    const ReplayResult a = run(t, spec), b = run(*file, spec);
    EXPECT_EQ(a.rel_l2, b.rel_l2) << spec;
    EXPECT_EQ(a.mass, b.mass) << spec;
    EXPECT_EQ(a.selected, b.selected) << spec;
  }
}

}  // namespace
}  // namespace hgca::traces
