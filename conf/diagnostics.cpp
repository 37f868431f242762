#include "conf/diagnostics.hpp"

#include <utility>

namespace svcproxy::conf {

std::string Diagnostic::to_string() const {
  std::string text = location.file + ":" + std::to_string(location.line) + ":" +
                     std::to_string(location.column) + ": ";
  if (!field_path.empty()) text += field_path + ": ";
  return text + message;
}

std::string Diagnostic::describe() const {
  if (object.empty()) return to_string();
  std::string text = location.file + ":" + std::to_string(location.line) + ":" +
                     std::to_string(location.column) + ": " + object + " is invalid: ";
  if (!field_path.empty()) text += field_path + ": ";
  return text + message;
}

std::string object_name(std::string_view kind, std::string_view name) {
  std::string text(kind);
  text += " \"";
  text += name;
  text += '"';
  return text;
}

// Built member by member in a function of its own: GCC 12 at -O3 read the braced temporary
// these used to be (`push_back({{file, 1, 1}, "", message})`) as maybe-uninitialized in its
// destructor.
void add_file_diagnostic(Diagnostics& diagnostics, std::string file, std::string message) {
  Diagnostic& diagnostic = diagnostics.emplace_back();
  diagnostic.location.file = std::move(file);
  diagnostic.location.line = 1;
  diagnostic.location.column = 1;
  diagnostic.message = std::move(message);
}

}  // namespace svcproxy::conf
