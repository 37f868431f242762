// Files -> YAML documents -> one parse function per kind -> cross-document rules ->
// allocation. Every problem becomes a Diagnostic; nothing escapes as an exception.
#include "conf/loader.hpp"

#include <string.h>
#include <yaml-cpp/exceptions.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <streambuf>
#include <utility>

#include "conf/allocation.hpp"
#include "conf/cross_document.hpp"
#include "conf/parallel.hpp"
#include "conf/parsers.hpp"
#include "conf/yaml_reader.hpp"
#include "conf/yaml_tree.hpp"

namespace svcproxy::conf {
namespace {

namespace fs = std::filesystem;

struct LoadState {
  Snapshot snapshot;
  Diagnostics errors;
  Diagnostics warnings;
  std::optional<SourceLocation> proxy_config_at;  // the first ProxyConfig, if any
  bool proxy_config_valid = true;                 // allocation needs its CIDR and range
  std::vector<std::string> files;                 // in load order, to sort diagnostics
  DocumentCache* cache = nullptr;                 // documents parsed by an earlier load
};

void read_document(YamlReader& reader, const Field& document, LoadState& state);

// A diagnostic about a whole file (or directory), at its first line. Built member by member
// in a function of its own: GCC 12 at -O3 read the braced temporary these used to be
// (`push_back({{file, 1, 1}, "", message})`) as maybe-uninitialized in its destructor.
void add_file_diagnostic(Diagnostics& diagnostics, std::string file, std::string message) {
  Diagnostic& diagnostic = diagnostics.emplace_back();
  diagnostic.location.file = std::move(file);
  diagnostic.location.line = 1;
  diagnostic.location.column = 1;
  diagnostic.message = std::move(message);
}

void read_proxy_config(YamlReader& reader, const Field& document, LoadState& state) {
  if (state.proxy_config_at) {
    const SourceLocation& first = *state.proxy_config_at;
    reader.error(document, "only one ProxyConfig is allowed (the first is at " + first.file + ":" +
                               std::to_string(first.line) + ":" + std::to_string(first.column) +
                               ")");
    return;
  }
  state.proxy_config_at = reader.location(document);
  const std::size_t errors_before = reader.error_count();
  state.snapshot.proxy = parse_proxy_config(reader, document);
  state.proxy_config_valid = reader.error_count() == errors_before;
}

// kubectl's `kind: List` wraps documents in `items`; read each as its own document.
void read_list(YamlReader& reader, const Field& document, LoadState& state) {
  for (const Field& item : reader.items(document.child("items")))
    read_document(reader, item, state);
}

using Handler = std::function<void(YamlReader&, const Field&, LoadState&)>;

const std::map<std::string, Handler>& handlers() {
  static const std::map<std::string, Handler> table = {
      {"v1/Service",
       [](auto& r, auto& d, auto& s) { s.snapshot.services.push_back(parse_service(r, d)); }},
      {"v1/Pod", [](auto& r, auto& d, auto& s) { s.snapshot.pods.push_back(parse_pod(r, d)); }},
      {"apps/v1/Deployment",
       [](auto& r, auto& d, auto& s) { s.snapshot.deployments.push_back(parse_deployment(r, d)); }},
      {"v1/Secret",
       [](auto& r, auto& d, auto& s) {
         if (auto secret = parse_secret(r, d)) s.snapshot.secrets.push_back(std::move(*secret));
       }},
      {"svcproxy.io/v1/ProxyConfig", read_proxy_config},
      {"v1/List", read_list},
  };
  return table;
}

void read_document(YamlReader& reader, const Field& document, LoadState& state) {
  if (!document.present()) return;  // an empty document, e.g. after a trailing "---"
  if (!document.node.is_map()) {
    reader.warning(document, "skipping a document that is not a mapping");
    return;
  }
  const std::string api_version = document.child("apiVersion").node.scalar();
  const std::string kind = document.child("kind").node.scalar();
  auto handler = handlers().find(api_version + "/" + kind);
  if (handler == handlers().end()) {
    reader.warning(document, "skipping unknown kind " + (kind.empty() ? "(none)" : kind) +
                                 (api_version.empty() ? "" : " (apiVersion " + api_version + ")"));
    return;
  }
  handler->second(reader, document, state);
}

struct DocumentText {
  std::string_view text;
  int first_line = 0;  // 0-based line of `text` in the file
};

bool starts_document(std::string_view line) {
  return line.substr(0, 3) == "---" &&
         (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
}

// Calls on_newline(position) for each '\n' in `text`, in order, finding them eight bytes
// at a time: a 13 MiB configuration has 750,000 lines, and stopping at each with memchr,
// or at every '-' when looking for "---", was 15-20 ms of a reload.
template <typename OnNewline>
void for_each_newline(std::string_view text, OnNewline&& on_newline) {
  std::size_t i = 0;
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
    for (; i + 8 <= text.size(); i += 8) {
      std::uint64_t word;
      std::memcpy(&word, text.data() + i, 8);
      const std::uint64_t x = word ^ (kOnes * '\n');  // newline bytes become zero
      // The high bit of each byte set exactly where x has a zero byte.
      for (std::uint64_t zero = ~(((x & kLow7) + kLow7) | x | kLow7); zero; zero &= zero - 1)
        on_newline(i + static_cast<std::size_t>(std::countr_zero(zero)) / 8);
    }
  }
  for (; i < text.size(); ++i)
    if (text[i] == '\n') on_newline(i);
}

// The stream cut at its "---" lines. Parsing one document at a time keeps a 10,000-Service
// file from becoming one huge node graph (page faults and a long free at the end), and a
// syntax error in one document no longer hides the documents after it.
std::vector<DocumentText> split_documents(std::string_view text) {
  std::vector<DocumentText> documents{{text.substr(0, 0), 0}};
  std::size_t start = 0;  // the first line never cuts: nothing is before it
  int line = 0;
  for_each_newline(text, [&](std::size_t newline) {
    ++line;
    const std::size_t pos = newline + 1;
    if (text.size() < pos + 3 || text.compare(pos, 3, "---") != 0) return;
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    if (!starts_document(text.substr(pos, end - pos)) || pos <= start) return;
    documents.back().text = text.substr(start, pos - start);
    documents.push_back({{}, line});
    start = pos;
  });
  documents.back().text = text.substr(start);
  return documents;
}

// A std::istream over text it does not own, pointed at one document after another:
// building a stream (locale and all) per document was 4% of loading 60,000 documents.
class TextStream {
 public:
  TextStream() : stream_(&buffer_) {}
  std::istream& over(std::string_view text) {
    buffer_.point_at(text);
    stream_.clear();
    return stream_;
  }

 private:
  struct Buffer : std::streambuf {
    void point_at(std::string_view text) {
      char* begin = const_cast<char*>(text.data());  // only ever read
      setg(begin, begin, begin + text.size());
    }
  };
  Buffer buffer_;
  std::istream stream_;
};

// One document's parse: the nodes, or yaml-cpp's syntax error (it reports by exception).
struct ParsedDocument {
  std::unique_ptr<YamlTree> tree;
  std::optional<YAML::Mark> syntax_error_mark;
  std::string error;
};

ParsedDocument parse_document(std::string_view text, TextStream& stream) {
  ParsedDocument parsed;
  try {
    parsed.tree = std::make_unique<YamlTree>(stream.over(text), text.size());
  } catch (const YAML::Exception& e) {
    parsed.syntax_error_mark = e.mark;
    parsed.error = "YAML syntax error: " + e.msg;
  } catch (const std::exception& e) {
    parsed.error = std::string("cannot parse: ") + e.what();
  }
  return parsed;
}

void read_parsed(const DocumentText& document, const ParsedDocument& parsed, YamlReader& reader,
                 LoadState& state) {
  reader.set_line_offset(document.first_line);
  if (!parsed.error.empty()) {
    const SourceLocation where = parsed.syntax_error_mark
                                     ? reader.location(*parsed.syntax_error_mark)
                                     : SourceLocation{reader.file(), document.first_line + 1, 1};
    state.errors.push_back({where, "", parsed.error});
    return;
  }
  for (const YamlNode& node : parsed.tree->documents()) {
    try {
      read_document(reader, document_field(node), state);
    } catch (const std::exception& e) {  // a yaml-cpp corner we did not foresee
      reader.error(document_field(node), std::string("cannot read this document: ") + e.what());
    }
  }
}

template <typename T>
void append(std::vector<T>& to, const std::vector<T>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

template <typename T>
void append(std::vector<T>& to, std::vector<T>&& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

// What one document adds when read on its own, away from the load state: any thread can
// do it, and the yaml-cpp nodes are freed by the thread that made them. A ProxyConfig
// cannot be read alone (only one is allowed, so it depends on what came before): such a
// document is left to be read in order.
struct DocumentResult {
  bool has_proxy_config = false;
  DocumentCache::Contribution contribution;
  std::optional<DocumentCache::Contribution> to_cache;  // a copy, when there is a cache
};

void read_alone(const std::string& file, const DocumentText& document, bool keep_copy,
                TextStream& stream, DocumentResult& result) {
  LoadState alone;
  {
    const ParsedDocument parsed = parse_document(document.text, stream);
    YamlReader reader(file, alone.errors, alone.warnings);
    read_parsed(document, parsed, reader, alone);
  }
  if (alone.proxy_config_at) {
    result.has_proxy_config = true;
    return;
  }
  result.contribution = {std::move(alone.snapshot.services),
                         std::move(alone.snapshot.pods),
                         std::move(alone.snapshot.deployments),
                         std::move(alone.snapshot.secrets),
                         std::move(alone.errors),
                         std::move(alone.warnings)};
  if (keep_copy) result.to_cache = result.contribution;
}

// Below this many documents, threads cost more than they save.
constexpr std::size_t kParallelDocuments = 256;
// Documents per piece when contributions are added to the snapshot on several threads.
constexpr std::size_t kPieceDocuments = 128;

// A stream's documents, each either found in the cache or read alone.
struct StreamResults {
  std::vector<const DocumentCache::Contribution*> cached;  // per document; null: read
  std::vector<std::size_t> read_index;                     // per document: its DocumentResult
  std::vector<DocumentResult> read;

  bool needs_order(std::size_t i) const {
    return !cached[i] && read[read_index[i]].has_proxy_config;
  }
  const DocumentCache::Contribution& contribution(std::size_t i) const {
    return cached[i] ? *cached[i] : read[read_index[i]].contribution;
  }
};

// Where the objects of documents [begin, end) go in the snapshot's vectors, and the
// diagnostics they add.
struct Piece {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t services = 0;
  std::size_t pods = 0;
  std::size_t deployments = 0;
  std::size_t secrets = 0;
  Diagnostics errors;
  Diagnostics warnings;
};

// Copies (from the cache) or moves (what was read) `from` into the slots at `at`.
template <typename T>
void place(std::vector<T>& into, std::size_t& at, const std::vector<T>& from) {
  for (const T& object : from)
    into[at++] = object;
}

template <typename T>
void place(std::vector<T>& into, std::size_t& at, std::vector<T>&& from) {
  for (T& object : from)
    into[at++] = std::move(object);
}

// Services and Pods are shared, not copied: the cache and the snapshot hold the same objects.
template <typename T>
void place(SharedList<T>& into, std::size_t& at, const SharedList<T>& from) {
  for (std::size_t i = 0; i < from.size(); ++i)
    into.set(at++, from.shared(i));
}

template <typename From>
void place_document(From&& from, Snapshot& snapshot, Piece& piece) {
  place(snapshot.services, piece.services, std::forward<From>(from).services);
  place(snapshot.pods, piece.pods, std::forward<From>(from).pods);
  place(snapshot.deployments, piece.deployments, std::forward<From>(from).deployments);
  place(snapshot.secrets, piece.secrets, std::forward<From>(from).secrets);
  append(piece.errors, std::forward<From>(from).errors);
  append(piece.warnings, std::forward<From>(from).warnings);
}

// Documents [begin, end), none of which needs reading in order, added to the snapshot: the
// vectors grow once, and pieces of documents are copied or moved into their own slots on
// as many threads as there are cores (Services and Pods are shared, not copied).
void add_run(std::size_t begin, std::size_t end, StreamResults& results, LoadState& state) {
  Snapshot& snapshot = state.snapshot;
  std::vector<Piece> pieces;
  Piece next;  // the slots after the last piece so far
  next.services = snapshot.services.size();
  next.pods = snapshot.pods.size();
  next.deployments = snapshot.deployments.size();
  next.secrets = snapshot.secrets.size();
  for (std::size_t i = begin; i < end; i += kPieceDocuments) {
    Piece piece;
    piece.begin = i;
    piece.end = std::min(end, i + kPieceDocuments);
    piece.services = next.services;
    piece.pods = next.pods;
    piece.deployments = next.deployments;
    piece.secrets = next.secrets;
    for (std::size_t d = piece.begin; d < piece.end; ++d) {
      const auto& from = results.contribution(d);
      next.services += from.services.size();
      next.pods += from.pods.size();
      next.deployments += from.deployments.size();
      next.secrets += from.secrets.size();
    }
    pieces.push_back(std::move(piece));
  }
  snapshot.services.resize(next.services);
  snapshot.pods.resize(next.pods);
  snapshot.deployments.resize(next.deployments);
  snapshot.secrets.resize(next.secrets);
  for_each_index(pieces.size(), kParallelDocuments / kPieceDocuments, [&](std::size_t n) {
    Piece& piece = pieces[n];
    for (std::size_t d = piece.begin; d < piece.end; ++d) {
      if (const auto* cached = results.cached[d])
        place_document(*cached, snapshot, piece);
      else
        place_document(std::move(results.read[results.read_index[d]].contribution), snapshot,
                       piece);
    }
  });
  for (Piece& piece : pieces) {
    append(state.errors, std::move(piece.errors));
    append(state.warnings, std::move(piece.warnings));
  }
}

// Every document not in the cache is read alone, on as many threads as there are cores,
// and the contributions are added in document order, with a ProxyConfig read in its place:
// the snapshot and every diagnostic are exactly those of reading the stream front to back.
void read_stream(const std::string& text, const std::string& file, LoadState& state) {
  state.files.push_back(file);
  const std::vector<DocumentText> documents = split_documents(text);
  StreamResults results;
  results.cached.resize(documents.size());
  results.read_index.resize(documents.size());
  std::vector<std::size_t> to_read;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    if (state.cache)
      results.cached[i] = state.cache->find(file, documents[i].first_line, documents[i].text);
    if (!results.cached[i]) {
      results.read_index[i] = to_read.size();
      to_read.push_back(i);
    }
  }
  results.read.resize(to_read.size());
  const bool keep_copy = state.cache != nullptr;
  for_each_index(to_read.size(), kParallelDocuments, [&](std::size_t n) {
    thread_local TextStream stream;
    read_alone(file, documents[to_read[n]], keep_copy, stream, results.read[n]);
  });

  YamlReader reader(file, state.errors, state.warnings);
  TextStream stream;
  for (std::size_t i = 0; i < documents.size();) {
    if (results.needs_order(i)) {
      read_parsed(documents[i], parse_document(documents[i].text, stream), reader, state);
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < documents.size() && !results.needs_order(end))
      ++end;
    add_run(i, end, results, state);
    i = end;
  }
  for (std::size_t n = 0; n < to_read.size(); ++n) {
    if (!results.read[n].to_cache) continue;
    const DocumentText& document = documents[to_read[n]];
    state.cache->store(file, document.first_line, document.text,
                       std::move(*results.read[n].to_cache));
  }
}

// The whole file in one string, sized from the file where it can be: copying 13 MiB
// through a stringstream twice showed in a reload.
std::string read_all(std::ifstream& in) {
  std::string text;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size > 0) {
    text.resize(static_cast<std::size_t>(size));
    in.read(text.data(), size);
    text.resize(static_cast<std::size_t>(in.gcount()));
  }
  in.clear();  // whatever is past `size` (a file still growing, or one that cannot seek)
  std::ostringstream rest;
  rest << in.rdbuf();
  text += std::move(rest).str();
  return text;
}

void read_file(const fs::path& path, LoadState& state) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    add_file_diagnostic(state.errors, path.string(), "cannot read the file");
    return;
  }
  read_stream(read_all(in), path.string(), state);
}

bool is_yaml_file(const fs::directory_entry& entry) {
  std::error_code ec;
  const auto extension = entry.path().extension();
  return entry.is_regular_file(ec) && (extension == ".yaml" || extension == ".yml");
}

void read_directory(const fs::path& directory, LoadState& state) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory, ec))
    if (is_yaml_file(entry)) files.push_back(entry.path());
  if (ec) add_file_diagnostic(state.errors, directory.string(), "cannot list: " + ec.message());
  std::sort(files.begin(), files.end());
  if (files.empty() && !ec)
    add_file_diagnostic(state.warnings, directory.string(), "no *.yaml or *.yml files here");
  for (const auto& file : files)
    read_file(file, state);
}

void read_path(const std::string& path, LoadState& state) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    read_directory(path, state);
  } else if (fs::exists(path, ec)) {
    read_file(path, state);
  } else {
    add_file_diagnostic(state.errors, path, "no such file or directory");
  }
}

// Diagnostics in file order (as loaded), then by position: cross-document errors found
// later land next to the document they are about.
void sort_by_position(Diagnostics& diagnostics, const std::vector<std::string>& files) {
  auto rank = [&](const Diagnostic& d) {
    auto found = std::find(files.begin(), files.end(), d.location.file);
    return std::make_tuple(found - files.begin(), d.location.line, d.location.column);
  };
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return rank(a) < rank(b); });
}

LoadResult finish(LoadState& state) {
  check_duplicate_names(state.snapshot, state.errors);
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
  LoadState state;
  state.cache = cache;
  try {
    for (const auto& path : paths)
      read_path(path, state);
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
