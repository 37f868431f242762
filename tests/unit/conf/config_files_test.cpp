#include "conf/config_files.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "conf_test_support.hpp"

namespace svcproxy::conf {
namespace {

using testing::joined;
using testing::TempDir;

std::vector<std::string> names(const std::vector<std::filesystem::path>& files) {
  std::vector<std::string> all;
  for (const auto& file : files)
    all.push_back(file.filename().string());
  return all;
}

}  // namespace

TEST_CASE("a directory names its *.yaml and *.yml files in name order, not recursively") {
  TempDir dir;
  dir.write("2-b.yml", "b");
  dir.write("1-a.yaml", "a");
  dir.write("notes.txt", "c");
  std::filesystem::create_directories(dir.path / "sub");
  dir.write("sub/c.yaml", "d");
  std::filesystem::create_directories(dir.path / "3-dir.yaml");  // not a regular file
  Diagnostics errors, warnings;
  const auto files = config_files(dir.path.string(), errors, warnings);
  INFO(joined(errors) << joined(warnings));
  CHECK(names(files) == std::vector<std::string>{"1-a.yaml", "2-b.yml"});
  CHECK(errors.empty());
  CHECK(warnings.empty());
}

TEST_CASE("a file names itself, whatever its extension") {
  TempDir dir;
  const std::string notes = dir.write("notes.txt", "a");
  Diagnostics errors, warnings;
  const auto files = config_files(notes, errors, warnings);
  REQUIRE(files.size() == 1);
  CHECK(files[0].string() == notes);
  CHECK(errors.empty());
}

TEST_CASE("a missing path is an error, a directory without YAML a warning") {
  TempDir dir;
  Diagnostics errors, warnings;
  const std::string missing = (dir.path / "missing.yaml").string();
  CHECK(config_files(missing, errors, warnings).empty());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == missing + ":1:1: no such file or directory");
  CHECK(warnings.empty());

  errors.clear();
  CHECK(config_files(dir.path.string(), errors, warnings).empty());
  CHECK(errors.empty());
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].to_string() == dir.path.string() + ":1:1: no *.yaml or *.yml files here");
}

TEST_CASE("a file is read whole, bytes as they are") {
  TempDir dir;
  // Appended, not added: GCC 12 at -O2 warns (-Warray-bounds) on `string&& + string&&`.
  std::string text("a: 1\r\n\0b: 2\n", 12);
  text.append(100000, 'x');
  const std::string path = dir.write("a.yaml", text);
  const auto read = read_whole_file(path);
  REQUIRE(read);
  CHECK(*read == text);
  CHECK(read_whole_file(dir.path / "missing.yaml") == std::nullopt);
  CHECK(read_whole_file(dir.path) == std::nullopt);  // not a bad_alloc from its 2^63 size
}

TEST_CASE("a file whose size is unknown up front (procfs) is read whole too") {
  const auto read = read_whole_file("/proc/self/status");
  REQUIRE(read);
  CHECK(read->find("Name:") == 0);
  CHECK(read->back() == '\n');
}

}  // namespace svcproxy::conf
