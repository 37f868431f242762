// Reads configuration files into a validated Snapshot. The only entry point of conf/.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/diagnostics.hpp"
#include "conf/document_cache.hpp"
#include "conf/model.hpp"

namespace svcproxy::conf {

struct LoadResult {
  std::optional<Snapshot> snapshot;  // set only when there are no errors
  Diagnostics errors;                // every error found, in file order
  Diagnostics warnings;              // e.g. one per skipped unknown kind

  bool ok() const { return snapshot.has_value(); }
};

// Each path is a file or a directory of *.yaml / *.yml files (read in name order, not
// recursively); each file is a multi-document YAML stream. Never throws for bad input.
// With a cache, documents whose text and place did not change since the last load are not
// parsed again (reloads); the result is the same as without one.
LoadResult load_files(const std::vector<std::string>& paths, DocumentCache* cache = nullptr);

// A document held in memory rather than in a file: cluster mode's objects from etcd, named
// by their key (diagnostics say "NAME:LINE:COL"); the text is YAML or JSON, and is not
// copied: it must outlive the load (a node's 30 MB of objects are not copied per reload).
struct InlineDocument {
  std::string name;
  std::string_view text;
};

// The files, then each inline document as a stream of its own, with the same cache. The
// inline documents are read together, on every core (one batch, not 60,000 streams), and
// JSON ones without yaml-cpp: 60,000 JSON documents of 500 bytes take 0.4 s on 2 cores
// when the cache has none of them (bench/cluster_propagation.py).
LoadResult load_files(const std::vector<std::string>& paths,
                      const std::vector<InlineDocument>& inline_documents,
                      DocumentCache* cache = nullptr);

// The same for YAML text in memory; `file_name` is used in diagnostics. For tests and tools.
LoadResult load_text(const std::string& yaml_text, const std::string& file_name = "<text>");

}  // namespace svcproxy::conf
