#include "conf/diagnostics.hpp"

namespace svcproxy::conf {

std::string Diagnostic::to_string() const {
  std::string text = location.file + ":" + std::to_string(location.line) + ":" +
                     std::to_string(location.column) + ": ";
  if (!field_path.empty()) text += field_path + ": ";
  return text + message;
}

}  // namespace svcproxy::conf
