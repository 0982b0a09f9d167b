#include "sim/calibration/measurements_h5.hpp"

#include <H5Cpp.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace hgca {
namespace {

// Splits one CSV line of write_measurements' output (quoted fields allowed).
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') quoted = true;
    else if (c == ',') out.emplace_back();
    else out.back() += c;
  }
  return out;
}

bool is_number(const std::string& s, double* v) {
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

void put_attribute(H5::H5Object& obj, const std::string& key, const std::string& value) {
  const H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  H5::Attribute a = obj.createAttribute(key, type, H5::DataSpace(H5S_SCALAR));
  a.write(type, value);
}

}  // namespace

void write_measurements_h5(const std::string& path, const std::vector<Measurement>& rows,
                           const std::vector<std::pair<std::string, std::string>>& attributes) {
  // The table through the CSV writer: one definition of which column a primitive uses (an empty cell).
  std::ostringstream csv;
  write_measurements(csv, rows);
  std::istringstream in(csv.str());
  std::string line;
  std::vector<std::string> header;
  std::map<std::string, std::vector<std::vector<std::string>>> by_primitive;  // primitive -> rows of cells
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (header.empty()) {
      header = split_csv(line);
      continue;
    }
    std::vector<std::string> cells = split_csv(line);
    cells.resize(header.size());
    by_primitive[cells[0]].push_back(cells);
  }

  const std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  try {
    H5::Exception::dontPrint();
    H5::H5File file(tmp, H5F_ACC_TRUNC);
    for (const auto& [key, value] : attributes) put_attribute(file, key, value);
    for (const auto& [primitive, cells] : by_primitive) {
      H5::Group g = file.createGroup("/" + primitive);
      const hsize_t n = cells.size();
      const H5::DataSpace space(1, &n);
      for (size_t c = 1; c < header.size(); ++c) {
        bool used = header[c] == "time_s", numeric = true;
        std::vector<double> values(n);
        for (size_t r = 0; r < n; ++r) {
          if (!cells[r][c].empty()) used = true;
          if (!cells[r][c].empty() && !is_number(cells[r][c], &values[r])) numeric = false;
        }
        if (!used) continue;
        if (numeric) {
          H5::DataSet d = g.createDataSet(header[c], H5::PredType::NATIVE_DOUBLE, space);
          d.write(values.data(), H5::PredType::NATIVE_DOUBLE);
        } else {
          const H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
          std::vector<const char*> ptrs(n);
          for (size_t r = 0; r < n; ++r) ptrs[r] = cells[r][c].c_str();
          H5::DataSet d = g.createDataSet(header[c], type, space);
          d.write(ptrs.data(), type);
        }
      }
    }
    file.close();
  } catch (const H5::Exception& e) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write " + path + ": " + e.getDetailMsg());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write " + path + ": " + ec.message());
  }
}

}  // namespace hgca
