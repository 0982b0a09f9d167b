// An attention trace: what one model computed while decoding, enough to recompute every attention output.
//
// Positions: the trace holds `num_positions` tokens, the prompt (`prompt_length` tokens) followed by the
// recorded decode steps (`decode_steps` tokens, so num_positions = prompt_length + decode_steps). For every
// layer it stores the keys and values of all positions (after rotary embedding, per KV head) and the queries
// of the decode steps (after rotary embedding, per query head). Decode step t (0-based) is the token at
// position p = prompt_length + t; its query attends causally to keys/values at positions 0..p inclusive (its
// own key included), scaled by `softmax_scale` (normally 1/sqrt(head_dim)). Query head h reads KV head
// h / (num_q_heads / num_kv_heads) (GQA; MQA is num_kv_heads = 1, MHA is equal counts).
//
// Everything in memory is fp32, row-major; the file may store fp16/bf16/fp32 (FORMAT.md). Readers load one
// (layer, head) at a time, so a 128K-token trace never has to fit in memory at once.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace hgca::traces {

// Any problem with a trace file: one line naming the file, the dataset or attribute, and what was expected.
class TraceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TraceMeta {
  int format_version = 0;
  std::string model_name;        // e.g. "tinylm-code-8l"
  std::string source;            // how it was made: "capture:torch", "capture:transformers", "synth:<fit file>"
  std::string text_source;       // what text was fed (file name or description)
  int num_layers = 0;
  int num_q_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  std::string storage_dtype;     // "float16", "bfloat16" or "float32": how K/V/Q are stored in the file
  double rope_theta = 0.0;       // 0 when the model has no rotary embedding
  std::string rope_scaling;      // free text ("none", "llama3 factor=8 ...")
  double softmax_scale = 0.0;    // usually 1/sqrt(head_dim)
  int64_t prompt_length = 0;
  int64_t decode_steps = 0;
  std::vector<int32_t> tokens;   // token ids of all num_positions positions (may be empty for synthetic traces)
  bool has_outputs = false;      // the model's own attention outputs are stored (for verification)
  // Added with the HDF5 format (FORMAT.md); empty when unknown.
  std::string model_dtype;       // dtype the model computed in while capturing ("float32", "bfloat16", ...)
  std::string decode_mode;       // "teacher-forced" (tokens from a text), "greedy" (generated), "synthetic"
  // Optional prompt queries (format version 2): the queries of these prompt positions (ascending, distinct,
  // each in [0, prompt_length)) are stored, per layer and query head, after rotary embedding. Prompt query at
  // position p attends causally to positions 0..p. Empty: the trace stores none. What needs them: selection
  // made on a multi-token append (HGCA as published reselects every head's CPU-side set from the prompt's
  // attention; `hgca replay --policy paper`).
  std::vector<int64_t> prompt_query_positions;

  int64_t num_prompt_queries() const { return static_cast<int64_t>(prompt_query_positions.size()); }
  bool has_prompt_queries() const { return !prompt_query_positions.empty(); }

  int64_t num_positions() const { return prompt_length + decode_steps; }
  int group_size() const { return num_kv_heads > 0 ? num_q_heads / num_kv_heads : 0; }
  int kv_head_of(int q_head) const { return q_head / group_size(); }
};

// Read access to a trace, whatever holds it (a file, memory, a synthesizer). All methods validate their
// arguments and throw TraceError. Buffers are resized by the callee.
class TraceSource {
 public:
  virtual ~TraceSource() = default;
  virtual const TraceMeta& meta() const = 0;
  // [num_positions][head_dim] keys / values of one KV head of one layer.
  virtual void keys(int layer, int kv_head, std::vector<float>& out) const = 0;
  virtual void values(int layer, int kv_head, std::vector<float>& out) const = 0;
  // [decode_steps][head_dim] queries of one query head of one layer.
  virtual void queries(int layer, int q_head, std::vector<float>& out) const = 0;
  // [decode_steps][head_dim] the model's own attention outputs (before o_proj); only when meta().has_outputs.
  virtual void outputs(int layer, int q_head, std::vector<float>& out) const = 0;
  // [num_prompt_queries][head_dim] queries of one query head at meta().prompt_query_positions; throws
  // TraceError when the trace stores none (the default, for sources that never have them).
  virtual void prompt_queries(int layer, int q_head, std::vector<float>& out) const;
};

// A whole trace in memory: tests, synthesis and small captures. Layouts as in TraceSource:
// k[layer][kv_head] is [num_positions*head_dim], q[layer][q_head] and o[layer][q_head] are [decode_steps*head_dim],
// pq[layer][q_head] is [num_prompt_queries*head_dim] (empty when meta has no prompt query positions).
struct InMemoryTrace : TraceSource {
  TraceMeta m;
  std::vector<std::vector<std::vector<float>>> k, v, q, o, pq;

  const TraceMeta& meta() const override { return m; }
  void keys(int layer, int kv_head, std::vector<float>& out) const override;
  void values(int layer, int kv_head, std::vector<float>& out) const override;
  void queries(int layer, int q_head, std::vector<float>& out) const override;
  void outputs(int layer, int q_head, std::vector<float>& out) const override;
  void prompt_queries(int layer, int q_head, std::vector<float>& out) const override;
  // Checks shapes against meta and that every value is finite; throws TraceError naming what is wrong.
  void validate(const std::string& what = "in-memory trace") const;
};

// Opens and fully validates a trace file (version, attributes, dataset shapes and dtypes against the
// metadata; NaN/Inf are detected when a dataset is read). Keeps the file open; reads are chunk-friendly.
std::unique_ptr<TraceSource> open_trace(const std::string& path);

// Writes a trace atomically (temporary file then rename): on any error no file is left at `path`.
// `storage_dtype` of source.meta() chooses the on-disk type; data are read from `source` one (layer, head)
// at a time, so a synthesizer can stream a long trace without holding it in memory.
void write_trace(const TraceSource& source, const std::string& path);

// The version write_trace writes; open_trace reads kOldestTraceFormatVersion..kTraceFormatVersion (version 1
// has no prompt queries).
inline constexpr int kTraceFormatVersion = 2;
inline constexpr int kOldestTraceFormatVersion = 1;

// Checks the metadata alone (positive sizes, GQA divisibility, lengths, scale, tokens length); throws
// TraceError starting with `what`. InMemoryTrace::validate, the reader and the writer all use it. The
// storage dtype is checked only where a file is read or written (an in-memory trace need not name one).
void validate_meta(const TraceMeta& m, const std::string& what);

// Storage dtypes a file may use (FORMAT.md): "float16", "bfloat16", "float32".
bool is_storage_dtype(const std::string& name);

struct TraceWriteOptions {
  // gzip level 0..9 for K/V/Q/outputs (with the byte-shuffle filter); 0 stores them uncompressed.
  int compression_level = 4;
};
void write_trace(const TraceSource& source, const std::string& path, const TraceWriteOptions& options);

// What `hgca trace info` shows of one dataset of a trace file.
struct TraceDatasetInfo {
  std::string name;             // "/keys"
  std::vector<int64_t> shape;
  std::vector<int64_t> chunk;   // empty when contiguous
  std::string stored_as;        // "float16", "bfloat16 (as uint16)", "float32", "int32", ...
  std::string filters;          // "shuffle+gzip(4)", or "none"
  int64_t stored_bytes = 0;     // bytes on disk (after compression)
};
// Opens and validates `path` like open_trace, then lists its datasets in a fixed order.
std::vector<TraceDatasetInfo> describe_trace_datasets(const std::string& path);

}  // namespace hgca::traces
