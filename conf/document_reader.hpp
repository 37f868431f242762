// One YAML document's text -> the objects it declares, added to a load's state: one parse
// function per kind (v1 Service, v1 Pod, apps/v1 Deployment, v1 Secret, svcproxy.io/v1
// ProxyConfig), a kubectl List item by item, anything else skipped with a warning. A
// syntax error is a diagnostic at its place in the file; nothing escapes as an exception.
// Internal to conf/; any thread may read documents, each into a state of its own.
#pragma once

#include "conf/document_split.hpp"
#include "conf/load_state.hpp"
#include "conf/yaml_reader.hpp"

namespace svcproxy::conf {

// Parses `document` and reads what it holds into `state`. `reader` is over the document's
// file and reports into the errors and warnings of `state`. The parsed nodes are freed
// before it returns, by the thread that made them.
void read_document_text(const DocumentText& document, YamlReader& reader, LoadState& state);

}  // namespace svcproxy::conf
