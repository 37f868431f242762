// What one load gathers as it reads file after file and document after document, until
// the loader's last checks (cross-document rules, allocation) turn it into a LoadResult.
// Internal to conf/.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "conf/diagnostics.hpp"
#include "conf/document_cache.hpp"
#include "conf/model.hpp"

namespace svcproxy::conf {

struct LoadState {
  Snapshot snapshot;
  Diagnostics errors;
  Diagnostics warnings;
  std::optional<SourceLocation> proxy_config_at;  // the first ProxyConfig, if any
  bool proxy_config_valid = true;                 // allocation needs its CIDR and range
  std::vector<std::string> files;                 // in load order, to sort diagnostics
  DocumentCache* cache = nullptr;                 // documents parsed by an earlier load
};

}  // namespace svcproxy::conf
