// One file's text, a multi-document YAML stream, read into a load's state: cut into
// documents, each document the cache does not know read on its own on every core, and what
// the documents add placed in document order, so the snapshot and every diagnostic are
// exactly those of reading the stream front to back. Internal to conf/.
#pragma once

#include <string>

#include "conf/load_state.hpp"

namespace svcproxy::conf {

// Reads `text` as the file `file` into `state`, using and refreshing `state.cache` when set.
void read_stream(const std::string& text, const std::string& file, LoadState& state);

}  // namespace svcproxy::conf
