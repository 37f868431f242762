// Configuration errors and warnings that point at the YAML: FILE:LINE:COL: field.path: message.
#pragma once

#include <string>
#include <vector>

#include "conf/model.hpp"

namespace svcproxy::conf {

struct Diagnostic {
  SourceLocation location;
  std::string field_path;  // e.g. "spec.ports[1].targetPort"; may be empty
  std::string message;

  // "FILE:LINE:COL: field.path: message" (the path part omitted when empty).
  std::string to_string() const;
};

using Diagnostics = std::vector<Diagnostic>;

// Adds a diagnostic about a whole file (or directory), at its first line.
void add_file_diagnostic(Diagnostics& diagnostics, std::string file, std::string message);

}  // namespace svcproxy::conf
