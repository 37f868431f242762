// Files' texts, each a multi-document YAML stream, read into a load's state: cut into
// documents, each document the cache does not know read on its own on every core, and what
// the documents add placed in document order, so the snapshot and every diagnostic are
// exactly those of reading the streams front to back. Internal to conf/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "conf/load_state.hpp"

namespace svcproxy::conf {

// A stream's text and the file it is read as (diagnostics, the cache); both must outlive
// the read.
struct StreamSource {
  const std::string* file;
  std::string_view text;
};

// Reads each stream, in order, as its file into `state`, using and refreshing `state.cache`
// when set.
void read_streams(const std::vector<StreamSource>& streams, LoadState& state);
void read_stream(const std::string& text, const std::string& file, LoadState& state);

}  // namespace svcproxy::conf
