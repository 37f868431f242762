// Files -> YAML documents -> one parse function per kind -> cross-document rules ->
// allocation. Every problem becomes a Diagnostic; nothing escapes as an exception. The
// steps live in their own files; this one runs them in order and sorts what they report:
//   config_files     which files each path names, and their text
//   stream_reader    files' documents, on every core, from the cache where unchanged
//   document_reader  one document, by kind
#include "conf/loader.hpp"

#include <algorithm>
#include <exception>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "conf/allocation.hpp"
#include "conf/config_files.hpp"
#include "conf/cross_document.hpp"
#include "conf/load_state.hpp"
#include "conf/stream_reader.hpp"

namespace svcproxy::conf {
namespace {

void read_path(const std::string& path, LoadState& state) {
  for (const auto& file : config_files(path, state.errors, state.warnings)) {
    if (const auto text = read_whole_file(file))
      read_stream(*text, file.string(), state);
    else
      add_file_diagnostic(state.errors, file.string(), "cannot read the file");
  }
}

// Diagnostics in file order (as loaded), then by position: cross-document errors found
// later land next to the document they are about. Each diagnostic's rank is looked up once:
// cluster mode loads 60,000 inline documents, each a file of its own, and searching the file
// list on every comparison made 50,000 errors take over two minutes to sort.
void sort_by_position(Diagnostics& diagnostics, const std::vector<std::string>& files) {
  if (diagnostics.size() < 2) return;
  std::unordered_map<std::string_view, std::size_t> file_rank;
  file_rank.reserve(files.size());
  for (std::size_t i = 0; i < files.size(); ++i)
    file_rank.emplace(files[i], i);  // a file read twice ranks where it was first read
  using Rank = std::tuple<std::size_t, int, int>;
  std::vector<std::pair<Rank, std::size_t>> order;  // rank, then index: a stable sort
  order.reserve(diagnostics.size());
  for (std::size_t i = 0; i < diagnostics.size(); ++i) {
    const SourceLocation& at = diagnostics[i].location;
    const auto found = file_rank.find(at.file);
    const std::size_t rank = found == file_rank.end() ? files.size() : found->second;
    order.push_back({{rank, at.line, at.column}, i});
  }
  std::sort(order.begin(), order.end());
  Diagnostics sorted;
  sorted.reserve(diagnostics.size());
  for (const auto& [rank, index] : order)
    sorted.push_back(std::move(diagnostics[index]));
  diagnostics = std::move(sorted);
}

LoadResult finish(LoadState& state) {
  check_duplicate_names(state.snapshot, state.errors);
  check_tls_secrets(state.snapshot, state.errors);
  inherit_deployment_templates(state.snapshot);
  // An invalid ProxyConfig falls back to defaults; allocating against those would only add
  // confusing errors on top of the real one.
  if (state.proxy_config_valid) allocate(state.snapshot, state.errors);
  sort_by_position(state.errors, state.files);
  sort_by_position(state.warnings, state.files);
  LoadResult result;
  if (state.errors.empty()) result.snapshot = std::move(state.snapshot);
  result.errors = std::move(state.errors);
  result.warnings = std::move(state.warnings);
  return result;
}

}  // namespace

LoadResult load_files(const std::vector<std::string>& paths, DocumentCache* cache) {
  return load_files(paths, {}, cache);
}

LoadResult load_files(const std::vector<std::string>& paths,
                      const std::vector<InlineDocument>& inline_documents, DocumentCache* cache) {
  LoadState state;
  state.cache = cache;
  try {
    for (const auto& path : paths)
      read_path(path, state);
    std::vector<StreamSource> streams;
    streams.reserve(inline_documents.size());
    for (const auto& document : inline_documents)
      streams.push_back({&document.name, document.text});
    read_streams(streams, state);
    if (cache) cache->end_load();
    return finish(state);
  } catch (const std::exception& e) {  // e.g. std::bad_alloc: still a diagnostic, not a crash
    LoadResult result;
    add_file_diagnostic(result.errors, "", std::string("cannot load: ") + e.what());
    return result;
  }
}

LoadResult load_text(const std::string& yaml_text, const std::string& file_name) {
  LoadState state;
  try {
    read_stream(yaml_text, file_name, state);
    return finish(state);
  } catch (const std::exception& e) {
    LoadResult result;
    add_file_diagnostic(result.errors, file_name, std::string("cannot load: ") + e.what());
    return result;
  }
}

}  // namespace svcproxy::conf
