// Helpers for the conf/ tests: load YAML text as "test.yaml" and look at the diagnostics.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "conf/loader.hpp"

namespace svcproxy::conf::testing {

inline LoadResult load(const std::string& yaml) {
  return load_text(yaml, "test.yaml");
}

// Every diagnostic as "FILE:LINE:COL: path: message", one per line, for readable failures.
inline std::string joined(const Diagnostics& diagnostics) {
  std::string text;
  for (const auto& diagnostic : diagnostics)
    text += diagnostic.to_string() + "\n";
  return text;
}

// The one error `yaml` must produce, as text.
inline std::string only_error(const std::string& yaml) {
  const LoadResult result = load(yaml);
  INFO(joined(result.errors));
  REQUIRE(result.errors.size() == 1);
  CHECK_FALSE(result.ok());
  return result.errors.front().to_string();
}

// The snapshot `yaml` must load into without errors.
inline Snapshot load_ok(const std::string& yaml) {
  const LoadResult result = load(yaml);
  INFO(joined(result.errors));
  REQUIRE(result.ok());
  return *result.snapshot;
}

// A scratch directory removed when the test ends.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("svcproxy-conf-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
  static inline int counter = 0;
};

}  // namespace svcproxy::conf::testing
