// Configuration errors and warnings that point at the YAML: FILE:LINE:COL: field.path: message,
// and for the user, errors naming their object as Kubernetes does
// (FILE:LINE:COL: Service "web" is invalid: field.path: message).
#pragma once

#include <string>
#include <vector>

#include "conf/model.hpp"

namespace svcproxy::conf {

struct Diagnostic {
  SourceLocation location;
  std::string field_path;  // e.g. "spec.ports[1].targetPort"; may be empty
  std::string message;
  std::string object = {};  // `Service "web"`: what the error is about; empty when no object

  // "FILE:LINE:COL: field.path: message" (the path part omitted when empty).
  std::string to_string() const;
  // As printed to the user: to_string() with `KIND "name" is invalid: ` before the path,
  // as kubectl and kube-apiserver say it, when the object is known.
  std::string describe() const;
};

// `Service "web"`, for Diagnostic::object.
std::string object_name(std::string_view kind, std::string_view name);

using Diagnostics = std::vector<Diagnostic>;

// Adds a diagnostic about a whole file (or directory), at its first line.
void add_file_diagnostic(Diagnostics& diagnostics, std::string file, std::string message);

}  // namespace svcproxy::conf
