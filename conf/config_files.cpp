#include "conf/config_files.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

namespace svcproxy::conf {
namespace {

namespace fs = std::filesystem;

bool is_yaml_file(const fs::directory_entry& entry) {
  std::error_code ec;
  const auto extension = entry.path().extension();
  return entry.is_regular_file(ec) && (extension == ".yaml" || extension == ".yml");
}

std::vector<fs::path> directory_files(const fs::path& directory, Diagnostics& errors,
                                      Diagnostics& warnings) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory, ec))
    if (is_yaml_file(entry)) files.push_back(entry.path());
  if (ec) add_file_diagnostic(errors, directory.string(), "cannot list: " + ec.message());
  std::sort(files.begin(), files.end());
  if (files.empty() && !ec)
    add_file_diagnostic(warnings, directory.string(), "no *.yaml or *.yml files here");
  return files;
}

}  // namespace

std::vector<fs::path> config_files(const std::string& path, Diagnostics& errors,
                                   Diagnostics& warnings) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return directory_files(path, errors, warnings);
  if (fs::exists(path, ec)) return {path};
  add_file_diagnostic(errors, path, "no such file or directory");
  return {};
}

// Sized from the file where it can be: copying 13 MiB through a stringstream twice showed
// in a reload.
std::optional<std::string> read_whole_file(const fs::path& path) {
  // A directory opens as a stream whose end is at 2^63: sizing the text by it is bad_alloc.
  std::error_code error;
  if (fs::is_directory(path, error)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size > 0) {
    text.resize(static_cast<std::size_t>(size));
    in.read(text.data(), size);
    text.resize(static_cast<std::size_t>(in.gcount()));
  }
  in.clear();  // whatever is past `size` (a file still growing, or one that cannot seek)
  std::ostringstream rest;
  rest << in.rdbuf();
  text += std::move(rest).str();
  return text;
}

}  // namespace svcproxy::conf
