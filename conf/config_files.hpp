// Which files a --config path names, and reading one of them whole. Problems with a path
// (missing, a directory that cannot be listed or holds no YAML) become diagnostics at the
// path's first line; nothing here knows about YAML beyond the file names. Internal to conf/.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "conf/diagnostics.hpp"

namespace svcproxy::conf {

// `path` itself when it is a file; when it is a directory, its *.yaml and *.yml regular
// files in name order, not recursively (kubectl's manifest folders: `kubectl apply -f DIR`).
// A missing path or an unlistable directory adds an error, a directory without YAML files a
// warning.
std::vector<std::filesystem::path> config_files(const std::string& path, Diagnostics& errors,
                                                Diagnostics& warnings);

// The file's whole content, or nullopt when it cannot be opened.
std::optional<std::string> read_whole_file(const std::filesystem::path& path);

}  // namespace svcproxy::conf
